// The soak; see soak.hpp.
#include "tests/support/soak.hpp"

#include "tests/support/cgroup_workload.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ballast::test {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr const char *kinds[] = {"cgroup_mkdir", "attach", "exec", "exit", "cgroup_rmdir"};

// Polls the agent until every rmdir up to `rmdirs` is counted and the actor
// counts are back at their baseline, or 60 s pass.
bool drain(agent_process &agent, double rmdirs, double cgroups, double policies) {
  for (auto until = clock_type::now() + std::chrono::seconds(60); clock_type::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    auto m = agent.metrics();
    if (m.value("ballast_cgroup_events_total", {{"kind", "cgroup_rmdir"}}) >= rmdirs &&
        m.value("ballast_actors", {{"type", "cgroup"}}) == cgroups &&
        m.value("ballast_actors", {{"type", "policy"}}) == policies)
      return true;
  }
  return false;
}

// The footprint once the agent is quiet: the lowest fd count of five looks
// 100 ms apart, since the scrape that just asked may still hold its socket;
// a leaked fd stays in every look.
process_footprint quiet_footprint(pid_t pid) {
  auto f = footprint(pid);
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto again = footprint(pid);
    f.rss_bytes = again.rss_bytes;
    f.fds = std::min(f.fds, again.fds);
  }
  return f;
}

} // namespace

process_footprint footprint(pid_t pid) {
  process_footprint f;
  auto proc = "/proc/" + std::to_string(pid);
  std::ifstream status(proc + "/status");
  for (std::string key; status >> key;) {
    if (key == "VmRSS:") {
      status >> f.rss_bytes;
      f.rss_bytes *= 1024;
      break;
    }
    status.ignore(1 << 16, '\n');
  }
  for ([[maybe_unused]] auto &e : std::filesystem::directory_iterator(proc + "/fd"))
    ++f.fds;
  return f;
}

soak_result run_soak(agent_process &agent, const std::string &base, int n, int warmup) {
  soak_result r;
  r.cycles = n;
  r.warmup = warmup;
  auto before = agent.metrics();
  r.cgroup_actors_before = before.value("ballast_actors", {{"type", "cgroup"}});
  r.policy_actors_before = before.value("ballast_actors", {{"type", "policy"}});
  double rmdir0 = before.value("ballast_cgroup_events_total", {{"kind", "cgroup_rmdir"}});

  lifecycle_cycles(base, 0, warmup);
  drain(agent, rmdir0 + warmup, r.cgroup_actors_before, r.policy_actors_before);
  r.after_warmup = quiet_footprint(agent.pid());

  auto t0 = clock_type::now();
  lifecycle_cycles(base, warmup, n);
  r.cycle_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  r.drained = drain(agent, rmdir0 + n, r.cgroup_actors_before, r.policy_actors_before);
  r.after = quiet_footprint(agent.pid());

  auto after = agent.metrics();
  r.cgroup_actors_after = after.value("ballast_actors", {{"type", "cgroup"}});
  r.policy_actors_after = after.value("ballast_actors", {{"type", "policy"}});
  for (auto kind : kinds) {
    r.generated[kind] = n;
    r.seen[kind] = after.value("ballast_cgroup_events_total", {{"kind", kind}}) -
                   before.value("ballast_cgroup_events_total", {{"kind", kind}});
  }
  r.lost = after.value("ballast_events_lost_total") - before.value("ballast_events_lost_total");
  return r;
}

} // namespace ballast::test
