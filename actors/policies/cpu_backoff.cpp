// cpu_backoff policy (per cgroup): the cgroup's cpu.max quota taken down a
// step at a time while the host is under CPU or memory pressure, or the
// cgroup under memory pressure, and given back as the pressure recedes (see
// cpu_quota_backoff.hpp for the law). The pressure of an interval is the
// largest share of it stalled of: the host's CPU ("some", less the time this
// cgroup spent throttled: a throttled cgroup's waiting tasks are counted as
// CPU stall by the kernel, its own and every ancestor's up to the host's, so
// a policy that read CPU pressure as it is would throttle itself down to its
// floor; seen on 6.1: 50% throttling read as 33% host CPU pressure), the
// host's memory, the cgroup's memory. The cgroup's own CPU stall is not a
// reason to throttle it and is not counted.
//   params: threshold, release (% of an interval stalled), calm (intervals),
//           step, min, max (cores; max 0 = the host's CPUs), period (µs of
//           cpu.max's period).
#include "actors/laws/cpu_quota_backoff.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "actors/probe/cgroup_probe.hpp"
#include "messages/protocol.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace ballast {

namespace {

struct cpu_backoff_params {
  cpu_backoff_settings law;
  double period_us = 100'000;
};

params_result<cpu_backoff_params> parse(const std::string &text, const std::string &path) {
  params_result<cpu_backoff_params> out;
  params_reader r(text, path);
  auto &law = out.value.law;
  double calm = law.calm;
  r.number("threshold", law.threshold_pct, 0.1, 100);
  r.number("release", law.release_pct, 0, 100);
  r.number("calm", calm, 1, 1000);
  r.number("step", law.step_cores, 0.01, 1024);
  r.number("min", law.min_cores, 0.01, 1024);
  r.number("max", law.max_cores, 0, 1024);
  r.number("period", out.value.period_us, 1000, 1'000'000);
  law.calm = int(calm);
  if (law.release_pct >= law.threshold_pct)
    r.fail("release", "must be below threshold");
  if (law.max_cores > 0 && law.max_cores <= law.min_cores)
    r.fail("max", "must be above min");
  if (law.min_cores * out.value.period_us < 1000)
    r.fail("min", "min x period must be at least 1000 us (the kernel's smallest quota)");
  out.errors = r.finish();
  return out;
}

// Cumulative stall and throttled time, in µs.
struct stall_totals {
  uint64_t host_cpu = 0;
  uint64_t host_memory = 0;
  uint64_t cgroup_memory = 0;
  uint64_t throttled = 0;
};

result<uint64_t> some_total(const result<std::string> &text) {
  if (!text)
    return text.err();
  auto psi = sys::parse_psi(*text);
  if (!psi)
    return psi.err();
  return psi->some.total_us;
}

// The host's PSI must be there; the cgroup's memory.pressure and
// throttled_usec (cpu controller off) count 0 where they are not.
result<stall_totals> read_totals(const policy_env &env) {
  stall_totals t;
  auto cpu = some_total(sys::read_small_file(env.proc_root + "/pressure/cpu"));
  if (!cpu)
    return cpu.err();
  auto memory = some_total(sys::read_small_file(env.proc_root + "/pressure/memory"));
  if (!memory)
    return memory.err();
  t.host_cpu = *cpu;
  t.host_memory = *memory;
  if (auto m = some_total(env.probe->read(sys::files::memory_pressure)))
    t.cgroup_memory = *m;
  if (auto stat = env.probe->read(sys::files::cpu_stat))
    for (auto &[key, value] : sys::parse_flat_keyed(*stat))
      if (key == "throttled_usec")
        t.throttled = value;
  return t;
}

uint64_t grown(uint64_t now, uint64_t before) {
  return now > before ? now - before : 0;
}

// The interval's pressure, % of it stalled (see the top of the file).
double pressure_pct(const stall_totals &now, const stall_totals &before, double elapsed_us) {
  auto cpu = grown(now.host_cpu, before.host_cpu);
  cpu -= std::min(cpu, grown(now.throttled, before.throttled));
  auto worst = std::max({cpu, grown(now.host_memory, before.host_memory),
                         grown(now.cgroup_memory, before.cgroup_memory)});
  return 100.0 * double(worst) / std::max(elapsed_us, 1.0);
}

struct backoff_state {
  static constexpr const char *name = "cpu-backoff";

