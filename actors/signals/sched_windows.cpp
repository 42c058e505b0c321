// See sched_windows.hpp.
#include "actors/signals/sched_windows.hpp"

namespace ballast {

sched_windows::sched_windows(sched_window_settings s)
    : cpu_(s.cpu_half_life), runq_{sample_window(s.window), burst_detector(s.burst)},
      futex_{sample_window(s.window), burst_detector(s.burst)}, io_{sample_window(s.window),
                                                                    burst_detector(s.burst)} {}

void sched_windows::wait_windows::add(clock::time_point t, const log2_histogram &h,
                                      wait_view &out) {
  out.waits = h.total();
  out.p50 = h.quantile(0.5);
  out.p99 = h.quantile(0.99);
  if (out.p50)
    *out.p50 /= 1e9;
  if (out.p99) {
    *out.p99 /= 1e9;
    p99s.add(*out.p99);
    out.burst = bursts.observe(t, *out.p99);
  }
  // An interval without waits keeps the window as it was: nothing to say.
  out.p99_median = p99s.quantile(0.5);
}

void sched_windows::add(clock::time_point t, uint64_t oncpu_ns, uint64_t interval_ns,
                        const log2_histogram &runq, const log2_histogram &futex,
                        const log2_histogram &io) {
  if (interval_ns > 0) {
    view_.cpu_cores = double(oncpu_ns) / double(interval_ns);
    view_.cpu_cores_ewma = cpu_.observe(t, *view_.cpu_cores);
  }
  runq_.add(t, runq, view_.runq);
  futex_.add(t, futex, view_.futex);
  io_.add(t, io, view_.io);
}

} // namespace ballast
