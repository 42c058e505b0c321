// config::parse_duration: the accepted forms, and everything near them that
// must be refused rather than guessed at.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace ballast::config {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsWholeNumbersOfEachUnit) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("5s"), 5s);
  EXPECT_EQ(parse_duration("2m"), 2min);
  EXPECT_EQ(parse_duration("0ms"), 0ms);
  EXPECT_EQ(parse_duration("0s"), 0ms);
  EXPECT_EQ(parse_duration("007s"), 7s);
  EXPECT_EQ(parse_duration("90s"), 90s);
  EXPECT_EQ(parse_duration("1000ms"), 1s);
}

TEST(ParseDuration, AcceptsTheLargestRepresentableValue) {
  EXPECT_EQ(parse_duration("9223372036854775807ms"), milliseconds::max());
}

TEST(ParseDuration, RejectsOverflowInsteadOfWrapping) {
  EXPECT_EQ(parse_duration("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854776s"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999m"), std::nullopt);
}

TEST(ParseDuration, RejectsMissingOrUnknownUnits) {
  for (const char *text : {"5", "5h", "5d", "5us", "5S", "5MS", "5 s", "5sec", "5ms ", "5mss"})
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
}

TEST(ParseDuration, RejectsMissingOrSignedOrFractionalNumbers) {
  for (const char *text : {"", "ms", "s", "-5s", "+5s", " 5s", "1.5s", "1e3ms", "5s5ms", "0x10ms"})
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
}

} // namespace
} // namespace ballast::config
