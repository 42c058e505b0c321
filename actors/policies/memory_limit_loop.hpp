// The actor loop shared by the policies that steer a cgroup's memory.high
// (senpai, pi_pressure): sample the cgroup each interval, ask the policy's
// control law for a limit, refuse to lower it where nothing can be reclaimed,
// reclaim the difference with memory.reclaim first where the kernel has it
// (so the memory.high write itself does not stall), claim memory.high, and
// export the controller state. A PSI trigger may tick the loop early.
#pragma once

#include "actors/policies/memory_sample.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"

#include <chrono>
#include <memory>

namespace ballast {

struct limit_input {
  uint64_t stall_us = 0;                // memory "some" stall since the last step
  std::chrono::microseconds elapsed{0}; // since the last step
  const memory_sample *sample = nullptr;
  uint64_t limit = no_limit; // the memory.high in force
};

// One policy's control law; it also sets the setpoint and measured series.
class limit_law {
public:
  virtual ~limit_law() = default;
  virtual uint64_t step(const limit_input &in, policy_series &series) = 0;
};

struct limit_options {
  int32_t priority = 0;    // of the memory.high claim
  bool use_reclaim = true; // reclaim before lowering memory.high
  // A PSI trigger on the cgroup's memory.pressure ticks the loop early when
  // this much "some" stall happens within trigger_window; 0 = none.
  std::chrono::microseconds trigger_stall{0};
  std::chrono::microseconds trigger_window{std::chrono::seconds(1)};
};

policy_actor spawn_memory_limit_loop(caf::actor_system &sys, const config::policy &cfg,
                                     const policy_target &target, const policy_env &env,
                                     std::shared_ptr<limit_law> law, limit_options opts);

} // namespace ballast
