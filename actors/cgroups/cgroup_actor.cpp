// The cgroup actor: process membership and enrolment, the end of policies
// (monitoring) and of the cgroup itself, and the behavior. Its knobs —
// claims, journal, writes, dry-run — are its effector's.
#include "actors/cgroups/cgroup_actor.hpp"

#include "actors/effector/owner.hpp"
#include "actors/laws/restart_backoff.hpp"
#include "actors/policies/policy.hpp"
#include "actors/probe/cgroup_probe.hpp"
#include "config/config.hpp"
#include "config/selector.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace ballast {

namespace {

struct enrolled_policy {
  std::string name;
  policy_actor handle;
};

struct cgroup_state {
  static constexpr const char *name = "cgroup";

  cgroup_spec spec;
  std::shared_ptr<const cgroup_context> ctx;
  knob_owner owner;
  std::shared_ptr<cgroup_probe> probe;
  std::unique_ptr<file_watch::handle> memory_events_watch; // OOM kills seen as they happen
  std::vector<compiled_selector> selectors;                // parallel to spec.policies
  std::map<int32_t, std::vector<enrolled_policy>> procs;   // pid -> its policies
  std::unordered_map<caf::actor_id, int32_t> policy_pid;   // live policy -> pid
  std::vector<enrolled_policy> cgroup_policies;            // policies acting on the whole cgroup

  // Policies that failed, by (policy, pid or 0), and those parked.
  std::map<std::pair<std::string, int32_t>, restart_backoff> failed;
  std::set<std::pair<std::string, int32_t>> parked; // not restarted any more

  // CAF runs this however the actor ended: one that ended without its stop
  // (an exception, a kill) still puts every claimed knob back (the
  // effector's destructor) and ends its policies.
  ~cgroup_state() {
    if (!ctx)
      return;
    owner.knobs.reset();
    for (auto &[pid, mine] : procs)
      for (auto &p : mine)
        caf::anon_send_exit(p.handle, caf::exit_reason::user_shutdown);
    for (auto &p : cgroup_policies)
      caf::anon_send_exit(p.handle, caf::exit_reason::user_shutdown);
    for (auto &p : parked)
      ctx->metrics->policy_parked(p.first, -1);
    ctx->metrics->actor_stopped(actor_type::cgroup);
  }

