// ballastctl: talks to an agent's (or a coordinator's) control interface over
// CAF's remote actors. Human-readable tables by default, JSON with -o json.
// Exit codes: 0 done, 1 refused, 2 usage, 3 unreachable (or no answer in time).
#include "apps/ballastctl.hpp"

#include "config/config.hpp"
#include "messages/protocol.hpp"
#include "sys/cookie.hpp"
#include "sys/procfs.hpp"
#include "sys/text.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace ballast;
using namespace ballast::ctl;

constexpr const char *usage = R"(usage: ballastctl [options] COMMAND [ARGS]

commands (an agent, or a coordinator for its fleet):
  status                 version, uptime, config hash, dry-run, counts
  cgroups                watched cgroups with their live policies and claims
  policies               configured policies and their live actors
  dry-run [on|off]       show, or switch, dry-run
  apply FILE             apply a config (JSON file, - for stdin); refused with
                         every error if invalid, the running config kept
  freeze PATH|ID         freeze a cgroup (held until thaw or the agent stops),
                         or a job; in dry-run: "dry-run: not written", exit 0
  thaw PATH|ID           thaw it
  release PATH           release every claim on a cgroup (knobs back)
  watch                  stream events (writes, restores, decisions, lost
                         events) until interrupted
jobs (an agent; IDs are [A-Za-z0-9_.-]{1,64}):
  run --id ID [limits] [--priority 0..100] [--cwd DIR] [--env K=V]...
      [--require-path PATH]... [--service CMD] [--user USER] [--queue
      [--queue-timeout DURATION]] -- COMMAND [ARGS...]
                         start COMMAND in a new cgroup under the job root, as
                         you (root: as --user); limits: --memory-max SZ
                         --memory-high SZ --memory-low SZ --memory-min SZ
                         --memory-swap-max SZ --cpu-max "QUOTA PERIOD"|Q/P
                         --cpu-weight N --io-weight N|"MAJ:MIN N" --io-max
                         "MAJ:MIN rbps=N ..." --pids-max N --cpuset-cpus CPUS
                         --cpuset-mems MEMS (SZ: bytes, K, M, G, T, or max)
  jobs                   every job: state, pid, memory, CPU, age
  stats                  the host's pressure: some and full avg10, avg60,
                         avg300 (%) and total stall of cpu, memory and io
  inspect ID             one job: state, exit code or signal, memory current
                         and peak, CPU, OOM kills, PSI some avg10
  wait ID                until the job ends; exits with its code (128+signal
                         when killed)
  logs ID [--follow]     its stdout and stderr (--follow: until it ends)
  kill ID [--signal N]   signal its main process (default 15)
  remove ID              delete an ended job's cgroup and directory
coordinator only:
  fleet                  every agent: up or down, its status, the rollout
  rollout FILE [--canaries N] [--window DURATION] [--agents A,B]
                         apply FILE to the fleet (staged with --canaries)

options:
  --host HOST[:PORT]     default 127.0.0.1:9465 (the local agent)
  --tls-cert FILE --tls-key FILE --tls-ca FILE
                         mutual TLS (all three); needed for a non-loopback agent
  --cookie FILE          the agent's control cookie, sent with every request:
                         without TLS changes need it (root and group ballast
                         can read it); default /run/ballast/control.cookie
                         (a coordinator's: /run/ballast/coordinator.cookie)
  -o json                JSON instead of tables
  --timeout DURATION     per request, default 5s ("500ms", "10s")
exit codes: 0 done, 1 refused, 2 usage, 3 unreachable or timed out
)";

std::optional<std::chrono::milliseconds> duration(const std::string &s) {
  return config::parse_duration(s);
}

json to_json(const agent_status &s) {
  return {{"version", s.version}, {"uptime_s", s.uptime_s},      {"config_hash", s.config_hash},
          {"dry_run", s.dry_run}, {"cgroups", s.cgroups},        {"policies", s.policies},
          {"claims", s.claims},   {"pressure_avg10", s.pressure}};
}

