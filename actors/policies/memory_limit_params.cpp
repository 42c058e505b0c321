#include "actors/policies/memory_limit_params.hpp"

namespace ballast {

void read_memory_limit_params(params_reader &r, memory_limit_params &out) {
  r.bytes("limit_min", out.limit_min);
  r.bytes("limit_max", out.limit_max);
  if (out.limit_min > out.limit_max)
    r.fail("limit_min", "must not be above limit_max");
  double hold = out.floor_hold;
  r.number("floor_hold", hold, 0, 1000);
  if (hold != double(int(hold)))
    r.fail("floor_hold", "must be a whole number of intervals");
  out.floor_hold = int(hold);
  r.priority(out.loop.priority);
  r.flag("reclaim", out.loop.use_reclaim);
  std::chrono::milliseconds stall{0}, window{1000};
  r.duration("trigger_stall", stall);
  r.duration("trigger_window", window);
  if (stall > window)
    r.fail("trigger_stall", "must not be longer than trigger_window");
  if (window < std::chrono::milliseconds(500) || window > std::chrono::seconds(10))
    r.fail("trigger_window", "must be from 500ms to 10s (the kernel's range)");
  out.loop.trigger_stall = stall;
  out.loop.trigger_window = window;
}

} // namespace ballast
