// telemetry: per-process CPU time and RSS, and the pressure of the process's
// cgroup, exported to Prometheus on every tick. It claims no knob. Its
// process series are removed when it ends (process exit, cgroup removal,
// unconfigured, agent stop); the cgroup actor removes the cgroup's pressure
// series when the cgroup goes.
//
// It samples /proc/PID/stat (kept open: one pread per tick) and, through the
// cgroup's shared probe, its pressure files (read once per period per
// cgroup, whatever the number of processes).
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"

#include <caf/all.hpp>

#include <optional>

namespace ballast {

namespace {

// A cgroup's pressure, CPU and memory event counts are exported as the
// kernel's totals (counters: rate() over any window is exact however seldom
// they are sampled), so its files are read at most every 5 s, not on every
// process tick.
constexpr std::chrono::milliseconds cgroup_period{5000};

struct telemetry_state {
  static constexpr const char *name = "telemetry";

  std::string policy;
  std::string proc_root;
  std::chrono::milliseconds interval{};
  policy_target target;
  std::shared_ptr<agent_metrics> metrics;
  std::shared_ptr<cgroup_probe> probe;
  std::optional<sys::stat_reader> stat;
  std::unique_ptr<policy_presence> presence;
  prometheus::Counter *cpu = nullptr;
  prometheus::Gauge *rss = nullptr;
  double last_cpu_seconds = 0;
  bool first_tick = true;

  ~telemetry_state() {
    if (presence)
      remove_series();
  }

  void init(const config::policy &cfg, const policy_target &t, const policy_env &env) {
    policy = cfg.name;
    interval = cfg.interval;
    target = t;
    metrics = env.metrics;
    proc_root = env.proc_root;
    probe = env.probe;
    presence = std::make_unique<policy_presence>(metrics, policy);
    add_series();
  }

  void add_series() {
    prometheus::Labels labels = {{"policy", policy},
                                 {"cgroup", target.cgroup_path},
                                 {"pid", std::to_string(target.pid)},
                                 {"comm", target.comm}};
    cpu = &metrics->add_series(metrics->process_cpu(), labels);
    rss = &metrics->add_series(metrics->process_rss(), labels);
  }

  void remove_series() {
    metrics->remove_series(metrics->process_cpu(), cpu);
    metrics->remove_series(metrics->process_rss(), rss);
  }

  // An exec changed the process's name: its series follow under the new one.
  void relabel(const std::string &comm) {
    remove_series();
    target.comm = comm;
    last_cpu_seconds = 0;
    add_series();
  }

  // false when the process is gone: the policy ends.
  bool sample(caf::actor_clock::time_point now) {
    if (!stat) {
      auto opened = sys::stat_reader::open(proc_root, target.pid);
      if (!opened)
        return false;
      stat.emplace(std::move(*opened));
    }
    auto st = stat->read();
    if (!st)
      return false;
    if (st->comm != target.comm)
      relabel(st->comm);
    double secs =
        double(st->utime_ticks + st->stime_ticks) / double(sys::procfs::clock_ticks_per_second());
    if (secs > last_cpu_seconds)
      cpu->Increment(secs - last_cpu_seconds);
    last_cpu_seconds = secs;
    rss->Set(double(st->rss_pages * sys::procfs::page_size()));
    if (probe)
      probe->export_stats(std::max<std::chrono::milliseconds>(interval, cgroup_period), now);
    return true;
  }
};

using telemetry_actor = policy_actor::stateful_pointer<telemetry_state>;

policy_actor::behavior_type telemetry(telemetry_actor self, config::policy cfg,
                                      policy_target target, policy_env env) {
  self->state.init(cfg, target, env);
  return step_on_interval(self, cfg.interval, [](telemetry_actor self) {
    auto &st = self->state;
    if (st.first_tick) {
      st.first_tick = false;
      st.metrics->policy_running(st.target.since_ktime_ns);
    }
    if (!st.sample(self->clock().now())) {
      log::debug("telemetry", "pid ", st.target.pid, " is gone; policy ", st.policy, " ends");
      self->quit();
    }
  });
}

struct no_params {};

compiled_params compile(const config::policy &p, const std::string &path) {
  params_result<no_params> r;
  if (p.params != "{}")
    r.errors.push_back({path, "telemetry takes no parameters"});
  return compiled(std::move(r));
}

policy_actor spawn(caf::actor_system &sys, const config::policy &cfg, const policy_target &target,
                   const policy_env &env) {
  return sys.spawn(telemetry, cfg, target, env);
}

} // namespace

extern const policy_type telemetry_policy = {
    "telemetry",
    "per-process CPU time and RSS, and the pressure of its cgroup, exported to Prometheus",
    policy_scope::process, compile, spawn};

} // namespace ballast