std::string status_table(const agent_status &s) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "version          %s\nuptime           %.0f s\nconfig           %s\n"
                "dry-run          %s\ncgroups          %llu\npolicy actors    %llu\n"
                "claims           %llu\npressure         %.2f %% (some avg10, watched subtrees)\n",
                s.version.c_str(), s.uptime_s, s.config_hash.c_str(), s.dry_run ? "on" : "off",
                (unsigned long long)s.cgroups, (unsigned long long)s.policies,
                (unsigned long long)s.claims, s.pressure);
  return buf;
}

std::string apply_table(const apply_result &r) {
  if (r.applied)
    return "applied: config " + r.config_hash + "\n";
  std::string out = "refused:\n";
  for (auto &e : r.errors)
    out += "  " + e + "\n";
  return out;
}

// Live policy actors ("telemetry:1234", one per process) counted per
// policy: "telemetry ×71 senpai ". The full list is in -o json.
std::string policy_summary(const std::vector<std::string> &live) {
  std::map<std::string, size_t> count;
  for (auto &p : live)
    ++count[p.substr(0, p.find(':'))];
  std::string out;
  for (auto &[name, n] : count)
    out += name + (n > 1 ? " \u00d7" + std::to_string(n) : "") + " ";
  return out;
}

// --- commands: one function each, one row each in the table below ---------

int print_status(session &s, const options &o) {
  return s.ask<agent_status>(
      [&](agent_status &st) {
        print(o, to_json(st), status_table(st));
        return done;
      },
      atom::status_v);
}

int print_cgroups(session &s, const options &o) {
  return s.ask<std::vector<cgroup_status>>(
      [&](std::vector<cgroup_status> &all) {
        json j = json::array();
        std::string t = "CGROUP                                   PIDS  POLICIES / CLAIMS\n";
        for (auto &c : all) {
          json claims = json::array();
          std::string line = policy_summary(c.policies);
          for (auto &cl : c.claims) {
            claims.push_back({{"knob", cl.knob}, {"value", cl.value}, {"priority", cl.priority}});
            line += cl.knob + "=" + cl.value + " ";
          }
          j.push_back({{"path", c.path},
                       {"id", c.id},
                       {"pids", c.pids},
                       {"policies", c.policies},
                       {"claims", claims}});
          char buf[64];
          std::snprintf(buf, sizeof buf, "%-40s %5zu  ", c.path.c_str(), c.pids.size());
          t += buf + line + "\n";
        }
        print(o, j, t);
        return done;
      },
      atom::cgroups_v);
}

int print_policies(session &s, const options &o) {
  return s.ask<std::vector<policy_info>>(
      [&](std::vector<policy_info> &all) {
        json j = json::array();
        std::string t = "POLICY           TYPE          SCOPE    INTERVAL   LIVE\n";
        for (auto &p : all) {
          j.push_back({{"name", p.name},
                       {"type", p.type},
                       {"scope", p.scope},
                       {"interval_ms", p.interval_ms},
                       {"live", p.live}});
          char buf[160];
          std::snprintf(buf, sizeof buf, "%-16s %-13s %-8s %7lld ms %5llu\n", p.name.c_str(),
                        p.type.c_str(), p.scope.c_str(), (long long)p.interval_ms,
                        (unsigned long long)p.live);
          t += buf;
        }
        print(o, j, t);
        return done;
      },
      atom::policies_v);
}

int print_applied(const options &o, apply_result &r) {
  print(o, {{"applied", r.applied}, {"errors", r.errors}, {"config_hash", r.config_hash}},
        apply_table(r));
  return r.applied ? done : refused;
}

int dry_run(session &s, const options &o) {
  if (o.args.size() == 1)
    return s.ask<bool>(
        [&](bool on) {
          print(o, {{"dry_run", on}}, on ? "on\n" : "off\n");
          return done;
        },
        atom::dry_run_v);
  if (o.args[1] != "on" && o.args[1] != "off")
    return fail_usage("dry-run takes on or off");
  return s.ask<apply_result>([&](apply_result &r) { return print_applied(o, r); }, atom::dry_run_v,
                             o.args[1] == "on");
}

