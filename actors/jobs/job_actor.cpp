// See job_actor.hpp.
#include "actors/jobs/job_actor.hpp"

#include "actors/jobs/job_events.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/io_stat.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"

#include <caf/all.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ballast {

namespace {

using namespace std::chrono_literals;
constexpr auto internal_timeout = 5s;
constexpr int32_t job_claim_priority = 1000; // an operator's, like the control's freeze
constexpr uint64_t log_chunk_max = 1u << 20;
constexpr auto metrics_interval = 5s;

struct job_state {
  static constexpr const char *name = "job";

  std::shared_ptr<const jobs_context> ctx;
  std::string dir;
  jobs::job_record record;
  int pidfd = -1;
  bool child = false;
  std::unique_ptr<fd_watch::handle> watch;
  bool ended = false;
  jobs::job_end end;
  std::vector<caf::typed_response_promise<job_info>> waiters;
  std::string frozen_by;     // who holds the freeze claim: "operator" or a response rule
  bool demoted = false;      // a claim on cpu.weight (the response's demote)
  std::string counted_state; // in ballast_jobs{state}
  prometheus::Gauge *memory = nullptr;
  prometheus::Counter *cpu = nullptr;

  job_state() = default;
  ~job_state() {
    watch.reset(); // before the fd closes: its number could be reused
    if (pidfd >= 0)
      ::close(pidfd);
  }

