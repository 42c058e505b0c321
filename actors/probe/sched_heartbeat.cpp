// sched_heartbeat; see sched_heartbeat.hpp.
#include "actors/probe/sched_heartbeat.hpp"

#include <algorithm>

namespace ballast {

void sched_heartbeat::beat(uint64_t loaded_ns, std::chrono::nanoseconds every, time_point now) {
  using namespace std::chrono_literals;
  std::lock_guard guard{mutex_};
  at_ = now;
  every_ = std::max<std::chrono::steady_clock::duration>(every, 1s);
  loaded_ns_ = loaded_ns;
}

std::optional<uint64_t> sched_heartbeat::alive(time_point now) const {
  std::lock_guard guard{mutex_};
  if (!at_ || now - *at_ > 3 * every_)
    return std::nullopt;
  return loaded_ns_;
}

} // namespace ballast
