// telemetry: per-process CPU time and RSS, and the pressure of the process's
// cgroup, exported to Prometheus on every tick. It claims no knob. Its
// process series are removed when it ends (process exit, cgroup removal,
// unconfigured, agent stop); the cgroup actor removes the cgroup's pressure
// series when the cgroup goes.
//
// CPU time comes from the sched source where it feeds the cgroup (the
// kernel counted it at context switches: nothing to read), RSS from
// /proc/PID/statm (kept open: one pread per tick), the name from the exec
// events the cgroup actor forwards. /proc/PID/stat, which the kernel takes
// far longer to format, is read once when the policy starts and when the
// sched source (re)starts, to line the two counts up, and on every tick only
// where the sched source does not run. The cgroup's pressure files are read
// through its shared probe (once per period per cgroup, whatever the number
// of processes).
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"

#include <caf/all.hpp>

#include <optional>
#include <utility>

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
  std::optional<sys::pid_file> stat, statm;
  std::unique_ptr<policy_presence> presence;
  prometheus::Counter *cpu = nullptr;
  prometheus::Gauge *rss = nullptr;
  double cpu_seconds = 0; // what the counter shows
  // The sched source's count when cpu_seconds was last lined up with it.
  std::optional<cgroup_probe::process_oncpu> anchor;
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
    if (comm == target.comm)
      return;
    remove_series();
    target.comm = comm;
    cpu_seconds = 0;
    anchor.reset();
    add_series();
  }

  void add_cpu(double total) {
    if (total > cpu_seconds)
      cpu->Increment(total - cpu_seconds);
    cpu_seconds = std::max(cpu_seconds, total);
  }

  static bool opened(std::optional<sys::pid_file> &f, const std::string &root, int pid,
                     const char *name) {
    if (!f)
      if (auto o = sys::pid_file::open(root, pid, name))
        f.emplace(std::move(*o));
    return f.has_value();
  }

  // /proc/PID/stat: the CPU count and name the kernel keeps; its RSS.
  bool read_stat() {
    if (!opened(stat, proc_root, target.pid, "stat"))
      return false;
    auto st = stat->read(sys::parse_proc_stat);
    if (!st)
      return false;
    relabel(st->comm);
    add_cpu(double(st->utime_ticks + st->stime_ticks) /
            double(sys::procfs::clock_ticks_per_second()));
    rss->Set(double(st->rss_pages * sys::procfs::page_size()));
    return true;
  }

  // The sched source's count: the growth since the anchor. A process not
  // seen running here since the source loaded has not run: nothing to add.
  // The first count seen of a source is lined up with /proc/PID/stat
  // instead (counted twice: at most what the process ran between the
  // source's read and this one, once per source load).
  bool read_sched(const cgroup_probe::process_oncpu &now) {
    if (!now.oncpu_ns)
      return true;
    if (!anchor || anchor->loaded_ns != now.loaded_ns || !anchor->oncpu_ns) {
      anchor = now;
      return read_stat();
    }
    // A count below the anchor (a read that dipped) is not an anchor: its
    // regrowth would count twice.
    if (*now.oncpu_ns > *anchor->oncpu_ns) {
      add_cpu(cpu_seconds + double(*now.oncpu_ns - *anchor->oncpu_ns) / 1e9);
      anchor = now;
    }
    return true;
  }

  bool read_rss() {
    if (!opened(statm, proc_root, target.pid, "statm"))
      return false;
    auto pages = statm->read(sys::parse_statm_resident_pages);
    if (!pages)
      return false;
    rss->Set(double(*pages * sys::procfs::page_size()));
    return true;
  }

  // false when the process is gone: the policy ends. The first sample reads
  // /proc/PID/stat whatever the source: the counter starts at the process's
  // whole CPU time, not at 0.
  bool sample(caf::actor_clock::time_point now, bool first) {
    auto sched = probe ? probe->sched_process(target.pid, now) : std::nullopt;
    bool alive;
    if (!sched || first) {
      anchor = sched;
      alive = read_stat();
    } else {
      alive = read_sched(*sched) && read_rss();
    }
    if (!alive)
      return false;
    if (probe)
      probe->export_stats(std::max<std::chrono::milliseconds>(interval, cgroup_period), now);
    return true;
  }
};

using telemetry_actor = policy_actor::stateful_pointer<telemetry_state>;

policy_actor::behavior_type telemetry(telemetry_actor self, config::policy cfg,
                                      policy_target target, policy_env env) {
  self->state.init(cfg, target, env);
  return step_on_interval(
      self, cfg.interval,
      [](telemetry_actor self) {
        auto &st = self->state;
        bool first = std::exchange(st.first_tick, false);
        if (first)
          st.metrics->policy_running(st.target.since_ktime_ns);
        if (!st.sample(self->clock().now(), first)) {
          log::debug("telemetry", "pid ", st.target.pid, " is gone; policy ", st.policy, " ends");
          self->quit();
        }
      },
      [](telemetry_actor self, const std::string &comm) { self->state.relabel(comm); });
}

struct no_params {};

compiled_params compile(const config::policy &p, const std::string &path) {
  params_result<no_params> r;
  if (p.params != "{}")
    r.errors.push_back({path, "telemetry takes no parameters"});
  return compiled(std::move(r));
}

} // namespace

extern const policy_type telemetry_policy = {
    "telemetry",
    "per-process CPU time and RSS, and the pressure of its cgroup, exported to Prometheus",
    policy_scope::process, compile, spawn_policy<telemetry>};

} // namespace ballast
