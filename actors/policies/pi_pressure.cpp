// pi_pressure policy (per cgroup): a PI controller holding the cgroup's
// memory pressure (share of time with "some" stall) at a setpoint by moving
// memory.high. See pi_controller.hpp for the law, anti-windup, deadband and
// rate limit.
//   params: setpoint (% of time, default 1), kp, ki, deadband (%),
//           max_step_down, max_step_up, and the memory_limit_params.
#include "actors/laws/pi_controller.hpp"
#include "actors/policies/memory_limit_params.hpp"

namespace ballast {

namespace {

struct pi_params {
  pi_settings law;
  memory_limit_params limits;
};

params_result<pi_params> parse(const std::string &text, const std::string &path) {
  params_result<pi_params> out;
  params_reader r(text, path);
  auto &law = out.value.law;
  r.number("setpoint", law.setpoint_pct, 0.01, 100);
  r.number("kp", law.kp, 0, 10);
  r.number("ki", law.ki, 0, 10);
  r.number("deadband", law.deadband_pct, 0, 100);
  r.number("max_step_down", law.max_step_down, 0, 0.5);
  r.number("max_step_up", law.max_step_up, 0, 10);
  read_memory_limit_params(r, out.value.limits);
  law.limit_min = out.value.limits.limit_min;
  law.limit_max = out.value.limits.limit_max;
  law.floor_hold = out.value.limits.floor_hold;
  out.errors = r.finish();
  return out;
}

class pi_law : public limit_law {
public:
  explicit pi_law(pi_settings s) : controller_(s) {}

  uint64_t step(const limit_input &in, policy_series &series) override {
    double dt = std::max(double(in.elapsed.count()) / 1e6, 1e-3);
    double measured_pct = double(in.stall_us) / 1e6 / dt * 100.0;
    auto out = controller_.step(measured_pct, dt, in.limit, in.sample->current);
    series.setpoint(controller_.settings().setpoint_pct / 100.0);
    series.measured(measured_pct / 100.0);
    return out.output;
  }

private:
  pi_controller controller_;
};

policy_actor spawn(caf::actor_system &sys, const config::policy &cfg, const policy_target &target,
                   const policy_env &env) {
  auto &p = settings_of<pi_params>(cfg);
  return spawn_memory_limit_loop(sys, cfg, target, env, std::make_shared<pi_law>(p.law),
                                 p.limits.loop);
}

} // namespace

extern const policy_type pi_pressure_policy = {
    "pi_pressure",
    "memory.high steered by a PI controller holding the cgroup's memory pressure at a setpoint",
    policy_scope::cgroup, compile_params<parse>, spawn};

} // namespace ballast
