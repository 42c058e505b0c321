// ballastctl's job commands: run (its options to a job_request), jobs,
// inspect, wait, kill, freeze, thaw, remove, logs.
#include "apps/ballastctl.hpp"

#include "actors/jobs/job_checks.hpp"
#include "config/config.hpp"
#include "sys/identity.hpp"
#include "sys/knobs.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <thread>
#include <unistd.h>

namespace ballast::ctl {

namespace {

// The knob a limit option sets (the job checks' table: --memory-max is
// memory.max), or nullptr for another option.
std::optional<std::string> limit_knob(const std::string &option) {
  for (auto knob : jobs::limit_knobs())
    if (jobs::option_of(knob) == option)
      return std::string(knob);
  return std::nullopt;
}

// The value as the cgroup file takes it: sizes in bytes, "Q/P" as "Q P".
std::optional<std::string> limit_value(const std::string &knob, const std::string &v) {
  if (jobs::controller_of(knob) == "memory") {
    auto b = config::parse_bytes(v);
    if (!b)
      return std::nullopt;
    return *b == UINT64_MAX ? "max" : std::to_string(*b);
  }
  if (knob == knobs::cpu_max.name) {
    auto out = v;
    std::replace(out.begin(), out.end(), '/', ' ');
    return out;
  }
  return v;
}

// run's arguments (after "run", up to "--") into a request; the rest is
// the command. Errors name the option.
std::optional<job_request> parse_run(const options &o, std::string &problem) {
  job_request r;
  auto &a = o.args;
  size_t i = 1;
  for (; i < a.size() && a[i] != "--"; ++i) {
    auto opt = a[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= a.size() || a[i + 1] == "--")
        return std::nullopt;
      return a[++i];
    };
    std::optional<std::string> v;
    if (opt == "--queue") {
      r.queue = true;
      continue;
    }
    if (!(v = value())) {
      problem = opt.starts_with("-") ? opt + " needs a value" : "unexpected '" + opt + "'";
      return std::nullopt;
    }
    if (auto knob = limit_knob(opt)) {
      auto value = limit_value(*knob, *v);
      if (!value) {
        problem = opt + ": '" + *v + "' is not a size (bytes, K, M, G, T, or max)";
        return std::nullopt;
      }
      r.limits.push_back({*knob, *value});
    } else if (opt == "--id") {
      r.id = *v;
    } else if (opt == "--priority") {
      auto n = sys::text::parse_number<int32_t>(*v);
      if (!n) {
        problem = "--priority: '" + *v + "' is not a number 0..100";
        return std::nullopt;
      }
      r.priority = *n;
    } else if (opt == "--cwd") {
      r.cwd = *v;
    } else if (opt == "--env") {
      r.env.push_back(*v);
    } else if (opt == "--require-path") {
      r.require_paths.push_back(*v);
    } else if (opt == "--service") {
      r.service = *v;
    } else if (opt == "--user") {
      r.user = *v;
    } else if (opt == "--queue-timeout") {
      auto d = config::parse_duration(*v);
      if (!d) {
        problem = "--queue-timeout: a duration like 30s";
        return std::nullopt;
      }
      r.queue_timeout_ms = d->count();
    } else {
      problem = "run: unknown option " + opt;
      return std::nullopt;
    }
  }
  if (i < a.size())
    r.argv.assign(a.begin() + static_cast<long>(i) + 1, a.end());
  if (r.id.empty()) {
    problem = "run needs --id ID";
    return std::nullopt;
  }
  return r;
}

json to_json(const job_info &i) {
  return {{"id", i.id},
          {"state", i.state},
          {"cgroup", i.cgroup},
          {"argv", i.argv},
          {"uid", i.uid},
          {"priority", i.priority},
          {"pid", i.pid},
          {"exit_code", i.exit_code},
          {"signal", i.signal},
          {"error", i.error},
          {"frozen", i.frozen},
          {"frozen_by", i.frozen_by},
          {"demoted", i.demoted},
          {"io_bytes", i.io_bytes},
          {"into_cgroup", i.into_cgroup},
          {"age_s", i.age_s},
          {"cpu_s", i.cpu_s},
          {"memory_current", i.memory_current},
          {"memory_peak", i.memory_peak},
          {"oom_kills", i.oom_kills},
          {"psi_some_avg10", {{"cpu", i.cpu_some}, {"memory", i.memory_some}, {"io", i.io_some}}}};
}

std::string state_of(const job_info &i) {
  std::string s = i.state;
  if (i.frozen)
    s += i.frozen_by.empty() || i.frozen_by == "operator"
             ? " (frozen)"
             : " (frozen by the response's " + i.frozen_by + " rule)";
  if (i.demoted)
    s += " (cpu.weight demoted)";
  if (i.state == "exited")
    s += " " + std::to_string(i.exit_code);
  else if (i.state == "killed")
    s += " by " + std::to_string(i.signal);
  return s;
}

std::string job_table(const job_info &i) {
  char buf[1024];
  std::string cmd;
  for (auto &w : i.argv)
    cmd += (cmd.empty() ? "" : " ") + w;
  std::snprintf(buf, sizeof buf,
                "job         %s\nstate       %s%s%s\ncommand     %s\ncgroup      %s%s\n"
                "pid         %d\nuid         %u\npriority    %d\nage         %.1f s\n"
                "cpu         %.2f s\nmemory      %llu bytes (peak %llu)\noom kills   %llu\n"
                "pressure    cpu %.2f %%, memory %.2f %%, io %.2f %% (some avg10)\n",
                i.id.c_str(), state_of(i).c_str(), i.error.empty() ? "" : ": ", i.error.c_str(),
                cmd.c_str(), i.cgroup.c_str(), i.into_cgroup ? "" : " (fork + cgroup.procs)", i.pid,
                i.uid, i.priority, i.age_s, i.cpu_s, (unsigned long long)i.memory_current,
                (unsigned long long)i.memory_peak, (unsigned long long)i.oom_kills, i.cpu_some,
                i.memory_some, i.io_some);
  return buf;
}

// A job's exit as a process's: its code, or 128+signal.
int exit_of(const job_info &i) {
  if (i.state == "exited")
    return i.exit_code;
  if (i.state == "killed")
    return 128 + i.signal;
  return refused;
}

// The directory a proof file goes to: one the agent (root) can read.
std::string proof_dir() {
  const char *runtime = std::getenv("XDG_RUNTIME_DIR");
  return runtime && ::access(runtime, W_OK) == 0 ? runtime : "/tmp";
}

} // namespace

