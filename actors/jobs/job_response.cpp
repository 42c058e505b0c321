// See job_response.hpp.
#include "actors/jobs/job_response.hpp"

#include "actors/jobs/admission.hpp"
#include "actors/jobs/job_events.hpp"
#include "actors/laws/job_response.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/log.hpp"
#include "sys/spawn.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <csignal>
#include <set>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ballast {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
constexpr auto internal_timeout = 5s;
// The PSI triggers' window: the kernel's shortest, for the quickest reaction.
constexpr std::chrono::microseconds trigger_window = 500ms;

// A pre-kill hook that runs: the kill waits for it.
struct running_hook {
  int pidfd = -1;
  std::unique_ptr<fd_watch::handle> watch;
  job_command kill;
  ~running_hook() {
    watch.reset(); // before the fd closes: its number could be reused
    if (pidfd >= 0)
      ::close(pidfd);
  }
};

struct response_state {
  static constexpr const char *name = "job_response";

  std::shared_ptr<const jobs_context> ctx;
  job_supervisor_actor jobs;
  config::agent cfg;
  laws::job_response_law law{{}};
  std::map<std::string, uint64_t> totals; // stall µs by resource at the last read
  clock::time_point read_at{};
  std::set<std::string> triggered; // rules whose trigger fired since the last step
  bool stepping = false;
  std::vector<std::unique_ptr<psi_triggers::watch>> watches;
  std::string armed; // what the watches were armed for (root and rules)
  std::map<std::string, std::unique_ptr<running_hook>> hooks; // by job ID
  std::set<std::string> killing; // a kill sent (or its hook running), not yet seen ended

  response_state() = default;
};

using response_self = job_response_actor::stateful_pointer<response_state>;

// The host's stall since the last read, as a share of the time (%).
laws::response_reading read_pressure(response_state &s) {
  laws::response_reading out;
  auto now = clock::now();
  auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(now - s.read_at).count();
  for (auto &[resource, line] : jobs::read_host_psi(s.ctx->proc_root)) {
    auto seen = s.totals.find(resource);
    if (seen != s.totals.end() && elapsed_us > 0 && line.total_us >= seen->second)
      out.share[resource] =
          std::min(100.0, 100.0 * double(line.total_us - seen->second) / double(elapsed_us));
    s.totals[resource] = line.total_us;
  }
  s.read_at = now;
  out.triggered = std::move(s.triggered);
  s.triggered.clear();
  return out;
}

// A PSI trigger per rule on the job root's pressure file, at the rule's
// `above` over the trigger window; armed again when the rules change, and
// once the job root exists.
void arm(response_self self) {
  auto &s = self->state;
  auto &r = s.cfg.jobs_response;
  std::string want = s.cfg.jobs_root;
  for (auto &[name, rule] : laws::response_rules(r))
    if (rule->enabled)
      want += " " + name + ":" + rule->pressure + ">" + std::to_string(rule->above);
  if (want == s.armed || !s.ctx->triggers)
    return;
  auto root = sys::join_cgroup_path(s.ctx->cgroup_root, s.cfg.jobs_root);
  if (::access(root.c_str(), F_OK) < 0)
    return; // no job yet: the next tick looks again
  s.watches.clear();
  s.armed = want;
  for (auto &[name, rule] : laws::response_rules(r)) {
    if (!rule->enabled)
      continue;
    auto dot = rule->pressure.find('.');
    auto file = root + "/" + std::string(sys::files::pressure(rule->pressure.substr(0, dot)));
    auto kind = rule->pressure.substr(dot + 1);
    auto stall =
        std::chrono::microseconds(int64_t(rule->above / 100 * double(trigger_window.count())));
    auto w = s.ctx->triggers->add(file, kind.c_str(), stall, trigger_window,
                                  [self = caf::actor_cast<job_response_actor>(self), name = name] {
                                    caf::anon_send(self, atom::tick_v, name);
                                  });
    if (w)
      s.watches.push_back(std::move(*w));
    else
      log::warn("jobs", "response: no PSI trigger for the ", name, " rule (", w.err().message,
                "): it acts on the interval only");
  }
}

void send_command(response_self self, job_command c) {
  self->request(self->state.jobs, internal_timeout, c)
      .then([](job_info &) {},
            [c](caf::error &e) {
              log::warn("jobs", "response: ", c.verb, " ", c.id, ": ", caf::to_string(e));
            });
}

// Kills the job, after its hook (if one is configured) has ended or had
// its time.
void start_kill(response_self self, const job_info &j, const laws::response_action &a) {
  auto &s = self->state;
  s.killing.insert(j.id);
  job_command kill{j.id, "kill", SIGKILL, a.rule, a.reason};
  auto &hook = s.cfg.jobs_response.kill_hook;
  if (hook.empty())
    return send_command(self, std::move(kill));
  auto spawned = sys::spawn_in_cgroup(
      {{"/bin/sh", "-c", hook},
       {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "BALLAST_JOB_ID=" + j.id, "BALLAST_JOB_CGROUP=" + j.cgroup, "BALLAST_REASON=" + a.reason},
       -1,
       {}});
  if (!spawned) {
    log::warn("jobs", "response: the pre-kill hook for ", j.id, " did not start (",
              spawned.err().message, "): killing it now");
    return send_command(self, std::move(kill));
  }
  auto h = std::make_unique<running_hook>();
  h->pidfd = spawned->pidfd;
  h->kill = std::move(kill);
  auto done = [self = caf::actor_cast<job_response_actor>(self), id = j.id] {
    caf::anon_send(self, atom::done_v, id);
  };
  if (auto w = s.ctx->exits->add(h->pidfd, EPOLLIN | EPOLLONESHOT, done))
    h->watch = std::move(*w);
  jobs::event(log::level::warn, "job.kill_hook", j.id,
              {{"pid", std::to_string(spawned->pid)}, {"reason", a.reason}}, "job ", j.id,
              ": pre-kill hook started (pid ", spawned->pid, "), the kill follows within ",
              s.cfg.jobs_response.kill_hook_time.count(), " ms");
  self->delayed_send(self, s.cfg.jobs_response.kill_hook_time, atom::done_v, j.id);
  s.hooks[j.id] = std::move(h);
}

