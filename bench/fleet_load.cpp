// A load generator for the coordinator: N agents in one process, each a
// control actor published on its own loopback port and answering the real
// agent protocol (messages/protocol.hpp) over real CAF connections, with
// canned answers: status, lists, configs applied at once. What it saves is
// N real agents' BPF programs and cgroups, which the coordinator never sees.
//   fleet_load --agents N --base-port P    prints "ready" once all listen,
//                                          runs until SIGTERM/SIGINT
#include "actors/control/remote.hpp"
#include "messages/protocol.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

using namespace ballast;

caf::error no_jobs() {
  return caf::make_error(caf::sec::invalid_argument, "fleet_load agents run no jobs");
}

control_actor::behavior_type stub_agent(control_actor::pointer) {
  auto applied = [] { return apply_result{true, {}, "fleet-load"}; };
  return {
      [](const credential &, atom::status) {
        agent_status s;
        s.version = "fleet-load";
        s.config_hash = "fleet-load";
        return s;
      },
      [](const credential &, atom::cgroups) { return std::vector<cgroup_status>{}; },
      [](const credential &, atom::policies) { return std::vector<policy_info>{}; },
      [](const credential &, atom::dry_run) { return false; },
      [=](const credential &, atom::dry_run, bool) { return applied(); },
      [=](const credential &, atom::apply, std::string &) { return applied(); },
      [](const credential &, atom::config) { return config::agent{}; },
      [=](const credential &, atom::apply, config::agent &) { return applied(); },
      [](const credential &, atom::freeze, std::string &) { return true; },
      [](const credential &, atom::thaw, std::string &) { return true; },
      [](const credential &, atom::release, std::string &) { return uint64_t(0); },
      [](const credential &, atom::watch) { return true; },
      [](atom::tick) {},
      [](atom::tick, uint64_t) {},
      [](const credential &, atom::fleet) -> caf::result<fleet_status> {
        return caf::make_error(caf::sec::invalid_argument, "this is an agent, not a coordinator");
      },
      [](const credential &, fleet_apply &) -> caf::result<fleet_apply_result> {
        return caf::make_error(caf::sec::invalid_argument, "this is an agent, not a coordinator");
      },
      [](const credential &, atom::challenge) { return std::string(); },
      [](const credential &, job_request &) -> caf::result<job_info> { return no_jobs(); },
      [](const credential &, atom::jobs) { return std::vector<job_info>{}; },
      [](const credential &, job_command &) -> caf::result<job_info> { return no_jobs(); },
      [](const credential &, atom::stats) { return std::vector<pressure_line>{}; },
      [](const credential &, job_log_cursor &) -> caf::result<job_log_chunk> { return no_jobs(); },
  };
}

int flag(int argc, char **argv, const char *name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0)
      return std::atoi(argv[i + 1]);
  return fallback;
}

} // namespace

int main(int argc, char **argv) {
  int n = flag(argc, argv, "--agents", 1000);
  int base = flag(argc, argv, "--base-port", 30000);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::ballast>();
  if (auto r = configure_remote(cfg, {}, agent_peer_silence); !r) {
    std::fprintf(stderr, "fleet_load: %s\n", r.err().message.c_str());
    return 2;
  }
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  std::vector<control_actor> agents;
  for (int i = 0; i < n; ++i) {
    agents.push_back(sys.spawn(stub_agent));
    if (auto port = publish_control(sys, agents.back(), "127.0.0.1", uint16_t(base + i), false);
        !port) {
      std::fprintf(stderr, "fleet_load: %s\n", port.err().message.c_str());
      std::_Exit(1);
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  std::_Exit(0);
}