// The FILE argument of apply and rollout ("-": stdin).
std::optional<std::string> config_text(const options &o) {
  if (o.args[1] == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  auto r = sys::read_small_file(o.args[1]);
  if (!r)
    std::fprintf(stderr, "ballastctl: %s\n", r.err().message.c_str());
  return r ? std::optional(std::move(*r)) : std::nullopt;
}

int apply(session &s, const options &o) {
  auto text = config_text(o);
  if (!text)
    return usage_error;
  return s.ask<apply_result>([&](apply_result &r) { return print_applied(o, r); }, atom::apply_v,
                             *text);
}

int rollout(session &s, const options &o) {
  auto text = config_text(o);
  if (!text)
    return usage_error;
  return s.ask<fleet_apply_result>(
      [&](fleet_apply_result &r) {
        json j = {{"rollout", r.rollout}, {"elapsed_us", r.elapsed_us}, {"agents", json::array()}};
        std::string t = "rollout: " + r.rollout + "\n";
        for (auto &a : r.agents) {
          j["agents"].push_back({{"agent", a.agent}, {"outcome", a.outcome}, {"errors", a.errors}});
          t += "  " + a.agent + "  " + a.outcome + (a.errors.empty() ? "" : ": " + a.errors[0]) +
               "\n";
        }
        print(o, j, t);
        return r.rollout == "applied" ? done : refused;
      },
      fleet_apply{*text, o.agents, o.canaries, o.window.count()});
}

template <class Atom> int freeze_or_thaw(session &s, const options &o, Atom what) {
  return s.ask<bool>(
      [&](bool written) {
        print(o, {{o.args[0], o.args[1]}, {"written", written}},
              o.args[0] + " " + o.args[1] + (written ? ": done\n" : ": dry-run: not written\n"));
        return done;
      },
      what, o.args[1]);
}

// A path is a cgroup; anything else names a job.
int freeze(session &s, const options &o) {
  return o.args[1].starts_with('/') ? freeze_or_thaw(s, o, atom::freeze_v) : job_command_of(s, o);
}
int thaw(session &s, const options &o) {
  return o.args[1].starts_with('/') ? freeze_or_thaw(s, o, atom::thaw_v) : job_command_of(s, o);
}

int release(session &s, const options &o) {
  return s.ask<uint64_t>(
      [&](uint64_t n) {
        print(o, {{"released", n}},
              "released " + std::to_string(n) + " claims on " + o.args[1] + "\n");
        return done;
      },
      atom::release_v, o.args[1]);
}

int watch(session &s, const options &) {
  return s.watch();
}

int print_fleet(session &s, const options &o) {
  return s.ask<fleet_status>(
      [&](fleet_status &f) {
        json j = {{"rollout", f.rollout}, {"agents", json::array()}};
        std::string t = "AGENT                    UP    CONFIG            PRESSURE  CGROUPS\n";
        for (auto &a : f.agents) {
          auto js = to_json(a.status);
          js["name"] = a.name;
          js["up"] = a.up;
          js["error"] = a.error;
          j["agents"].push_back(js);
          char buf[200];
          std::snprintf(buf, sizeof buf, "%-24s %-5s %-17s %7.2f %% %8llu %s\n", a.name.c_str(),
                        a.up ? "up" : "DOWN", a.status.config_hash.c_str(), a.status.pressure,
                        (unsigned long long)a.status.cgroups, a.error.c_str());
          t += buf;
        }
        t += "rollout: " + f.rollout + "\n";
        print(o, j, t);
        return done;
      },
      atom::fleet_v);
}

struct command {
  std::string_view name;
  size_t min_args, max_args;
  int (*run)(session &, const options &);
};

// Every command; the usage text above says what each does.
constexpr command commands[] = {
    {"status", 0, 0, print_status},
    {"cgroups", 0, 0, print_cgroups},
    {"policies", 0, 0, print_policies},
    {"dry-run", 0, 1, dry_run},
    {"apply", 1, 1, apply},
    {"freeze", 1, 1, freeze},
    {"thaw", 1, 1, thaw},
    {"release", 1, 1, release},
    {"watch", 0, 0, watch},
    {"run", 1, 1000, run_job},
    {"jobs", 0, 0, print_jobs},
    {"stats", 0, 0, print_stats},
    {"inspect", 1, 1, job_command_of},
    {"wait", 1, 1, job_command_of},
    {"logs", 1, 2, job_logs},
    {"kill", 1, 3, job_command_of},
    {"remove", 1, 1, job_command_of},
    {"fleet", 0, 0, print_fleet},
    {"rollout", 1, 1, rollout},
};

const command *find_command(std::string_view name) {
  for (auto &c : commands)
    if (c.name == name)
      return &c;
  return nullptr;
}

} // namespace