// The hook for job `id` has ended or had its time: stop it, kill the job.
void finish_kill(response_self self, const std::string &id) {
  auto it = self->state.hooks.find(id);
  if (it == self->state.hooks.end())
    return; // the other of exit and timeout came first
  auto h = std::move(it->second);
  self->state.hooks.erase(it);
  h->watch.reset();
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(h->pidfd), &info, WEXITED | WNOHANG) == 0 &&
      info.si_pid == 0) {
    log::warn("jobs", "response: the pre-kill hook for ", id, " is out of time: killed");
    ::syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, nullptr, 0);
    ::waitid(P_PIDFD, static_cast<id_t>(h->pidfd), &info, WEXITED);
  }
  send_command(self, h->kill);
}

void act(response_self self, const laws::response_reading &reading,
         const std::vector<job_info> &all) {
  auto &s = self->state;
  std::vector<laws::response_job> jobs;
  std::map<std::string, const job_info *> by_id;
  for (auto &j : all) {
    bool running = j.state == "running";
    if (s.killing.count(j.id)) {
      if (running)
        continue; // being killed: not a candidate for anything else
      s.killing.erase(j.id);
    }
    by_id[j.id] = &j;
    jobs.push_back(
        {j.id, j.priority, running, j.memory_current, j.io_bytes, j.frozen_by, j.demoted});
  }
  // A job removed meanwhile is no longer being killed.
  for (auto it = s.killing.begin(); it != s.killing.end();) {
    bool listed = std::any_of(all.begin(), all.end(), [&](auto &j) { return j.id == *it; });
    it = listed || s.hooks.count(*it) ? std::next(it) : s.killing.erase(it);
  }
  auto actions = s.law.step(clock::now(), reading, jobs);
  for (auto &name : s.law.rose()) {
    for (auto &[rule_name, rule] : laws::response_rules(s.cfg.jobs_response))
      if (rule_name == name) {
        auto share = reading.share.count(rule->pressure) ? reading.share.at(rule->pressure) : 0;
        log::event(
            log::level::warn, "jobs",
            {"jobs.pressure",
             {{"rule", name}, {"pressure", rule->pressure}, {"share", laws::percent_text(share)}}},
            "response: " + rule->pressure + " is above the " + name + " rule's " +
                laws::percent_text(rule->above));
      }
  }
  for (auto &a : actions) {
    if (a.verb == "kill")
      start_kill(self, *by_id.at(a.id), a);
    else
      send_command(self,
                   {a.id, a.verb, int32_t(s.cfg.jobs_response.demote_weight), a.rule, a.reason});
  }
}

void step(response_self self) {
  auto &s = self->state;
  if (s.stepping)
    return; // the step in flight takes what has fired meanwhile, or the next
  s.stepping = true;
  auto reading = read_pressure(s);
  self->request(s.jobs, internal_timeout, atom::jobs_v)
      .then(
          [=](std::vector<job_info> &all) {
            self->state.stepping = false;
            act(self, reading, all);
            if (!self->state.triggered.empty())
              step(self);
          },
          [=](caf::error &e) {
            self->state.stepping = false;
            log::warn("jobs", "response: the jobs did not answer: ", caf::to_string(e));
          });
}

job_response_actor::behavior_type job_response(response_self self,
                                               std::shared_ptr<const jobs_context> ctx,
                                               job_supervisor_actor jobs, config::agent cfg) {
  auto &s = self->state;
  s.ctx = std::move(ctx);
  s.jobs = std::move(jobs);
  s.law.configure(cfg.jobs_response);
  s.cfg = std::move(cfg);
  self->send(self, atom::tick_v);
  return {
      [=](atom::tick) {
        // The config in force (a reload changes the rules), then a step.
        self->request(self->state.ctx->supervisor, internal_timeout, atom::config_v)
            .then(
                [=](caf::actor &, config::agent &c) {
                  self->state.law.configure(c.jobs_response);
                  self->state.cfg = std::move(c);
                  arm(self);
                  step(self);
                },
                [=](caf::error &) { step(self); });
        self->delayed_send(self, self->state.cfg.jobs_response.interval, atom::tick_v);
      },
      [=](atom::tick, std::string &rule) {
        self->state.triggered.insert(std::move(rule));
        step(self);
      },
      [=](atom::done, std::string &id) { finish_kill(self, id); },
  };
}

} // namespace

job_response_actor spawn_job_response(caf::actor_system &sys,
                                      std::shared_ptr<const jobs_context> ctx,
                                      job_supervisor_actor jobs, config::agent cfg) {
  return sys.spawn(job_response, std::move(ctx), std::move(jobs), std::move(cfg));
}

} // namespace ballast