  config::policy cfg;
  policy_target target;
  policy_env env;
  double period_us = 0;
  std::unique_ptr<cpu_quota_backoff> law;
  std::unique_ptr<policy_series> series;
  std::unique_ptr<policy_presence> presence;
  std::optional<stall_totals> last;
  caf::actor_clock::time_point last_at;
  std::optional<double> held; // the quota this policy's claim holds, cores
  bool unreadable = false;    // the last read failed (logged once)
};

using backoff_actor = policy_actor::stateful_pointer<backoff_state>;

std::string cpu_max_text(double cores, double period_us) {
  auto quota = std::max<long long>(1000, std::llround(cores * period_us));
  return std::to_string(quota) + " " + std::to_string(std::llround(period_us));
}

void apply(backoff_actor self, std::optional<double> quota, const std::string &why) {
  auto &st = self->state;
  if (quota == st.held) {
    st.series->decision("hold");
    return;
  }
  st.series->decision(!quota ? "lift" : !st.held || *quota < *st.held ? "lower" : "raise");
  if (!quota) {
    log::info(st.cfg.name, st.target.cgroup_path, ": cpu.max back to its original (", why, ")");
    self->send(st.env.cgroup, atom::unclaim_v, std::string(knobs::cpu_max.name));
    st.held = std::nullopt;
    return;
  }
  self->request(st.env.cgroup, caf::infinite,
                claim_request{std::string(knobs::cpu_max.name), cpu_max_text(*quota, st.period_us),
                              0, why})
      .then([=](claim_reply &) { self->state.held = quota; },
            [=](caf::error &e) {
              log::warn(self->state.cfg.name, "cpu.max claim in ", self->state.target.cgroup_path,
                        " refused: ", to_string(e));
            });
}

void step(backoff_actor self) {
  auto &st = self->state;
  auto totals = read_totals(st.env);
  if (!totals) {
    if (!st.unreadable)
      log::warn(st.cfg.name, st.target.cgroup_path,
                ": cannot read pressure (needs PSI): ", totals.err().message);
    st.unreadable = true;
    return;
  }
  st.unreadable = false;
  auto now = self->clock().now();
  auto before = std::exchange(st.last, *totals);
  auto elapsed = std::chrono::duration<double, std::micro>(now - st.last_at).count();
  st.last_at = now;
  if (!before)
    return;
  double pct = pressure_pct(*totals, *before, elapsed);
  auto quota = st.law->step(pct);
  st.series->measured(pct / 100);
  st.series->output(quota.value_or(st.law->ceiling()));
  char why[96];
  std::snprintf(why, sizeof why, "%s: %.1f%% stalled in %.0f ms", st.cfg.name.c_str(), pct,
                elapsed / 1000);
  apply(self, quota, why);
}

policy_actor::behavior_type cpu_backoff(backoff_actor self, config::policy cfg,
                                        policy_target target, policy_env env) {
  auto &st = self->state;
  auto &p = settings_of<cpu_backoff_params>(cfg);
  st.series = std::make_unique<policy_series>(env.metrics, cfg.name, target.cgroup_path);
  st.presence = std::make_unique<policy_presence>(env.metrics, cfg.name);
  st.series->setpoint(p.law.threshold_pct / 100);
  st.period_us = p.period_us;
  st.law = std::make_unique<cpu_quota_backoff>(p.law, double(sysconf(_SC_NPROCESSORS_ONLN)));
  st.cfg = std::move(cfg);
  st.target = std::move(target);
  st.env = std::move(env);
  return step_on_interval(self, st.cfg.interval, step);
}

compiled_params compile(const config::policy &p, const std::string &path) {
  return compiled(parse(p.params, path));
}

policy_actor spawn(caf::actor_system &sys, const config::policy &cfg, const policy_target &target,
                   const policy_env &env) {
  return sys.spawn(cpu_backoff, cfg, target, env);
}

} // namespace

extern const policy_type cpu_backoff_policy = {
    "cpu_backoff",
    "cpu.max quota stepped down while the host's CPU or memory pressure (or the cgroup's memory "
    "pressure) stays above a threshold, given back as it recedes",
    policy_scope::cgroup, compile, spawn};

} // namespace ballast
