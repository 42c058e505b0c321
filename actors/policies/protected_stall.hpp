// The stall of the cgroups a policy protects, as cpu_backoff (their CPU) and
// io_limit (their IO) read it: cumulative PSI "some" time, and the share of
// an interval it grew by.
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ballast {

// A pressure file's cumulative "some" stall, µs.
result<uint64_t> some_total(const result<std::string> &text);

// How much a cumulative counter grew (0 if it went back: a cgroup made anew).
inline uint64_t grown(uint64_t now, uint64_t before) {
  return now > before ? now - before : 0;
}

// Each path's `file` ("cpu.pressure") "some" total, by position; a cgroup
// that is not there (yet) counts 0.
std::vector<uint64_t> some_totals(const std::string &cgroup_root,
                                  const std::vector<std::string> &paths, std::string_view file);

// The largest growth of one of them between two reads, µs.
uint64_t worst_growth(const std::vector<uint64_t> &now, const std::vector<uint64_t> &before);

// The protected paths less the policy's cgroup `self` and its ancestors,
// each left out with a warning: the kernel counts the tasks a throttled
// cgroup holds back as stall in every ancestor too, so a policy watching
// one would throttle itself down to its floor.
std::vector<std::string> protected_others(const std::vector<std::string> &protect,
                                          const std::string &self, const std::string &policy);

} // namespace ballast