int ballast::ctl::fail_usage(const std::string &why) {
  std::fprintf(stderr, "ballastctl: %s\n%s", why.c_str(), usage);
  return usage_error;
}

int main(int argc, char **argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc)
        return std::nullopt;
      return std::string(argv[++i]);
    };
    std::optional<std::string> v;
    // A command's own options (run's, logs --follow, kill --signal) and,
    // after "--", a job's command line are the command's to read.
    bool commands_own =
        !o.args.empty() && (o.args[0] == "run" || o.args[0] == "logs" || o.args[0] == "kill");
    if (commands_own && a == "--") {
      o.args.insert(o.args.end(), argv + i, argv + argc);
      break;
    }
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return done;
    } else if (a == "--host" && (v = value())) {
      o.host = *v;
    } else if (a == "--tls-cert" && (v = value())) {
      o.tls.certificate = *v;
    } else if (a == "--tls-key" && (v = value())) {
      o.tls.key = *v;
    } else if (a == "--tls-ca" && (v = value())) {
      o.tls.ca = *v;
    } else if (a == "--cookie" && (v = value())) {
      o.cookie = *v;
    } else if (a == "-o" && (v = value())) {
      if (*v != "json")
        return fail_usage("-o takes only json");
      o.json_out = true;
    } else if (a == "--timeout" && (v = value())) {
      auto d = duration(*v);
      if (!d || d->count() == 0)
        return fail_usage("--timeout: a duration like 500ms or 5s");
      o.timeout = *d;
    } else if (a == "--canaries" && (v = value())) {
      auto n = ballast::sys::text::parse_number<uint32_t>(*v);
      if (!n)
        return fail_usage("--canaries: a number");
      o.canaries = *n;
    } else if (a == "--window" && (v = value())) {
      auto d = duration(*v);
      if (!d)
        return fail_usage("--window: a duration like 30s");
      o.window = *d;
    } else if (a == "--agents" && (v = value())) {
      std::string s = *v;
      for (size_t p = 0; p <= s.size();) {
        auto c = s.find(',', p);
        if (c == std::string::npos)
          c = s.size();
        if (c > p)
          o.agents.push_back(s.substr(p, c - p));
        p = c + 1;
      }
    } else if (!a.empty() && a[0] == '-' && a != "-" && !commands_own) {
      return fail_usage("unknown option or missing value: " + a);
    } else {
      o.args.push_back(a);
    }
  }
  if (o.args.empty())
    return fail_usage("no command");
  auto *cmd = find_command(o.args[0]);
  if (!cmd)
    return fail_usage("unknown command: " + o.args[0]);
  if (o.args.size() - 1 < cmd->min_args || o.args.size() - 1 > cmd->max_args)
    return fail_usage("wrong arguments for " + o.args[0]);
  auto hp = parse_host_port(o.host);
  if (!hp)
    return fail_usage("--host: " + hp.err().message);
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::ballast>();
  if (auto r = configure_remote(cfg, o.tls, o.timeout); !r)
    return fail_usage(r.err().message);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  control_actor remote;
  self->request(remote_manager(sys, o.tls.enabled()), o.timeout, caf::connect_atom::value,
                hp->first, hp->second)
      .receive(
          [&](caf::node_id &, caf::strong_actor_ptr &ptr, std::set<std::string> &) {
            if (ptr)
              remote = caf::actor_cast<control_actor>(std::move(ptr));
            else
              std::fprintf(stderr, "ballastctl: nothing is published at %s\n", o.host.c_str());
          },
          [&](caf::error &e) {
            std::fprintf(stderr, "ballastctl: cannot reach %s: %s\n", o.host.c_str(),
                         sys.render(e).c_str());
          });
  if (!remote)
    _exit(unreachable); // the middleman may still be connecting: do not wait for it
  session s(sys, o, std::move(remote));
  int code = cmd->run(s, o);
  std::fflush(nullptr);
  _exit(code);
}