  void compile_selectors() {
    selectors.clear();
    for (auto &p : spec.policies)
      selectors.emplace_back(p.select);
  }
};

using cgroup_self = cgroup_actor::stateful_pointer<cgroup_state>;

bool is_shutdown(const caf::error &reason) {
  return !reason || reason == caf::exit_reason::user_shutdown || reason == caf::exit_reason::normal;
}

bool is_parked(cgroup_self self, const std::string &policy, int32_t pid) {
  return self->state.parked.count({policy, pid}) > 0;
}

// Forgets the failures of pid's policies (the process is gone), or of all
// of them (pid < 0: a new config): parked ones may run again.
void forget_failures(cgroup_self self, int32_t pid) {
  auto &st = self->state;
  std::erase_if(st.failed, [&](auto &f) { return pid < 0 || f.first.second == pid; });
  std::erase_if(st.parked, [&](auto &p) {
    bool drop = pid < 0 || p.second == pid;
    if (drop)
      st.ctx->metrics->policy_parked(p.first, -1);
    return drop;
  });
}

// --- policies and processes ----------------------------------------------

void end_policy(cgroup_self self, const enrolled_policy &p) {
  self->send_exit(p.handle, caf::exit_reason::user_shutdown);
}

void forget_process(cgroup_self self, int32_t pid) {
  auto it = self->state.procs.find(pid);
  if (it == self->state.procs.end())
    return;
  for (auto &p : it->second)
    end_policy(self, p);
  self->state.procs.erase(it);
  forget_failures(self, pid);
}

policy_actor spawn_policy(cgroup_self self, const config::policy &cfg, policy_target target) {
  auto &st = self->state;
  policy_env env{st.ctx->cgroup_root,
                 st.ctx->proc.root(),
                 st.ctx->metrics,
                 caf::actor_cast<cgroup_actor>(self),
                 st.probe,
                 st.ctx->triggers};
  auto handle = find_policy_type(cfg.type)->spawn(self->system(), cfg, target, env);
  self->monitor(handle);
  if (st.ctx->policy_spawned)
    st.ctx->policy_spawned(cfg.name, caf::actor_cast<caf::actor>(handle));
  return handle;
}

// memory.events is read whenever the kernel changes it, so every OOM kill
// is logged and counted whether or not a policy samples the cgroup (the
// last process killed takes its policies with it). Where the memory
// controller is off there is no file, and nothing to watch.
void watch_memory_events(cgroup_self self) {
  auto &st = self->state;
  if (!st.ctx->files || !st.probe)
    return;
  st.probe->memory_events_changed(); // the counts so far: kills before are not news
  auto file = sys::join_cgroup_path(st.ctx->cgroup_root, st.spec.path) + "/" +
              std::string(sys::files::memory_events);
  auto w = st.ctx->files->add(file, [probe = st.probe] { probe->memory_events_changed(); });
  if (w)
    st.memory_events_watch = std::move(*w);
  else if (w.err().code != ENOENT)
    log::warn("cgroup", w.err().message, ": OOM kills in ", st.spec.path,
              " are seen only when sampled");
}

// Starts the policies that act on the whole cgroup and are not running.
void start_cgroup_policies(cgroup_self self) {
  auto &st = self->state;
  for (auto &cfg : st.spec.policies) {
    if (find_policy_type(cfg.type)->scope != policy_scope::cgroup)
      continue;
    if (std::any_of(st.cgroup_policies.begin(), st.cgroup_policies.end(),
                    [&](auto &p) { return p.name == cfg.name; }) ||
        is_parked(self, cfg.name, 0))
      continue;
    auto handle = spawn_policy(self, cfg, {0, {}, st.spec.path, st.spec.id, monotonic_ns()});
    st.cgroup_policies.push_back({cfg.name, handle});
  }
}

// What selectors match on. Events from the kernel carry comm and uid, so
// /proc is read only for processes found by a scan, and for exe only when a
// selector asks for it: enrolment stays off the slow path.
std::optional<sys::process_info> identify(cgroup_self self, int32_t pid, const cgroup_event *ev) {
  auto &st = self->state;
  sys::process_info info;
  if (ev) {
    info.pid = pid;
    info.comm = ev->comm;
    info.uid = ev->uid;
  } else if (auto r = st.ctx->proc.read(pid)) {
    info = std::move(*r);
  } else {
    st.ctx->metrics->proc_read_failed();
    log::debug("cgroup", "pid ", pid, " in ", st.spec.path,
               " gone before /proc was read: ", r.err().message);
    return std::nullopt;
  }
  bool exe_wanted =
      std::any_of(st.selectors.begin(), st.selectors.end(), [](auto &s) { return s.needs_exe(); });
  if (exe_wanted && info.exe.empty())
    info.exe = st.ctx->proc.exe(pid);
  return info;
}

// Enrols pid with every policy whose selector matches now and ends those
// that no longer match (an exec can change comm and exe). ev is the kernel
// event that brought the process, or null for a scan.
void enrol(cgroup_self self, int32_t pid, uint64_t ktime_ns, const cgroup_event *ev) {
  auto &st = self->state;
  auto info = identify(self, pid, ev);
  if (!info) {
    forget_process(self, pid);
    return;
  }
  auto &mine = st.procs[pid];
  for (size_t i = 0; i < st.spec.policies.size(); ++i) {
    auto &cfg = st.spec.policies[i];
    if (find_policy_type(cfg.type)->scope != policy_scope::process)
      continue;
    auto it = std::find_if(mine.begin(), mine.end(), [&](auto &p) { return p.name == cfg.name; });
    bool want = st.selectors[i].matches(*info) && !is_parked(self, cfg.name, pid);
    if (want && it == mine.end()) {
      auto handle = spawn_policy(self, cfg, {pid, info->comm, st.spec.path, st.spec.id, ktime_ns});
      st.policy_pid[handle->id()] = pid;
      mine.push_back({cfg.name, handle});
    } else if (!want && it != mine.end()) {
      end_policy(self, *it);
      mine.erase(it);
    } else if (want && ev && ev->kind == event_kind::exec) {
      self->send(it->handle, atom::exec_v, info->comm);
    }
  }
}

// A policy failed: start it again after a backoff, or park it after too
// many failures in a row. Its claims were restored already.
void after_failure(cgroup_self self, const std::string &policy, int32_t pid) {
  auto &st = self->state;
  auto &f = st.failed[{policy, pid}];
  auto backoff = f.failed(self->clock().now());
  auto target = pid ? "pid " + std::to_string(pid) : std::string("the cgroup");
  if (!backoff) {
    st.parked.insert({policy, pid});
    st.ctx->metrics->policy_parked(policy, 1);
    log::error("cgroup", "policy ", policy, " for ", target, " in ", st.spec.path, " failed ",
               f.in_a_row(),
               " times in a row: parked until the config changes or the process goes");
    return;
  }
  log::warn("cgroup", "policy ", policy, " for ", target, " in ", st.spec.path, " failed (",
            f.in_a_row(), " in a row): restarting in ", backoff->count(), " ms");
  self->delayed_send(self, *backoff, atom::restart_v, policy, pid);
}

// The delayed restart of a failed policy, if its target is still here and
// it is still wanted (enrol and start_cgroup_policies decide that).
void restart_policy(cgroup_self self, const std::string &policy, int32_t pid) {
  auto &st = self->state;
  auto f = st.failed.find({policy, pid});
  if (f == st.failed.end() || is_parked(self, policy, pid))
    return; // forgotten meanwhile: the process went or the config changed
  f->second.started(self->clock().now());
  st.ctx->metrics->actor_restarted(actor_type::policy);
  if (pid == 0)
    start_cgroup_policies(self);
  else if (st.procs.count(pid))
    enrol(self, pid, monotonic_ns(), nullptr);
}

void on_down(cgroup_self self, const caf::down_msg &dm) {
  auto &st = self->state;
  auto id = dm.source.id();
  bool failed = !is_shutdown(dm.reason);
  if (failed)
    log::warn("cgroup", "a policy in ", st.spec.path, " failed: ", to_string(dm.reason));
  st.owner.knobs->release_owner(id, failed ? restore_reason::policy_failed
                                           : restore_reason::policy_ended);
  auto is_it = [&](auto &p) { return p.handle.address() == dm.source; };
  if (auto c = std::find_if(st.cgroup_policies.begin(), st.cgroup_policies.end(), is_it);
      c != st.cgroup_policies.end()) {
    auto name = c->name;
    st.cgroup_policies.erase(c);
    if (failed)
      after_failure(self, name, 0);
    return;
  }
  auto it = st.policy_pid.find(id);
  if (it == st.policy_pid.end())
    return;
  auto pid = it->second;
  st.policy_pid.erase(it);
  auto proc = st.procs.find(pid);
  if (proc == st.procs.end())
    return;
  auto p = std::find_if(proc->second.begin(), proc->second.end(), is_it);
  if (p == proc->second.end())
    return;
  auto name = p->name;
  proc->second.erase(p);
  if (failed)
    after_failure(self, name, pid);
}

void on_members(cgroup_self self, const cgroup_members &m) {
  std::vector<int32_t> gone;
  for (auto &[pid, _] : self->state.procs)
    if (std::find(m.pids.begin(), m.pids.end(), pid) == m.pids.end())
      gone.push_back(pid);
  for (auto pid : gone)
    forget_process(self, pid);
  for (auto pid : m.pids)
    if (!self->state.procs.count(pid))
      enrol(self, pid, m.ktime_ns, nullptr);
}

// Starts what is wanted and not running: the cgroup's own policies, and
// those of every member process.
void enrol_all(cgroup_self self) {
  start_cgroup_policies(self);
  std::vector<int32_t> pids;
  for (auto &[pid, _] : self->state.procs)
    pids.push_back(pid);
  for (auto pid : pids)
    enrol(self, pid, monotonic_ns(), nullptr);
}

void on_policies(cgroup_self self, std::vector<config::policy> all) {
  auto &st = self->state;
  auto next = policies_for(all, st.spec.path);
  // End every policy actor whose config is gone or changed.
  auto unchanged = [&](const enrolled_policy &p) {
    auto it = std::find_if(next.begin(), next.end(), [&](auto &c) { return c.name == p.name; });
    auto old = std::find_if(st.spec.policies.begin(), st.spec.policies.end(),
                            [&](auto &c) { return c.name == p.name; });
    bool keep = it != next.end() && old != st.spec.policies.end() && *it == *old;
    if (!keep)
      end_policy(self, p);
    return keep;
  };
  for (auto &[pid, mine] : st.procs)
    std::erase_if(mine, [&](auto &p) { return !unchanged(p); });
  std::erase_if(st.cgroup_policies, [&](auto &p) { return !unchanged(p); });
  st.spec.policies = std::move(next);
  st.compile_selectors();
  forget_failures(self, -1); // a new config: parked policies get a new chance
  enrol_all(self);
}

// After an operator's release: every policy of this cgroup starts again as
// a fresh actor, from a known state, and claims anew from its first step.
void restart_policies(cgroup_self self) {
  auto &st = self->state;
  for (auto &[pid, mine] : st.procs) {
    for (auto &p : mine)
      end_policy(self, p);
    mine.clear();
  }
  for (auto &p : st.cgroup_policies)
    end_policy(self, p);
  st.cgroup_policies.clear();
  st.policy_pid.clear();
  enrol_all(self);
}

cgroup_status make_status(cgroup_self self) {
  auto &st = self->state;
  cgroup_status s{st.spec.path, st.spec.id, {}, {}, st.owner.knobs->standing_claims()};
  for (auto &[pid, mine] : st.procs) {
    s.pids.push_back(pid);
    for (auto &p : mine)
      s.policies.push_back(p.name + ":" + std::to_string(pid));
  }
  for (auto &p : st.cgroup_policies)
    s.policies.push_back(p.name + ":cgroup");
  return s;
}

// Ends every policy and restores every knob; replies done once the knob
// writer has finished the restores handed to it.
caf::result<atom::done> shutdown(cgroup_self self) {
  auto &st = self->state;
  for (auto &[pid, mine] : st.procs)
    for (auto &p : mine)
      end_policy(self, p);
  for (auto &p : st.cgroup_policies)
    end_policy(self, p);
  st.procs.clear();
  st.cgroup_policies.clear();
  return stop_owner(self, st.owner);
}

cgroup_actor::behavior_type cgroup_behavior(cgroup_self self, cgroup_spec spec,
                                            std::shared_ptr<const cgroup_context> ctx) {
  auto &st = self->state;
  auto target = cgroup_target::open(ctx->cgroup_root, spec.path);
  st.spec = std::move(spec);
  st.ctx = ctx;
  ctx->metrics->actor_started(actor_type::cgroup);
  if (!target) {
    log::debug("cgroup", "cgroup ", st.spec.path, " is gone: ", target.err().message);
    self->quit();
    return cgroup_actor::behavior_type::make_empty_behavior();
  }
  st.owner.knobs.emplace(effector_deps{ctx->metrics, ctx->knob_journal, ctx->writer},
                         knobs::scope::cgroup, std::move(*target), st.spec.dry_run, post_to(self));
  // The probe has fds of its own: policies read through it from their own
  // threads, and the actor's writer fds are never shared.
  if (auto reader = sys::cgroup_dir::open(ctx->cgroup_root, st.spec.path))
    st.probe = std::make_shared<cgroup_probe>(std::move(*reader), ctx->metrics, ctx->sched,
                                              st.spec.series);
  watch_memory_events(self);
  st.compile_selectors();
  self->set_down_handler([=](caf::down_msg &dm) { on_down(self, dm); });
  start_cgroup_policies(self);
  return {
      [=](cgroup_event &ev) {
        if (ev.kind == event_kind::exit) {
          forget_process(self, ev.pid);
          if (self->state.probe)
            self->state.probe->forget_process(ev.pid);
        } else
          enrol(self, ev.pid, ev.ktime_ns, &ev);
        self->state.ctx->metrics->event_handled(ev.ktime_ns);
      },
      [=](cgroup_members &m) { on_members(self, m); },
      [=](sched_sample &s) {
        if (self->state.probe)
          self->state.probe->add_sched_sample(s, self->clock().now());
      },
      [=](gpu_sample &s) {
        if (self->state.probe)
          self->state.probe->add_gpu_sample(s);
      },
      [=](atom::reload, std::vector<config::policy> &all) { on_policies(self, std::move(all)); },
      [=](atom::dry_run, bool on) { self->state.owner.knobs->set_dry_run(on); },
      // Policies spawned here are monitored already; others (control) not.
      [=](claim_request &req) {
        auto &st = self->state;
        auto sender = self->current_sender();
        return claim_by_sender(self, st.owner, req, sender && st.policy_pid.count(sender->id()));
      },
      [=](action_request &req) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        self->state.owner.knobs->action(req, reply_to(rp));
        return rp;
      },
      [=](write_done &w) { on_write_done(self, self->state.owner, w); },
      [=](atom::release, atom::all) {
        auto changed = self->state.owner.knobs->release_all(restore_reason::released);
        restart_policies(self);
        return uint64_t(changed);
      },
      [=](atom::unclaim, std::string &knob) {
        auto owner = self->current_sender() ? self->current_sender()->id() : 0;
        self->state.owner.knobs->release(owner, knob, restore_reason::released);
      },
      [=](atom::restart, std::string &policy, int32_t pid) { restart_policy(self, policy, pid); },
      [=](atom::signals) {
        auto &st = self->state;
        sched_signals out{st.spec.id};
        if (auto v = st.probe ? st.probe->sched(self->clock().now()) : std::nullopt) {
          out.fresh = true;
          out.cpu_cores = v->cpu_cores.value_or(0);
          out.runq_p99_s = v->runq.p99.value_or(0);
          out.runq_waits = v->runq.waits;
        }
        return out;
      },
      [=](atom::status) { return make_status(self); },
      [=](atom::stop) { return shutdown(self); },
  };
}

} // namespace

bool is_compiled(const config::policy &p) {
  if (p.settings.value)
    return true;
  log::error("cgroup", "policy ", p.name, " left out: its config was never checked (a bug)");
  return false;
}

bool selects_cgroup(const config::policy &p, const std::string &path) {
  return std::any_of(p.select.cgroups.begin(), p.select.cgroups.end(),
                     [&](auto &g) { return config::glob_match(g, path); });
}

std::vector<config::policy> policies_for(const std::vector<config::policy> &all,
                                         const std::string &path) {
  std::vector<config::policy> out;
  for (auto &p : all)
    if (selects_cgroup(p, path) && is_compiled(p))
      out.push_back(p);
  return out;
}

cgroup_actor spawn_cgroup_actor(caf::actor_system &sys, cgroup_spec spec,
                                std::shared_ptr<const cgroup_context> ctx) {
  return sys.spawn(cgroup_behavior, std::move(spec), std::move(ctx));
}

} // namespace ballast
