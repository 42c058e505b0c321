// telemetry policy actor: samples /proc/PID/stat and the cgroup's
// {cpu,memory,io}.pressure each interval. Fds stay open between ticks (one
// pread each), so a tick costs a few microseconds per process.
#include "actors/policies/telemetry.hpp"

#include "sys/cgroupfs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"

#include <caf/all.hpp>

#include <array>
#include <optional>

namespace ballast {

namespace {

constexpr std::array<sys::psi_resource, 3> resources = {
  sys::psi_resource::cpu, sys::psi_resource::memory, sys::psi_resource::io};

std::string_view pressure_file(sys::psi_resource r) {
  switch (r) {
    case sys::psi_resource::cpu: return sys::files::cpu_pressure;
    case sys::psi_resource::memory: return sys::files::memory_pressure;
    case sys::psi_resource::io: return sys::files::io_pressure;
  }
  return {};
}

struct telemetry_state {
  static constexpr const char* name = "telemetry";

  config::policy cfg;
  policy_target target;
  policy_env env;
  sys::procfs proc;
  std::optional<sys::cgroup_dir> cgroup;
  prometheus::Counter* cpu = nullptr;
  prometheus::Gauge* rss = nullptr;
  double last_cpu_seconds = -1;
  bool first_tick = true;
  caf::actor_clock::time_point next_tick;

  ~telemetry_state() {
    if (!env.metrics)
      return;
    remove_series();
    env.metrics->policy_stopped(cfg.name);
    env.metrics->actor_stopped(actor_type::policy);
  }

  void init(const config::policy& c, const policy_target& t, const policy_env& e) {
    cfg = c;
    target = t;
    env = e;
    add_series();
    if (auto d = sys::cgroup_dir::open(env.cgroup_root, target.cgroup_path))
      cgroup.emplace(std::move(*d));
    env.metrics->actor_started(actor_type::policy);
    env.metrics->policy_started(cfg.name);
  }

  void add_series() {
    prometheus::Labels labels = {{"policy", cfg.name}, {"cgroup", target.cgroup_path},
                                 {"pid", std::to_string(target.pid)}, {"comm", target.comm}};
    cpu = &env.metrics->process_cpu().Add(labels);
    rss = &env.metrics->process_rss().Add(labels);
  }

  void remove_series() {
    env.metrics->process_cpu().Remove(cpu);
    env.metrics->process_rss().Remove(rss);
  }

  // An exec changed the process's name: its series follow under the new one.
  void relabel(const std::string& comm) {
    remove_series();
    target.comm = comm;
    last_cpu_seconds = -1;
    add_series();
  }

  // false when the process is gone: the policy ends.
  bool sample() {
    auto st = proc.stat(target.pid);
    if (!st)
      return false;
    if (st->comm != target.comm)
      relabel(st->comm);
    double secs = double(st->utime_ticks + st->stime_ticks) /
                  double(sys::procfs::clock_ticks_per_second());
    if (last_cpu_seconds >= 0 && secs > last_cpu_seconds)
      cpu->Increment(secs - last_cpu_seconds);
    else if (last_cpu_seconds < 0)
      cpu->Increment(secs);
    last_cpu_seconds = secs;
    rss->Set(double(st->rss_pages * sys::procfs::page_size()));
    if (cgroup)
      sample_pressure();
    return true;
  }

  void sample_pressure() {
    for (auto r : resources) {
      auto text = cgroup->read(pressure_file(r));
      if (!text)
        continue;
      auto psi = sys::parse_psi(*text);
      if (!psi)
        continue;
      auto set = [&](const char* kind, double avg10) {
        env.metrics->cgroup_pressure()
          .Add({{"cgroup", target.cgroup_path}, {"resource", std::string(to_string(r))},
                {"kind", kind}})
          .Set(avg10 / 100.0);
      };
      set("some", psi->some.avg10);
      if (psi->full)
        set("full", psi->full->avg10);
    }
  }
};

using telemetry_actor = policy_actor::stateful_pointer<telemetry_state>;

policy_actor::behavior_type telemetry(telemetry_actor self, config::policy cfg,
                                      policy_target target, policy_env env) {
  self->state.init(cfg, target, env);
  self->state.next_tick = self->clock().now();
  self->send(self, atom::tick_v);
  return {
    [=](atom::tick) {
      auto& st = self->state;
      if (st.first_tick) {
        st.first_tick = false;
        st.env.metrics->policy_running(st.target.since_ktime_ns);
      }
      if (!st.sample()) {
        log::debug("telemetry", "pid ", st.target.pid, " is gone; policy ", st.cfg.name, " ends");
        self->quit();
        return;
      }
      st.next_tick += st.cfg.interval;
      self->scheduled_send(self, st.next_tick, atom::tick_v);
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
