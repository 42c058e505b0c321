// telemetry policy actor: samples /proc/PID/stat (kept open: one pread per
// tick) and, through the cgroup's shared probe, its pressure files (read
// once per period per cgroup, whatever the number of processes). Ticks are
// aligned to the interval grid so all telemetry actors wake together.
#include "actors/policies/telemetry.hpp"

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
  static constexpr const char* name = "telemetry";

  std::string policy;
  std::string proc_root;
  std::chrono::milliseconds interval{};
  policy_target target;
  std::shared_ptr<agent_metrics> metrics;
  std::shared_ptr<cgroup_probe> probe;
  std::optional<sys::stat_reader> stat;
  prometheus::Gauge* live = nullptr;  // ballast_policy_actors{policy}
  prometheus::Counter* cpu = nullptr;
  prometheus::Gauge* rss = nullptr;
  double last_cpu_seconds = 0;
  bool first_tick = true;

  ~telemetry_state() {
    if (!metrics)
      return;
    remove_series();
    live->Decrement();
    metrics->actor_stopped(actor_type::policy);
  }

  void init(const config::policy& cfg, const policy_target& t, const policy_env& env) {
    policy = cfg.name;
    interval = cfg.interval;
    target = t;
    metrics = env.metrics;
    proc_root = env.proc_root;
    probe = env.probe;
    metrics->actor_started(actor_type::policy);
    live = &metrics->policy_actors(policy);
    live->Increment();
    add_series();
  }

  void add_series() {
    prometheus::Labels labels = {{"policy", policy}, {"cgroup", target.cgroup_path},
                                 {"pid", std::to_string(target.pid)}, {"comm", target.comm}};
    cpu = &metrics->add_series(metrics->process_cpu(), labels);
    rss = &metrics->add_series(metrics->process_rss(), labels);
  }

  void remove_series() {
    metrics->remove_series(metrics->process_cpu(), cpu);
    metrics->remove_series(metrics->process_rss(), rss);
  }

  // An exec changed the process's name: its series follow under the new one.
  void relabel(const std::string& comm) {
    remove_series();
    target.comm = comm;
    last_cpu_seconds = 0;
    add_series();
  }

  // false when the process is gone: the policy ends.
  bool sample() {
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
    double secs = double(st->utime_ticks + st->stime_ticks) /
                  double(sys::procfs::clock_ticks_per_second());
    if (secs > last_cpu_seconds)
      cpu->Increment(secs - last_cpu_seconds);
    last_cpu_seconds = secs;
    rss->Set(double(st->rss_pages * sys::procfs::page_size()));
    if (probe)
      probe->export_stats(std::max<std::chrono::milliseconds>(interval, cgroup_period));
    return true;
  }
};

using telemetry_actor = policy_actor::stateful_pointer<telemetry_state>;

policy_actor::behavior_type telemetry(telemetry_actor self, config::policy cfg,
                                      policy_target target, policy_env env) {
  self->state.init(cfg, target, env);
  self->send(self, atom::tick_v);
  return {
    [=](atom::tick) {
      auto& st = self->state;
      if (st.first_tick) {
        st.first_tick = false;
        st.metrics->policy_running(st.target.since_ktime_ns);
      }
      if (!st.sample()) {
        log::debug("telemetry", "pid ", st.target.pid, " is gone; policy ", st.policy, " ends");
        self->quit();
        return;
      }
      self->scheduled_send(self, next_aligned_tick(self->clock().now(), st.interval), atom::tick_v);
    },
  };
}

} // namespace

std::vector<config::config_error> check_telemetry_params(const std::string& params,
                                                         const std::string& path) {
  if (params == "{}")
    return {};
  return {{path, "telemetry takes no parameters"}};
}

policy_actor spawn_telemetry(caf::actor_system& sys, const config::policy& cfg,
                             const policy_target& target, const policy_env& env) {
  return sys.spawn(telemetry, cfg, target, env);
}

} // namespace ballast
