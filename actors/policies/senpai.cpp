// senpai policy (per cgroup): keeps memory.high just above what the workload
// needs, after Meta's senpai: each interval, lower the limit while memory
// stall stays below a small target, back off when it goes over. See
// senpai_controller.hpp for the control law.
//   params: stall_target ("10ms" per interval), coeff_probe, max_probe,
//           coeff_backoff, max_backoff, and the memory_limit_params.
#include "actors/laws/senpai_controller.hpp"
#include "actors/policies/memory_limit_loop.hpp"
#include "actors/policies/memory_limit_params.hpp"

namespace ballast {

namespace {

struct senpai_params {
  senpai_settings law;
  memory_limit_params limits;
};

params_result<senpai_params> parse(const std::string &text, const std::string &path,
                                   std::chrono::milliseconds interval) {
  params_result<senpai_params> out;
  params_reader r(text, path);
  auto &law = out.value.law;
  law.interval = interval;
  std::chrono::milliseconds target{10};
  r.duration("stall_target", target);
  if (target.count() < 1)
    r.fail("stall_target", "must be at least 1ms");
  law.stall_target_us = uint64_t(target.count()) * 1000;
  r.number("coeff_probe", law.coeff_probe, 0, 1000);
  r.number("max_probe", law.max_probe, 0, 0.5);
  r.number("coeff_backoff", law.coeff_backoff, 0, 1000);
  r.number("max_backoff", law.max_backoff, 0, 10);
  read_memory_limit_params(r, out.value.limits);
  law.limit_min = out.value.limits.limit_min;
  law.limit_max = out.value.limits.limit_max;
  law.floor_hold = out.value.limits.floor_hold;
  out.errors = r.finish();
  return out;
}

class senpai_law : public limit_law {
public:
  explicit senpai_law(senpai_settings s) : controller_(s) {}

  uint64_t step(const limit_input &in, policy_series &series) override {
    auto out = controller_.step(in.stall_us, in.elapsed, in.sample->current, in.limit);
    series.setpoint(double(controller_.settings().stall_target_us) / 1e6);
    series.measured(out.stall_us / 1e6);
    return out.limit;
  }

private:
  senpai_controller controller_;
};

compiled_params compile(const config::policy &p, const std::string &path) {
  return compiled(parse(p.params, path, p.interval));
}

policy_actor spawn(caf::actor_system &sys, const config::policy &cfg, const policy_target &target,
                   const policy_env &env) {
  auto &p = settings_of<senpai_params>(cfg);
  return spawn_memory_limit_loop(sys, cfg, target, env, std::make_shared<senpai_law>(p.law),
                                 p.limits.loop);
}

} // namespace

extern const policy_type senpai_policy = {
    "senpai",
    "memory.high just above what the cgroup needs: probe down while memory stall stays under a "
    "small target, back off above it (after Meta's senpai)",
    policy_scope::cgroup, compile, spawn};

} // namespace ballast