int run_job(session &s, const options &o) {
  std::string problem;
  auto r = parse_run(o, problem);
  if (!r)
    return fail_usage(problem);
  std::string nonce;
  int code = s.ask<std::string>(
      [&](std::string &n) {
        nonce = std::move(n);
        return done;
      },
      atom::challenge_v);
  if (code != done)
    return code;
  auto path = sys::write_identity_proof(proof_dir(), nonce);
  if (!path) {
    std::fprintf(stderr, "ballastctl: %s\n", path.err().message.c_str());
    return refused;
  }
  r->proof = {static_cast<uint32_t>(::getuid()), *path, nonce};
  // Queued, the answer can take as long as the queue timeout.
  auto timeout = o.timeout + std::chrono::milliseconds(r->queue ? r->queue_timeout_ms : 0);
  code = s.ask_within<job_info>(
      timeout,
      [&](job_info &i) {
        print(o, to_json(i), "job " + i.id + " started in " + i.cgroup + "\n");
        return done;
      },
      *r);
  ::unlink(path->c_str());
  return code;
}

int print_jobs(session &s, const options &o) {
  return s.ask<std::vector<job_info>>(
      [&](std::vector<job_info> &all) {
        json j = json::array();
        std::string t =
            "JOB                  STATE            PID  PRIO   MEMORY        CPU      AGE\n";
        for (auto &i : all) {
          j.push_back(to_json(i));
          char buf[256];
          std::snprintf(buf, sizeof buf, "%-20s %-14s %6d %5d %8.1f M %8.2f s %7.0f s\n",
                        i.id.c_str(), state_of(i).c_str(), i.pid, i.priority,
                        double(i.memory_current) / (1 << 20), i.cpu_s, i.age_s);
          t += buf;
        }
        print(o, j, t);
        return done;
      },
      atom::jobs_v);
}

int print_stats(session &s, const options &o) {
  return s.ask<std::vector<pressure_line>>(
      [&](std::vector<pressure_line> &lines) {
        json j = json::object();
        std::string t = "PRESSURE         AVG10    AVG60   AVG300      TOTAL\n";
        for (auto &l : lines) {
          j[l.resource] = {{"avg10", l.avg10},
                           {"avg60", l.avg60},
                           {"avg300", l.avg300},
                           {"total_us", l.total_us}};
          char buf[160];
          std::snprintf(buf, sizeof buf, "%-12s %7.2f %% %6.2f %% %6.2f %% %9.1f s\n",
                        l.resource.c_str(), l.avg10, l.avg60, l.avg300, double(l.total_us) / 1e6);
          t += buf;
        }
        print(o, j, t);
        return done;
      },
      atom::stats_v);
}

// inspect, wait, kill, freeze, thaw, remove: a job_command each.
int job_command_of(session &s, const options &o) {
  job_command c{o.args[1], o.args[0]};
  if (c.verb == "kill" && o.args.size() > 2) {
    auto n = o.args.size() == 4 && o.args[2] == "--signal"
                 ? sys::text::parse_number<int32_t>(o.args[3])
                 : std::nullopt;
    if (!n)
      return fail_usage("kill ID [--signal N]");
    c.value = *n;
  }
  auto on_reply = [&](job_info &i) {
    if (c.verb == "inspect" || c.verb == "wait")
      print(o, to_json(i), job_table(i));
    else
      print(o, to_json(i), c.verb + " " + i.id + ": done (" + state_of(i) + ")\n");
    return c.verb == "wait" ? exit_of(i) : int(done);
  };
  if (c.verb == "wait")
    return s.ask_within<job_info>(caf::infinite, on_reply, c);
  return s.ask<job_info>(on_reply, c);
}

int job_logs(session &s, const options &o) {
  bool follow = o.args.size() == 3 && o.args[2] == "--follow";
  if (o.args.size() == 3 && !follow)
    return fail_usage("logs ID [--follow]");
  job_log_cursor at{o.args[1]};
  for (;;) {
    bool ended = true;
    int code = s.ask<job_log_chunk>(
        [&](job_log_chunk &c) {
          std::fwrite(c.text.data(), 1, c.text.size(), stdout);
          std::fflush(stdout);
          at = c.next;
          ended = c.ended && c.text.empty();
          return done;
        },
        at);
    if (code != done || !follow || ended)
      return code;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

} // namespace ballast::ctl
