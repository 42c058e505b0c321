// The params every memory.high policy shares (bounds, claim priority,
// memory.reclaim, PSI trigger), read once for senpai and pi_pressure.
#pragma once

#include "actors/policies/memory_limit_loop.hpp"
#include "actors/policies/params.hpp"

namespace ballast {

struct memory_limit_params {
  uint64_t limit_min = 32ull << 20;
  uint64_t limit_max = no_limit;
  int floor_hold = 10; // see probe_floor.hpp
  limit_options loop;
};

// Reads limit_min, limit_max, floor_hold, priority, reclaim, trigger_stall
// and trigger_window; checks limit_min <= limit_max.
void read_memory_limit_params(params_reader &r, memory_limit_params &out);

} // namespace ballast
