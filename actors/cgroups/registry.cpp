// Registry actor: routing, scanning and reconciling; see registry.hpp.
#include "actors/cgroups/registry.hpp"

#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/fan_out.hpp"
#include "actors/laws/restart_backoff.hpp"
#include "actors/policies/policy.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"

#include <caf/all.hpp>

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace ballast {

namespace {

struct watched_cgroup {
  std::string path;
  cgroup_actor handle;
};

struct registry_state {
  static constexpr const char *name = "cgroup-registry";

  config::agent cfg;
  std::shared_ptr<const cgroup_context> ctx;
  std::unordered_map<uint64_t, watched_cgroup> cgroups; // cgroup id -> actor
  std::unordered_map<int32_t, uint64_t> pid_cgroup;     // watched pid -> cgroup id
  // Cgroup actors that failed, by cgroup id: respawned up to a limit.
  std::unordered_map<uint64_t, unsigned> cgroup_failures;
  // Group policies that failed (restarted with a backoff), and parked ones.
  std::map<std::string, restart_backoff> group_failures;
  std::set<std::string> groups_parked;
  // Group policies by name, with the config they were started with.
  std::map<std::string, std::pair<config::policy, group_policy_actor>> groups;
  // Watched cgroups with per-cgroup series (metrics.cgroups, up to
  // metrics.max_cgroups): 1,000 short-lived cgroups cannot blow up a scrape.
  std::unordered_set<uint64_t> series_ids;

  ~registry_state() {
    if (ctx)
      ctx->metrics->actor_stopped(actor_type::registry);
  }

  bool watched(const std::string &path) const {
    auto any = [&](const std::vector<std::string> &globs) {
      return std::any_of(globs.begin(), globs.end(),
                         [&](auto &g) { return config::glob_match(g, path); });
    };
    return any(cfg.watch_include) && !any(cfg.watch_exclude);
  }

  // Whether a newly watched cgroup gets series; one the cap leaves out is
  // counted. A changed cap or glob list applies to cgroups watched after.
  bool admit_series(uint64_t id, const std::string &path) {
    auto &globs = cfg.metrics_cgroups;
    if (!std::any_of(globs.begin(), globs.end(),
                     [&](auto &g) { return config::glob_match(g, path); }))
      return false;
    auto &m = ctx->metrics->sched();
    if (series_ids.size() >= cfg.metrics_max_cgroups) {
      m.series_left_out.Increment();
      return false;
    }
    series_ids.insert(id);
    m.series_cgroups.Set(double(series_ids.size()));
    return true;
  }

  void drop_series(uint64_t id) {
    if (series_ids.erase(id))
      ctx->metrics->sched().series_cgroups.Set(double(series_ids.size()));
  }
};

using registry_self = registry_actor::stateful_pointer<registry_state>;

// A source's samples, each to its cgroup's actor (one not watched: dropped).
template <class Sample> void route_samples(registry_self self, std::vector<Sample> &samples) {
  auto &cgroups = self->state.cgroups;
  for (auto &s : samples)
    if (auto it = cgroups.find(s.cgroup_id); it != cgroups.end())
      self->send(it->second.handle, std::move(s));
}

void start_watching(registry_self self, uint64_t id, const std::string &path) {
  auto &st = self->state;
  cgroup_spec spec{path, id, policies_for(st.cfg.policies, path), st.cfg.dry_run,
                   st.admit_series(id, path)};
  auto handle = spawn_cgroup_actor(self->system(), std::move(spec), st.ctx);
  self->monitor(handle); // a failed one is respawned (on_cgroup_down)
  st.cgroups[id] = {path, handle};
  for (auto &[name, g] : st.groups)
    if (selects_cgroup(g.first, path))
      self->send(g.second, group_member{id, path, handle});
}

// Ends the group policies that are gone or changed, starts the new ones and
// tells them their members.
void sync_groups(registry_self self) {
  auto &st = self->state;
  std::map<std::string, config::policy> wanted;
  for (auto &p : st.cfg.policies)
    if (find_policy_type(p.type)->scope == policy_scope::group && is_compiled(p))
      wanted[p.name] = p;
  for (auto it = st.groups.begin(); it != st.groups.end();) {
    auto w = wanted.find(it->first);
    if (w != wanted.end() && w->second == it->second.first) {
      wanted.erase(w);
      ++it;
      continue;
    }
    self->send_exit(it->second.second, caf::exit_reason::user_shutdown);
    it = st.groups.erase(it);
  }
  for (auto &[name, p] : wanted) {
    if (st.groups_parked.count(name))
      continue;
    auto handle = find_policy_type(p.type)->spawn_group(self->system(), p, st.ctx->metrics);
    self->monitor(handle); // a failed one is restarted (on_group_down)
    if (st.ctx->policy_spawned)
      st.ctx->policy_spawned(name, caf::actor_cast<caf::actor>(handle));
    for (auto &[id, cg] : st.cgroups)
      if (selects_cgroup(p, cg.path))
        self->send(handle, group_member{id, cg.path, cg.handle});
    st.groups[name] = {p, handle};
  }
}

constexpr unsigned max_cgroup_failures = 5;

void stop_watching(registry_self self, uint64_t id) {
  auto it = self->state.cgroups.find(id);
  if (it == self->state.cgroups.end())
    return;
  // The actor restores its knobs where the cgroup still exists, then quits.
  caf::anon_send(it->second.handle, atom::stop_v);
  for (auto &[name, g] : self->state.groups)
    if (selects_cgroup(g.first, it->second.path))
      self->send(g.second, atom::left_v, id);
  self->state.cgroups.erase(it);
  self->state.drop_series(id);
  std::erase_if(self->state.pid_cgroup, [&](auto &kv) { return kv.second == id; });
}

// A process left `from` (moved or exited): its policies there end.
void leave(registry_self self, int32_t pid, uint64_t ktime_ns) {
  auto it = self->state.pid_cgroup.find(pid);
  if (it == self->state.pid_cgroup.end())
    return;
  auto cg = self->state.cgroups.find(it->second);
  if (cg != self->state.cgroups.end())
    self->send(cg->second.handle,
               cgroup_event{event_kind::exit, pid, 0, it->second, ktime_ns, {}, {}});
  self->state.pid_cgroup.erase(it);
}

void route(registry_self self, cgroup_event &ev) {
  auto &st = self->state;
  st.ctx->metrics->event_seen(ev.kind);
  auto cg = st.cgroups.find(ev.cgroup_id);
  switch (ev.kind) {
  case event_kind::cgroup_mkdir:
    if (cg == st.cgroups.end() && st.watched(ev.path))
      start_watching(self, ev.cgroup_id, ev.path);
    return;
  case event_kind::cgroup_rmdir:
    stop_watching(self, ev.cgroup_id);
    return;
  case event_kind::attach:
  case event_kind::exec:
    if (auto old = st.pid_cgroup.find(ev.pid);
        old != st.pid_cgroup.end() && old->second != ev.cgroup_id)
      leave(self, ev.pid, ev.ktime_ns);
    if (cg == st.cgroups.end()) {
      st.ctx->metrics->unwatched_event();
      return;
    }
    st.pid_cgroup[ev.pid] = ev.cgroup_id;
    self->send(cg->second.handle, std::move(ev));
    return;
  case event_kind::exit:
    if (cg == st.cgroups.end() && !st.pid_cgroup.count(ev.pid))
      st.ctx->metrics->unwatched_event();
    leave(self, ev.pid, ev.ktime_ns);
    return;
  }
}

// Tells a cgroup's actor its member processes as cgroup.procs lists them.
void send_members(registry_self self, uint64_t id, const std::string &path, uint64_t now) {
  auto &st = self->state;
  auto procs = sys::read_small_file(sys::join_cgroup_path(st.ctx->cgroup_root, path) + "/" +
                                    std::string(sys::files::procs));
  cgroup_members m{procs ? sys::parse_pid_list(*procs) : std::vector<int>{}, now};
  for (auto pid : m.pids)
    st.pid_cgroup[pid] = id;
  self->send(st.cgroups[id].handle, std::move(m));
}

// A group policy ended. One the registry ended is no longer in the map; one
// that failed is started again after a backoff (sync_groups starts what is
// configured and missing), or parked after too many failures in a row.
// Returns false if dm is not about a group policy.
bool on_group_down(registry_self self, const caf::down_msg &dm) {
  auto &st = self->state;
  auto it = std::find_if(st.groups.begin(), st.groups.end(),
                         [&](auto &kv) { return kv.second.second.address() == dm.source; });
  if (it == st.groups.end())
    return false;
  auto name = it->first;
  st.groups.erase(it);
  if (!dm.reason || dm.reason == caf::exit_reason::normal ||
      dm.reason == caf::exit_reason::user_shutdown)
    return true;
  auto backoff = st.group_failures[name].failed(self->clock().now());
  if (!backoff) {
    st.groups_parked.insert(name);
    st.ctx->metrics->policy_parked(name, 1);
    log::error("registry", "group policy ", name, " failed ", restart_backoff::park_after,
               " times in a row: parked until the config changes");
    return true;
  }
  log::warn("registry", "group policy ", name, " failed (", to_string(dm.reason),
            "): restarting in ", backoff->count(), " ms");
  self->delayed_send(self, *backoff, atom::restart_v);
  return true;
}

// A cgroup actor ended. One the registry stopped is no longer in the map;
// one that quit by itself found its cgroup gone. One that failed (an
// exception, a kill) restored its knobs as it ended: a new one takes the
// cgroup over, and its processes enrol again.
void on_cgroup_down(registry_self self, const caf::down_msg &dm) {
  auto &st = self->state;
  if (on_group_down(self, dm))
    return;
  auto it = std::find_if(st.cgroups.begin(), st.cgroups.end(),
                         [&](auto &kv) { return kv.second.handle.address() == dm.source; });
  if (it == st.cgroups.end())
    return;
  auto id = it->first;
  auto path = it->second.path;
  stop_watching(self, id);
  if (!dm.reason || dm.reason == caf::exit_reason::normal ||
      dm.reason == caf::exit_reason::user_shutdown)
    return;
  auto dir = sys::cgroup_dir::open(st.ctx->cgroup_root, path);
  if (!dir || dir->id() != id)
    return;
  if (++st.cgroup_failures[id] > max_cgroup_failures) {
    log::error("registry", "the actor of ", path, " failed ", max_cgroup_failures,
               " times: the cgroup is no longer watched until the next config or restart");
    return;
  }
  log::warn("registry", "the actor of ", path, " failed (", to_string(dm.reason),
            "): starting a new one");
  st.ctx->metrics->actor_restarted(actor_type::cgroup);
  start_watching(self, id, path);
  send_members(self, id, path, monotonic_ns());
}

// Brings the actors and their members in line with cgroupfs as it is now.
void reconcile(registry_self self) {
  auto &st = self->state;
  st.ctx->metrics->rescan();
  auto tree = sys::scan_cgroup_tree(st.ctx->cgroup_root);
  if (!tree) {
    log::error("registry", "scan of ", st.ctx->cgroup_root, " failed: ", tree.err().message);
    return;
  }
  std::unordered_set<uint64_t> present;
  for (auto &e : *tree)
    if (st.watched(e.path))
      present.insert(e.id);
  std::vector<uint64_t> gone;
  for (auto &[id, _] : st.cgroups)
    if (!present.count(id))
      gone.push_back(id);
  for (auto id : gone)
    stop_watching(self, id);
  auto now = monotonic_ns();
  st.pid_cgroup.clear();
  for (auto &e : *tree) {
    if (!present.count(e.id))
      continue;
    if (!st.cgroups.count(e.id))
      start_watching(self, e.id, e.path);
    send_members(self, e.id, e.path, now);
  }
  log::info("registry", "scan: ", st.cgroups.size(), " cgroups watched, ", st.pid_cgroup.size(),
            " processes");
  st.ctx->metrics->ready();
}

void apply_config(registry_self self, config::agent cfg) {
  auto &st = self->state;
  bool same_watch =
      cfg.watch_include == st.cfg.watch_include && cfg.watch_exclude == st.cfg.watch_exclude;
  st.cfg = std::move(cfg);
  st.cgroup_failures.clear();
  st.group_failures.clear();
  for (auto &name : st.groups_parked)
    st.ctx->metrics->policy_parked(name, -1);
  st.groups_parked.clear();
  for (auto &[id, cg] : st.cgroups) {
    self->send(cg.handle, atom::reload_v, st.cfg.policies);
    self->send(cg.handle, atom::dry_run_v, st.cfg.dry_run);
  }
  sync_groups(self);
  // Stops what is no longer watched, starts what now is. With the same
  // globs the watched set is what the events kept it: no scan of the whole
  // tree for a config that changes policies only.
  if (!same_watch)
    reconcile(self);
}

// The actor of every watched cgroup, for fan_out.
std::vector<cgroup_actor> cgroup_actors(registry_self self) {
  std::vector<cgroup_actor> out;
  for (auto &[id, cg] : self->state.cgroups)
    out.push_back(cg.handle);
  return out;
}

registry_actor::behavior_type registry_behavior(registry_self self, config::agent cfg,
                                                std::shared_ptr<const cgroup_context> ctx) {
  self->state.cfg = std::move(cfg);
  self->state.ctx = ctx;
  ctx->metrics->actor_started(actor_type::registry);
  self->set_down_handler([=](caf::down_msg &dm) { on_cgroup_down(self, dm); });
  sync_groups(self);
  return {
      [=](event_batch &batch) {
        for (auto &ev : batch.events)
          route(self, ev);
      },
      [=](sched_batch &batch) {
        self->state.ctx->sched->beat(batch.loaded_ns, std::chrono::nanoseconds(batch.interval_ns),
                                     self->clock().now());
        route_samples(self, batch.samples);
      },
      [=](gpu_batch &batch) { route_samples(self, batch.samples); },
      [=](events_lost &lost) {
        log::warn("registry", "the kernel dropped events (", lost.total, " so far): rescanning");
        self->state.ctx->metrics->events_lost_total(lost.total);
        reconcile(self);
      },
      [=](atom::scan) { reconcile(self); },
      [=](atom::restart) {
        for (auto &[name, f] : self->state.group_failures)
          if (!self->state.groups.count(name))
            f.started(self->clock().now());
        self->state.ctx->metrics->actor_restarted(actor_type::policy);
        sync_groups(self);
      },
      [=](atom::reload, config::agent &next) { apply_config(self, std::move(next)); },
      [=](atom::release, std::string &path) -> caf::result<uint64_t> {
        auto &st = self->state;
        auto it = std::find_if(st.cgroups.begin(), st.cgroups.end(),
                               [&](auto &kv) { return kv.second.path == path; });
        if (it == st.cgroups.end())
          return caf::make_error(caf::sec::runtime_error, "cgroup " + path + " is not watched");
        auto rp = self->make_response_promise<uint64_t>();
        auto id = it->first;
        auto handle = it->second.handle;
        self->request(handle, caf::infinite, atom::release_v, atom::all_v)
            .then(
                [=](uint64_t released) mutable {
                  for (auto &[name, g] : self->state.groups)
                    if (selects_cgroup(g.first, path)) {
                      self->send(g.second, atom::left_v, id);
                      self->send(g.second, group_member{id, path, handle});
                    }
                  rp.deliver(released);
                },
                [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
      [=](atom::find, std::string &path) -> caf::result<caf::actor> {
        for (auto &[id, cg] : self->state.cgroups)
          if (cg.path == path)
            return caf::actor_cast<caf::actor>(cg.handle);
        return caf::make_error(caf::sec::runtime_error, "cgroup " + path + " is not watched");
      },
      [=](atom::list) {
        auto rp = self->make_response_promise<std::vector<cgroup_status>>();
        auto all = std::make_shared<std::vector<cgroup_status>>();
        fan_out<cgroup_status>(
            self, cgroup_actors(self), atom::status_v,
            [=](cgroup_status &s) { all->push_back(std::move(s)); },
            [=]() mutable { rp.deliver(std::move(*all)); });
        return rp;
      },
      [=](atom::stop) {
        auto rp = self->make_response_promise<atom::done>();
        for (auto &[name, g] : self->state.groups)
          self->send_exit(g.second, caf::exit_reason::user_shutdown);
        self->state.groups.clear();
        fan_out<atom::done>(
            self, cgroup_actors(self), atom::stop_v, [](atom::done &) {},
            [=]() mutable {
              rp.deliver(atom::done_v);
              self->quit();
            });
        self->state.cgroups.clear();
        return rp;
      },
  };
}

} // namespace

registry_actor spawn_registry(caf::actor_system &sys, config::agent cfg,
                              std::shared_ptr<const cgroup_context> ctx) {
  return sys.spawn(registry_behavior, std::move(cfg), std::move(ctx));
}

} // namespace ballast
