// What the memory policies read of a cgroup at each step, and the one rule
// on whether throttling it can do any good.
#pragma once

#include "actors/probe/cgroup_probe.hpp"
#include "sys/result.hpp"

#include <cstdint>
#include <limits>
#include <string>

namespace ballast {

inline constexpr uint64_t no_limit = std::numeric_limits<uint64_t>::max();

struct memory_sample {
  uint64_t current = 0;       // memory.current
  uint64_t high = no_limit;   // memory.high ("max" = no_limit)
  uint64_t stall_some_us = 0; // memory.pressure some total
  uint64_t anon = 0;          // memory.stat anon
  uint64_t file = 0;          // memory.stat file
  bool swap = false;          // the host has swap and memory.swap.max is not 0

  // Throttling only helps where something can be reclaimed: refused when
  // there is no swap and anonymous memory is most of the usage.
  bool reclaimable() const { return swap || anon * 2 <= current; }
};

// Reads memory.current, memory.high, memory.pressure, memory.stat and
// memory.swap.max through the probe, and SwapTotal from proc_root/meminfo.
result<memory_sample> read_memory_sample(cgroup_probe &probe, const std::string &proc_root);

// "max" or a byte count, as memory.high and memory.max hold them.
std::optional<uint64_t> parse_limit(std::string_view text);

// The value to write for a limit: "max" for no_limit, else the bytes.
std::string limit_text(uint64_t bytes);

} // namespace ballast
