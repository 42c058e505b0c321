// cpu_backoff policy (per cgroup): the cgroup's cpu.max quota taken down a
// step at a time while the cgroups it protects wait for CPU, or the host or
// the cgroup is under memory pressure, and given back as the pressure recedes
// (see pressure_backoff.hpp for the law). The pressure of an interval is the
// largest share of it stalled of: each protected cgroup's CPU ("some"), the
// host's memory, the cgroup's memory.
// The host's CPU pressure is not read: the kernel counts a throttled cgroup's
// waiting tasks as CPU stall in its own cpu.pressure and in every ancestor's
// up to the host's (on 6.1: a hog throttled to 50% read as 33% "some" in
// both), so a policy reading it would throttle itself down to its floor; and
// throttled_usec, which could be taken off, is summed over CPUs (10 s in 15
// s of 2 CPUs here), so taking it off hides the others' stall instead. A
// protected cgroup that holds this one is left out for the same reason.
//   params: protect (cgroup paths), threshold, release (% of an interval
//           stalled), calm (intervals), step, min, max (cores; max 0 = the
//           host's CPUs), period (µs of cpu.max's period).
#include "actors/laws/pressure_backoff.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "actors/policies/protected_stall.hpp"
#include "actors/probe/cgroup_probe.hpp"
#include "messages/protocol.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace ballast {

namespace {

struct cpu_backoff_params {
  backoff_settings law;
  double period_us = 100'000;
  std::vector<std::string> protect;
};

params_result<cpu_backoff_params> parse(const std::string &text, const std::string &path) {
  params_result<cpu_backoff_params> out;
  params_reader r(text, path);
  auto &law = out.value.law;
  double calm = law.calm;
  r.number("threshold", law.threshold_pct, 0.1, 100);
  r.number("release", law.release_pct, 0, 100);
  r.number("calm", calm, 1, 1000);
  r.number("step", law.step, 0.01, 1024);
  r.number("min", law.min, 0.01, 1024);
  r.number("max", law.max, 0, 1024);
  r.number("period", out.value.period_us, 1000, 1'000'000);
  r.texts("protect", out.value.protect);
  for (auto &path : out.value.protect)
    if (path.empty() || path[0] != '/')
      r.fail("protect", "each must be a cgroup path from the cgroup2 root, like \"/app\"");
  law.calm = int(calm);
  if (law.release_pct >= law.threshold_pct)
    r.fail("release", "must be below threshold");
  if (law.max > 0 && law.max <= law.min)
    r.fail("max", "must be above min");
  if (law.min * out.value.period_us < 1000)
    r.fail("min", "min x period must be at least 1000 us (the kernel's smallest quota)");
  out.errors = r.finish();
  return out;
}

// Cumulative stall, in µs: the protected cgroups' CPU, by position.
struct stall_totals {
  std::vector<uint64_t> protected_cpu;
  uint64_t host_memory = 0;
  uint64_t cgroup_memory = 0;
};

// The host's memory PSI must be there; a protected cgroup that is not (yet)
// and the cgroup's memory.pressure count 0.
result<stall_totals> read_totals(const policy_env &env, const std::vector<std::string> &protect) {
  stall_totals t;
  auto memory = some_total(sys::read_small_file(env.proc_root + "/pressure/memory"));
  if (!memory)
    return memory.err();
  t.host_memory = *memory;
  if (auto m = some_total(env.probe->read(sys::files::memory_pressure)))
    t.cgroup_memory = *m;
  t.protected_cpu = some_totals(env.cgroup_root, protect, sys::files::cpu_pressure);
  return t;
}

// The interval's pressure, % of it stalled (see the top of the file).
double pressure_pct(const stall_totals &now, const stall_totals &before, double elapsed_us) {
  auto worst = std::max({grown(now.host_memory, before.host_memory),
                         grown(now.cgroup_memory, before.cgroup_memory),
                         worst_growth(now.protected_cpu, before.protected_cpu)});
  return 100.0 * double(worst) / std::max(elapsed_us, 1.0);
}

struct backoff_state {
  static constexpr const char *name = "cpu-backoff";

  config::policy cfg;
  policy_target target;
  policy_env env;
  double period_us = 0;
  std::vector<std::string> protect;
  std::unique_ptr<pressure_backoff> law;
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
  auto totals = read_totals(st.env, st.protect);
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
  st.series->cpu_setting(quota.value_or(st.law->ceiling()));
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
  st.protect = protected_others(p.protect, target.cgroup_path, cfg.name);
  st.law = std::make_unique<pressure_backoff>(p.law, double(sysconf(_SC_NPROCESSORS_ONLN)));
  st.cfg = std::move(cfg);
  st.target = std::move(target);
  st.env = std::move(env);
  return step_on_interval(self, st.cfg.interval, step);
}

} // namespace

extern const policy_type cpu_backoff_policy = {
    "cpu_backoff",
    "cpu.max quota stepped down while the cgroups it protects wait for CPU, or the host or the "
    "cgroup is under memory pressure, above a threshold; given back as it recedes",
    policy_scope::cgroup, compile_params<parse>, spawn_policy<cpu_backoff>};

} // namespace ballast
