// The law of the cpuset_spread policy, over a group of cgroups sharing a
// pool of CPUs. A member contends while it waits in the run queue longer
// than `target` at p99 (over at least `min_waits` waits). When two or more
// members contend in the same interval for `rise` intervals in a row, they
// are spread: the pool is cut into disjoint runs of CPUs, one per
// contender, sized by the cores each took (at least one CPU), in NUMA node
// order so that a run stays within a node where it fits; with more than
// one node, a run's nodes are its memory nodes. A member that contends
// later while others are spread joins them, and the pool is cut again. It
// refuses, with a reason, when more members contend than the pool has
// CPUs. The spread members merge back (their cpusets given back) once,
// for `calm` intervals in a row, none waits over `release` and together
// they take at most `merge_load` of their CPUs — and the spread is at
// least a hold old. A spread again within one hold of a merge doubles the
// hold (up to 8x). Pure logic: the policy measures and writes.
#pragma once

#include "sys/cpu_topology.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ballast {

struct cpuset_settings {
  double target_s = 0.004;               // a member's run-queue p99 over it: it contends
  double release_s = 0.002;              // every spread member under it (and light): calm
  int rise = 3;                          // intervals of two or more contenders: spread
  int calm = 5;                          // calm intervals in a row: merge
  double merge_load = 0.5;               // calm also needs their cores <= this x their CPUs
  std::chrono::milliseconds hold{30000}; // least time spread before a merge
  uint64_t min_waits = 20;               // a p99 of fewer waits is not read
};

struct cpuset_reading {
  uint64_t id = 0;
  double cores = 0;
  double runq_p99_s = 0;
  uint64_t waits = 0;
};

// What a spread member is given: cpuset.cpus, and cpuset.mems ("" where the
// pool has one node: left alone).
struct cpuset_assignment {
  std::string cpus;
  std::string mems;
  bool operator==(const cpuset_assignment &) const = default;
};

class cpuset_partition {
public:
  using clock = std::chrono::steady_clock;

  cpuset_partition(cpuset_settings s, sys::cpu_topology pool);

  // One interval: the members' readings (a member without one is idle).
  // Returns every spread member's assignment; empty when none is spread.
  const std::map<uint64_t, cpuset_assignment> &step(const std::vector<cpuset_reading> &members,
                                                    clock::time_point now);

  // The member left the group; the others keep their CPUs, and one left
  // alone is merged back.
  void forget(uint64_t id);

  // Why the last step did not spread members that contend ("" when it did
  // not have to refuse).
  const std::string &refusal() const { return refusal_; }
  // The worst run-queue p99 of a member in the last step (seconds).
  double worst_wait() const { return worst_; }
  const std::map<uint64_t, cpuset_assignment> &assignments() const { return given_; }

private:
  void spread(const std::map<uint64_t, double> &demand, clock::time_point now);
  void merge(clock::time_point now);

  cpuset_settings s_;
  std::vector<unsigned> pool_; // in node order
  std::map<unsigned, unsigned> node_of_;
  bool numa_ = false;
  std::map<uint64_t, double> demand_; // the spread members: the cores each took
  std::map<uint64_t, cpuset_assignment> given_;
  int rising_ = 0, calm_ = 0, hold_factor_ = 1;
  clock::time_point spread_at_;
  std::optional<clock::time_point> merged_at_;
  std::string refusal_;
  double worst_ = 0;
};

} // namespace ballast
