// Whether the sched source is reading, as the cgroup actors see it. The
// source sends a batch every interval with only the cgroups its maps know:
// one whose tasks have not run since the source loaded gets no sample. The
// registry beats this at each batch, so a probe with no recent sample of its
// own can tell "nothing of this cgroup ran" (telemetry adds nothing) from
// "the source is off or failed" (telemetry reads /proc/PID/stat instead).
// A probe keeps one of its own too, beaten by its cgroup's samples.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace ballast {

class sched_heartbeat {
public:
  using time_point = std::chrono::steady_clock::time_point;

  // A batch of the source loaded at loaded_ns (CLOCK_MONOTONIC), read every
  // `every`, arrived at `now` (the actor clock).
  void beat(uint64_t loaded_ns, std::chrono::nanoseconds every, time_point now);

  // The load of the source that beat within three of its intervals before
  // `now`; nullopt if none did.
  std::optional<uint64_t> alive(time_point now) const;

private:
  mutable std::mutex mutex_;
  std::optional<time_point> at_;
  std::chrono::steady_clock::duration every_{};
  uint64_t loaded_ns_ = 0;
};

} // namespace ballast
