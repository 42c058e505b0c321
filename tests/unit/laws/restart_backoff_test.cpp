// When a failed actor starts again: 100, 200, 400, 800 ms, then parked; a
// long run in between starts a new row; the delay never passes 10 s.
#include "actors/laws/restart_backoff.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

using namespace std::chrono_literals;
using clock = restart_backoff::clock;

TEST(RestartBackoff, DoublesThenParksAtTheFifthFailureInARow) {
  restart_backoff b;
  auto t = clock::time_point{} + 1h;
  for (auto want : {100ms, 200ms, 400ms, 800ms}) {
    auto d = b.failed(t);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, want);
    t += *d;
    b.started(t);
    t += 1s; // runs a second, fails again
  }
  EXPECT_FALSE(b.failed(t)) << "parked";
  EXPECT_EQ(b.in_a_row(), 5u);
}

TEST(RestartBackoff, ARunOfAMinuteStartsANewRow) {
  restart_backoff b;
  auto t = clock::time_point{} + 1h;
  ASSERT_EQ(*b.failed(t), 100ms);
  b.started(t);
  ASSERT_EQ(*b.failed(t + 59s), 200ms);
  b.started(t + 60s);
  EXPECT_EQ(*b.failed(t + 120s), 100ms);
  EXPECT_EQ(b.in_a_row(), 1u);
}

TEST(RestartBackoff, TheDelayIsCappedAtTenSeconds) {
  EXPECT_EQ(restart_backoff::first * (1u << (restart_backoff::park_after - 2)), 800ms);
  EXPECT_LE(restart_backoff::first * (1u << (restart_backoff::park_after - 2)),
            restart_backoff::longest);
}

} // namespace
} // namespace ballast
