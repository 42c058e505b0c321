// The law of the cpu_weight policy, over a group of cgroups. Some members
// are protected (latency-sensitive: the operator names them), the others
// are candidates; without any protected member, a member that takes more
// than its share of the group's CPU (the group's on-CPU cores over its
// members) is a candidate and one within its share is protected. A demoted
// member stays a candidate until it is let go, and counts in the share with
// the cores it took when first demoted: what it takes while demoted is the
// policy's doing, and would otherwise make the member it protects look
// heavy. While a protected member waits in the run queue longer than
// `target` at p99, every candidate taking at least `min_cores` has its
// cpu.weight halved, an interval at a time, down to `min`. While the worst
// such wait is between `release` and `target`, weights hold. They hold too
// while the contention lasts — a protected member still runs (its waits are
// counted) and a demoted one still takes `min_cores` — however low the wait:
// the wait is low because of the demotion, and giving the weight back to
// find out would hurt the protected member once per hold (cpu.weight is
// work-conserving: a demoted member still gets every idle cycle). Once the
// contention is gone and the wait has stayed under `release` for `calm`
// intervals in a row, a demoted member
// whose last step down is at least its hold old gets its weight doubled per
// interval and, at `max`, is let go (its own weight back). A wait that comes
// back over the target within one hold of a member's step up doubles that
// member's hold (up to 8x): a weight that was needed is not given back as
// soon next time; a member let go and calm for a whole hold is forgotten,
// its hold with it. Pure logic: the policy measures and writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace ballast {

struct cpu_weight_settings {
  double target_s = 0.004;  // protected members' run-queue p99 over it: demote
  double release_s = 0.002; // under it for `calm` intervals: give back
  int calm = 3;
  std::chrono::milliseconds hold{10000}; // least time at a weight before a step up
  uint32_t min = 10;                     // the floor
  uint32_t max = 100;                    // where a member is let go
  double min_cores = 0.1;                // a candidate is demoted only above this much CPU
  uint64_t min_waits = 20;               // a p99 of fewer waits is not read
};

// One member's last interval, as the sched source saw it.
struct weight_reading {
  uint64_t id = 0;
  double cores = 0;
  double runq_p99_s = 0;
  uint64_t waits = 0;
  bool protect = false; // named by the operator: never demoted, its wait counts
};

class cpu_weight_demotion {
public:
  using clock = std::chrono::steady_clock;

  explicit cpu_weight_demotion(cpu_weight_settings s) : s_(s) {}

  // One interval over the members read in it: the weights to hold after it,
  // by member id (a member not in the map is let go).
  const std::map<uint64_t, uint32_t> &step(const std::vector<weight_reading> &members,
                                           clock::time_point now);

  // The member left the group: its weight is no longer held.
  void forget(uint64_t id) { held_.erase(id); }

  // The worst run-queue p99 of a protected member in the last step (seconds).
  double worst_wait() const { return worst_; }
  const std::map<uint64_t, uint32_t> &weights() const { return weights_; }

private:
  struct held {
    uint32_t weight = 0;
    double demand = 0;                      // its cores when first demoted
    clock::time_point down_at;              // the last step down
    std::optional<clock::time_point> up_at; // the last step up since then
    int hold_factor = 1;                    // x hold: doubled by each relapse
  };

  bool demoted(uint64_t id) const;
  void demote(const weight_reading &m, clock::time_point now);
  void give_back(clock::time_point now);

  cpu_weight_settings s_;
  std::map<uint64_t, held> held_;
  std::map<uint64_t, uint32_t> weights_;
  int calm_ = 0;
  double worst_ = 0;
};

} // namespace ballast