  std::string cgroup_file(std::string_view f) const {
    return sys::join_cgroup_path(ctx->cgroup_root, record.cgroup) + "/" + std::string(f);
  }
};

using job_self = job_actor::stateful_pointer<job_state>;

uint64_t flat_value(const std::string &text, std::string_view key) {
  for (auto &[k, v] : sys::parse_flat_keyed(text))
    if (k == key)
      return v;
  return 0;
}

double psi_some(const job_state &s, std::string_view file) {
  auto text = sys::read_small_file(s.cgroup_file(file));
  auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
  return psi ? psi->some.avg10 : 0;
}

uint64_t number_in(const job_state &s, std::string_view file) {
  auto text = sys::read_small_file(s.cgroup_file(file));
  uint64_t n = 0;
  if (text)
    std::from_chars(text->data(), text->data() + text->size(), n);
  return n;
}

double cpu_seconds(const job_state &s) {
  auto stat = sys::read_small_file(s.cgroup_file(sys::files::cpu_stat));
  return stat ? double(flat_value(*stat, "usage_usec")) / 1e6 : 0;
}

std::string state_name(const job_state &s) {
  if (!s.ended)
    return "running";
  if (!s.end.error.empty())
    return "failed";
  if (s.end.signal > 0)
    return "killed";
  return s.end.exit_code >= 0 ? "exited" : "lost";
}

// ballast_jobs{state} and the job's own series, as the job is now.
void update_metrics(job_state &s) {
  auto &m = s.ctx->metrics->jobs();
  auto now = state_name(s);
  if (now != s.counted_state)
    m.state_changed(s.counted_state, now);
  s.counted_state = now;
  if (!s.memory) {
    prometheus::Labels job{{"job", s.record.request.id}};
    s.memory = &s.ctx->metrics->add_series(m.memory, job);
    s.cpu = &s.ctx->metrics->add_series(m.cpu, job);
  }
  s.memory->Set(double(number_in(s, sys::files::memory_current)));
  if (auto d = cpu_seconds(s) - s.cpu->Value(); d > 0)
    s.cpu->Increment(d);
}

job_info describe(const job_state &s) {
  job_info i;
  auto &r = s.record;
  i.id = r.request.id;
  i.cgroup = r.cgroup;
  i.argv = r.request.argv;
  i.uid = r.uid;
  i.priority = r.request.priority;
  i.pid = jobs::read_main_pid(s.dir);
  i.into_cgroup = r.into_cgroup;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  i.age_s = double(now_ms - r.created_unix_ms) / 1000;
  i.state = state_name(s);
  i.exit_code = s.end.exit_code;
  i.signal = s.end.signal;
  i.error = s.end.error;
  auto events = sys::read_small_file(s.cgroup_file(sys::files::events));
  i.frozen = events && flat_value(*events, "frozen") == 1;
  i.frozen_by = s.frozen_by;
  i.demoted = s.demoted;
  if (auto io = sys::read_small_file(s.cgroup_file(sys::files::io_stat)))
    for (auto &[dev, c] : sys::parse_io_stat(*io))
      i.io_bytes += c.rbytes + c.wbytes;
  i.cpu_s = cpu_seconds(s);
  i.memory_current = number_in(s, sys::files::memory_current);
  i.memory_peak = number_in(s, sys::files::memory_peak);
  if (auto mev = sys::read_small_file(s.cgroup_file(sys::files::memory_events)))
    i.oom_kills = flat_value(*mev, "oom_kill");
  i.cpu_some = psi_some(s, sys::files::cpu_pressure);
  i.memory_some = psi_some(s, sys::files::memory_pressure);
  i.io_some = psi_some(s, sys::files::io_pressure);
  return i;
}

// The shim is gone: how the job ended, from its status file; without one,
// from how the shim itself died where this agent is its parent.
void on_exit(job_self self) {
  auto &s = self->state;
  if (s.ended)
    return;
  siginfo_t info{};
  bool reaped = s.child && ::waitid(P_PIDFD, s.pidfd, &info, WEXITED | WNOHANG) == 0;
  if (auto end = jobs::read_end(s.dir)) {
    s.end = *end;
  } else if (reaped && info.si_code != CLD_EXITED) {
    s.end.signal = info.si_status; // the whole cgroup was killed (cgroup.kill, OOM group)
  } else {
    s.end.exit_code = -1; // lost: nobody saw how it ended
  }
  s.ended = true;
  s.watch.reset();
  update_metrics(s);
  auto i = describe(s);
  jobs::event(log::level::info, "job.exit", i.id,
              {{"state", i.state},
               {"exit_code", std::to_string(i.exit_code)},
               {"signal", std::to_string(i.signal)},
               {"oom_kills", std::to_string(i.oom_kills)}},
              "job ", i.id, " ", i.state,
              i.state == "exited"   ? " with " + std::to_string(i.exit_code)
              : i.state == "killed" ? " by signal " + std::to_string(i.signal)
              : i.state == "failed" ? ": " + i.error
                                    : ": its shim ended without a status",
              i.oom_kills ? " (" + std::to_string(i.oom_kills) + " OOM kills)" : "");
  if (i.oom_kills)
    jobs::event(log::level::warn, "job.oom", i.id, {{"oom_kills", std::to_string(i.oom_kills)}},
                "job ", i.id, ": the OOM killer killed ", i.oom_kills, " of its processes");
  for (auto &w : s.waiters)
    w.deliver(i);
  s.waiters.clear();
}

// Runs then(cgroup_actor) with the actor of the job's cgroup.
template <class Promise, class F> void with_cgroup_actor(job_self self, Promise rp, F then) {
  self->request(self->state.ctx->supervisor, internal_timeout, atom::config_v)
      .then(
          [=](caf::actor &reg, config::agent &) mutable {
            self->request(caf::actor_cast<registry_actor>(reg), internal_timeout, atom::find_v,
                          self->state.record.cgroup)
                .then([=](caf::actor &cg) mutable { then(caf::actor_cast<cgroup_actor>(cg)); },
                      [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
          },
          [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
}

// A command carried out: counted (ballast_job_actions_total{action, by})
// and told to watchers as the event "job.ACTION", its text "job ID ...",
// with who asked (by: operator or response) and, for the response, its
// rule and reason.
template <class... Ts>
void carried_out(const job_state &s, const job_command &c,
                 std::vector<std::pair<std::string, std::string>> fields, const Ts &...what) {
  bool ours = !c.rule.empty();
  s.ctx->metrics->jobs().action(c.verb, ours ? "response" : "operator");
  fields.push_back({"by", ours ? "response" : "operator"});
  if (ours) {
    fields.push_back({"rule", c.rule});
    fields.push_back({"reason", c.reason});
  }
  jobs::event(ours ? log::level::warn : log::level::info, "job." + c.verb, s.record.request.id,
              std::move(fields), "job ", s.record.request.id, what...,
              ours ? " by the response (" + c.rule + "): " + c.reason : "");
}

caf::error refusal(std::string why) {
  return caf::make_error(caf::sec::invalid_argument, std::move(why));
}

// Whether pid is a process of the job's cgroup now (not a reused pid).
bool in_job(const job_state &s, int pid) {
  auto text = sys::read_small_file(s.ctx->proc_root + "/" + std::to_string(pid) + "/cgroup");
  auto cg = text ? sys::parse_proc_cgroup_v2(*text) : result<std::string>(text.err());
  return cg && *cg == s.record.cgroup;
}

// A claim on one of the job cgroup's knobs ("" value: the claim given
// back), then the job as it is, or the error.
caf::result<job_info> claim(job_self self, const job_command &c, std::string_view knob,
                            std::string value, std::function<void()> done) {
  auto rp = self->make_response_promise<job_info>();
  with_cgroup_actor(self, rp, [=, knob = std::string(knob)](cgroup_actor cg) mutable {
    auto answer = [=]() mutable {
      done();
      rp.deliver(describe(self->state));
    };
    if (!value.empty()) {
      self->request(cg, internal_timeout,
                    claim_request{knob, value, job_claim_priority,
                                  "job " + self->state.record.request.id + ": " + c.verb +
                                      (c.reason.empty() ? "" : " (" + c.reason + ")")})
          .then([=](claim_reply &) mutable { answer(); },
                [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
      return;
    }
    // A message to the cgroup actor, then a status request: a request
    // would say when the claim is gone, an unclaim has no reply.
    self->send(cg, atom::unclaim_v, knob);
    self->request(cg, internal_timeout, atom::status_v)
        .then([=](cgroup_status &) mutable { answer(); },
              [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
  });
  return rp;
}

caf::result<job_info> freeze(job_self self, const job_command &c) {
  auto &s = self->state;
  // The response does not take over an operator's freeze.
  if (!c.rule.empty() && !s.frozen_by.empty())
    return describe(s);
  auto by = c.rule.empty() ? std::string("operator") : c.rule;
  return claim(self, c, knobs::cgroup_freeze.name, "1", [=] {
    self->state.frozen_by = by;
    carried_out(self->state, c, {}, " frozen");
  });
}

caf::result<job_info> thaw(job_self self, const job_command &c) {
  auto &s = self->state;
  // The response thaws only what it froze.
  if (!c.rule.empty() && s.frozen_by != c.rule)
    return describe(s);
  return claim(self, c, knobs::cgroup_freeze.name, "", [=] {
    self->state.frozen_by.clear();
    carried_out(self->state, c, {}, " thawed");
  });
}

caf::result<job_info> demote(job_self self, const job_command &c) {
  if (c.rule.empty())
    return refusal("demote is the response's own");
  if (c.value < 1 || c.value > 10000)
    return refusal("demote: " + std::to_string(c.value) + " is not a cpu.weight 1..10000");
  return claim(self, c, knobs::cpu_weight.name, std::to_string(c.value), [=] {
    self->state.demoted = true;
    carried_out(self->state, c, {{"weight", std::to_string(c.value)}}, " demoted to cpu.weight ",
                c.value);
  });
}

caf::result<job_info> restore(job_self self, const job_command &c) {
  if (c.rule.empty())
    return refusal("restore is the response's own");
  if (!self->state.demoted)
    return describe(self->state);
  return claim(self, c, knobs::cpu_weight.name, "", [=] {
    self->state.demoted = false;
    carried_out(self->state, c, {}, " has its cpu.weight back");
  });
}

caf::result<job_info> send_signal(job_self self, const job_command &c) {
  auto &s = self->state;
  int32_t sig = c.value;
  if (sig < 1 || sig > 64)
    return refusal("--signal: " + std::to_string(sig) + " is not a signal 1..64");
  if (s.ended) {
    if (sig != SIGKILL)
      return refusal("job " + s.record.request.id + " has ended");
    // What it left behind.
    auto w = sys::write_small_file(s.cgroup_file(knobs::cgroup_kill.name), "1");
    if (!w)
      return refusal(w.err().message);
    return describe(s);
  }
  int pid = jobs::read_main_pid(s.dir);
  if (pid <= 0 || !in_job(s, pid))
    return refusal("job " + s.record.request.id + " has no main process yet");
  if (::kill(-pid, sig) < 0 && ::kill(pid, sig) < 0)
    return refusal("kill " + std::to_string(pid) + ": " + std::strerror(errno));
  carried_out(s, c, {{"signal", std::to_string(sig)}, {"pid", std::to_string(pid)}}, ": signal ",
              sig, " sent to ", pid);
  // A frozen job dies of SIGKILL, but its shim cannot tell until thawed.
  if (sig == SIGKILL && !s.frozen_by.empty())
    return claim(self, c, knobs::cgroup_freeze.name, "", [=] { self->state.frozen_by.clear(); });
  return describe(s);
}

caf::result<job_info> remove(job_self self, const job_command &c) {
  auto &s = self->state;
  auto &id = s.record.request.id;
  if (!s.ended)
    return refusal("job " + id + " is running: kill it first");
  auto last = describe(s);
  if (last.frozen)
    return refusal("job " + id + " is frozen: thaw it first");
  auto cg = sys::join_cgroup_path(s.ctx->cgroup_root, s.record.cgroup);
  if (::rmdir(cg.c_str()) < 0 && errno != ENOENT) {
    if (errno == EBUSY)
      return refusal("job " + id + " left processes behind: ballastctl kill " + id +
                     " --signal 9 first");
    return refusal("rmdir " + cg + ": " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::remove_all(s.dir, ec);
  if (ec)
    log::warn("jobs", "job ", id, ": its directory ", s.dir, " stays: ", ec.message());
  carried_out(s, c, {}, " removed");
  auto &m = s.ctx->metrics->jobs();
  m.state_changed(s.counted_state, "");
  s.ctx->metrics->remove_series(m.memory, s.memory);
  s.ctx->metrics->remove_series(m.cpu, s.cpu);
  self->quit();
  last.state = "removed";
  return last;
}

caf::result<job_info> wait(job_self self) {
  auto rp = self->make_response_promise<job_info>();
  if (self->state.ended)
    rp.deliver(describe(self->state));
  else
    self->state.waiters.push_back(rp);
  return rp;
}

job_actor::behavior_type job(job_self self, std::shared_ptr<const jobs_context> ctx,
                             std::string dir, jobs::job_record record, int pidfd, bool child) {
  auto &s = self->state;
  s.ctx = std::move(ctx);
  s.dir = std::move(dir);
  s.record = std::move(record);
  s.pidfd = pidfd;
  s.child = child;
  update_metrics(s);
  if (pidfd < 0) {
    on_exit(self); // ended while no agent was looking
  } else if (auto w = s.ctx->exits->add(pidfd, EPOLLIN | EPOLLONESHOT,
                                        [self = caf::actor_cast<job_actor>(self)] {
                                          caf::anon_send(self, atom::exited_v);
                                        })) {
    s.watch = std::move(*w);
  } else {
    log::error("jobs", "job ", s.record.request.id, ": ", w.err().message,
               ": its end will not be seen");
  }
  if (!s.ended)
    self->delayed_send(self, metrics_interval, atom::tick_v);
  return {
      [=](job_command &c) -> caf::result<job_info> {
        if (c.verb == "inspect")
          return describe(self->state);
        if (c.verb == "wait")
          return wait(self);
        if (c.verb == "kill")
          return send_signal(self, c);
        if (c.verb == "freeze")
          return freeze(self, c);
        if (c.verb == "thaw")
          return thaw(self, c);
        if (c.verb == "demote")
          return demote(self, c);
        if (c.verb == "restore")
          return restore(self, c);
        if (c.verb == "remove")
          return remove(self, c);
        return refusal("'" + c.verb + "' is not a job command");
      },
      [=](job_log_cursor &at) {
        auto chunk = jobs::read_log(self->state.dir, at, log_chunk_max);
        chunk.ended = self->state.ended;
        return chunk;
      },
      [=](atom::exited) { on_exit(self); },
      [=](atom::tick) {
        update_metrics(self->state);
        if (!self->state.ended)
          self->delayed_send(self, metrics_interval, atom::tick_v);
      },
  };
}

} // namespace

job_actor spawn_job(caf::actor_system &sys, std::shared_ptr<const jobs_context> ctx,
                    std::string dir, jobs::job_record record, int pidfd, bool child) {
  return sys.spawn(job, std::move(ctx), std::move(dir), std::move(record), pidfd, child);
}

} // namespace ballast
