// What the actor tests of the run-queue policies send in place of the sched
// source: one second's sample of a cgroup, with its run-queue waits.
#pragma once

#include "messages/protocol.hpp"

#include <cstdint>
#include <vector>

namespace ballast::test {

// `slots` (a log2 histogram's counts) with `n` waits of `ns` each added.
inline std::vector<uint64_t> runq_waits(uint64_t n, uint64_t ns, std::vector<uint64_t> slots = {}) {
  auto slot = log2_histogram::slot_of(ns);
  slots.resize(std::max(slots.size(), slot + 1));
  slots[slot] += n;
  return slots;
}

// A read of a 1 s interval by a source loaded once: the cgroup's on-CPU
// time so far and its waits in the interval.
inline sched_sample sched_second(uint64_t cgroup_id, uint64_t oncpu_ns,
                                 std::vector<uint64_t> runq) {
  sched_sample s;
  s.cgroup_id = cgroup_id;
  s.interval_ns = 1'000'000'000;
  s.loaded_ns = 1;
  s.oncpu_ns = s.weighted_ns = oncpu_ns;
  s.runq = std::move(runq);
  return s;
}

} // namespace ballast::test
