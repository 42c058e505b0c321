// One cgroup's scheduler signals over time, fed the sched source's sample
// each interval: CPU use as an EWMA of cores, and for each kind of wait
// (run queue, futex, block IO) the last interval's p50/p99 from the kernel's
// histogram, the median of the last N interval p99s, and bursts of the p99.
// The cgroup probe keeps one per cgroup; policies read its view.
#pragma once

#include "actors/signals/burst_detector.hpp"
#include "actors/signals/ewma.hpp"
#include "actors/signals/log2_histogram.hpp"
#include "actors/signals/sample_window.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace ballast {

struct sched_window_settings {
  std::chrono::milliseconds cpu_half_life{std::chrono::seconds(10)};
  size_t window = 60; // intervals in the window of p99s
  burst_settings burst;
};

// Seconds; nullopt where nothing waited (last interval) or nothing was seen yet.
struct wait_view {
  std::optional<double> p50, p99;   // last interval
  std::optional<double> p99_median; // median of the last `window` interval p99s
  bool burst = false;               // the p99 is in a burst
  uint64_t waits = 0;               // last interval
};

struct sched_view {
  std::optional<double> cpu_cores;      // last interval: on-CPU seconds per second
  std::optional<double> cpu_cores_ewma; // over cpu_half_life
  wait_view runq, futex, io;
};

class sched_windows {
public:
  using clock = std::chrono::steady_clock;

  explicit sched_windows(sched_window_settings s = {});

  // One interval: on-CPU nanoseconds in it, the interval's length and its
  // histograms (of nanoseconds).
  void add(clock::time_point t, uint64_t oncpu_ns, uint64_t interval_ns, const log2_histogram &runq,
           const log2_histogram &futex, const log2_histogram &io);

  const sched_view &view() const { return view_; }

private:
  struct wait_windows {
    sample_window p99s;
    burst_detector bursts;
    void add(clock::time_point t, const log2_histogram &h, wait_view &out);
  };

  ewma cpu_;
  wait_windows runq_, futex_, io_;
  sched_view view_;
};

} // namespace ballast
