// ballast-coordinator: drives a fleet of ballast agents (see
// actors/coordinator/coordinator.hpp) and offers the control interface for
// the whole fleet to ballastctl. Exports its own metrics (agents up, rollout
// state) for Prometheus.
#include "actors/control/remote.hpp"
#include "actors/coordinator/coordinator.hpp"
#include "sys/cookie.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/text.hpp"

#include <caf/all.hpp>
#include <prometheus/exposer.h>

#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace {

using namespace ballast;

constexpr const char *usage =
    R"(usage: ballast-coordinator --agents HOST:PORT,... | --agents-file FILE [options]

Connects to the agents' control interfaces, notices a dead or hung agent within
2 s and reconnects it, and serves the fleet's control interface (ballastctl
--host talks to it as to an agent: status, fleet, rollout, watch, ...).

options:
  --agents LIST        agents, comma-separated HOST:PORT (port 9465 if omitted)
  --agents-file FILE   one agent per line (# comments)
  --listen HOST:PORT   control interface for ballastctl, default 127.0.0.1:9466;
                       any other than loopback needs the TLS options
  --metrics HOST:PORT  Prometheus metrics, default 127.0.0.1:9467
  --tls-cert FILE --tls-key FILE --tls-ca FILE
                       mutual TLS to the agents (and on --listen)
  --cookie FILE        without TLS, changes (rollout, apply, freeze, ...) need
                       the secret written here at start, mode 0640 root:GROUP;
                       default /run/ballast/coordinator.cookie
  --group NAME         who besides root may read it, default ballast
  --agent-cookie FILE  the cookie of agents on this host that run without TLS
                       (read at each connect), e.g. /run/ballast/control.cookie
  --log-level LEVEL    debug, info (default), warn or error
signals: SIGTERM/SIGINT stop.
)";

int fail_usage(const std::string &why) {
  std::fprintf(stderr, "ballast-coordinator: %s\n%s", why.c_str(), usage);
  return 2;
}

void add_agents(std::vector<std::string> &out, std::string_view list, char sep) {
  size_t p = 0;
  while (p <= list.size()) {
    auto c = list.find(sep, p);
    if (c == std::string_view::npos)
      c = list.size();
    auto item = ballast::sys::text::trim(list.substr(p, c - p));
    if (!item.empty() && item.front() != '#')
      out.emplace_back(item);
    p = c + 1;
  }
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> agents;
  std::string listen = "127.0.0.1:9466", metrics = "127.0.0.1:9467";
  tls_files tls;
  std::string cookie = "/run/ballast/coordinator.cookie", group = "ballast", agent_cookie;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      return i + 1 < argc ? std::optional<std::string>(argv[++i]) : std::nullopt;
    };
    std::optional<std::string> v;
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (a == "--agents" && (v = value())) {
      add_agents(agents, *v, ',');
    } else if (a == "--agents-file" && (v = value())) {
      auto text = sys::read_small_file(*v);
      if (!text)
        return fail_usage(text.err().message);
      add_agents(agents, *text, '\n');
    } else if (a == "--listen" && (v = value())) {
      listen = *v;
    } else if (a == "--metrics" && (v = value())) {
      metrics = *v;
    } else if (a == "--tls-cert" && (v = value())) {
      tls.certificate = *v;
    } else if (a == "--tls-key" && (v = value())) {
      tls.key = *v;
    } else if (a == "--tls-ca" && (v = value())) {
      tls.ca = *v;
    } else if (a == "--cookie" && (v = value())) {
      cookie = *v;
    } else if (a == "--group" && (v = value())) {
      group = *v;
    } else if (a == "--agent-cookie" && (v = value())) {
      agent_cookie = *v;
    } else if (a == "--log-level" && (v = value())) {
      using ballast::log::level;
      auto l = *v == "debug"   ? level::debug
               : *v == "warn"  ? level::warn
               : *v == "error" ? level::error
                               : level::info;
      ballast::log::set_min_level(l);
    } else {
      return fail_usage("unknown option or missing value: " + a);
    }
  }
  if (agents.empty())
    return fail_usage("no agents (--agents or --agents-file)");
  auto where = parse_host_port(listen);
  if (!where)
    return fail_usage("--listen: " + where.err().message);
  if (where->first.rfind("127.", 0) != 0 && !tls.enabled())
    return fail_usage("--listen " + listen +
                      " needs --tls-cert, --tls-key and --tls-ca: only loopback goes without TLS");

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::ballast>();
  if (auto r = configure_remote(cfg, tls, coordinator_peer_silence); !r)
    return fail_usage(r.err().message);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};

  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(metrics, 1);
    exposer->RegisterCollectable(registry);
  } catch (const std::exception &e) {
    log::error("coordinator", "cannot serve metrics on ", metrics, ": ", e.what());
    std::_Exit(1);
  }
  auto secret = sys::write_cookie(cookie, group);
  if (!secret) {
    log::error("coordinator", "control: ", secret.err().message, ": no change could be authorized");
    std::_Exit(1);
  }
  if (!secret->warning.empty())
    log::warn("coordinator", "control: ", secret->warning);
  control_gate gate{secret->secret, cookie, group, tls.enabled(), true};
  auto coordinator = spawn_coordinator(sys, {agents, tls.enabled(), gate, agent_cookie, registry});
  auto port = publish_control(sys, coordinator, where->first, where->second, tls.enabled());
  if (!port) {
    log::error("coordinator", port.err().message);
    std::_Exit(1);
  }
  log::info("coordinator", "control on ", where->first, ":", *port, ", metrics on ", metrics, ", ",
            agents.size(), " agents", tls.enabled() ? ", TLS" : "");
  int sig = 0;
  sigwait(&set, &sig);
  log::info("coordinator", "stopping");
  ::unlink(cookie.c_str());
  std::fflush(nullptr);
  std::_Exit(0);
}
