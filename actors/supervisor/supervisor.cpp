// Supervisor actor; see supervisor.hpp.
#include "actors/supervisor/supervisor.hpp"

#include "actors/cgroups/registry.hpp"
#include "actors/host/host_actor.hpp"
#include "actors/laws/restart_backoff.hpp"
#include "actors/sources/psi_source.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

namespace ballast {

namespace {

using namespace std::chrono_literals;

constexpr auto first_backoff = 100ms;
constexpr auto max_backoff = std::chrono::milliseconds(10s);
// A source that ran this long is healthy again: the backoff starts over.
constexpr auto healthy_after = 10s;

// A sense the agent can run without: started when the config enables it,
// restarted with a backoff, started afresh when its settings change.
struct sense {
  const char *name;
  sense_spawner spawn;
  bool (*enabled)(const config::agent &);
  bool (*changed)(const config::agent &before, const config::agent &after);
  sense_actor handle;
  restart_backoff backoff;
};

std::array<sense, 2> senses_of(const supervisor_env &env) {
  return {{
      {"sched",
       env.spawn_sched_source,
       [](const config::agent &c) { return c.sched_enabled; },
       [](const config::agent &a, const config::agent &b) {
         return std::tie(a.sched_enabled, a.sched_interval) !=
                std::tie(b.sched_enabled, b.sched_interval);
       },
       {},
       {}},
      {"gpu",
       env.spawn_gpu_source,
       [](const config::agent &c) { return c.gpu_enabled; },
       [](const config::agent &a, const config::agent &b) {
         return std::tie(a.gpu_enabled, a.gpu_interval, a.gpu_rescan) !=
                std::tie(b.gpu_enabled, b.gpu_interval, b.gpu_rescan);
       },
       {},
       {}},
  }};
}

struct supervisor_state {
  static constexpr const char *name = "supervisor";

  config::agent cfg;
  supervisor_env env;
  registry_actor registry;
  host_actor host;
  source_actor source;
  psi_source_actor psi;
  std::array<sense, 2> senses;
  caf::actor_clock::time_point source_started;
  std::chrono::milliseconds backoff = first_backoff;
  bool source_ever_ran = false;
  bool stopping = false;
  int stops_pending = 0; // owners of knobs still restoring theirs

  ~supervisor_state() {
    if (env.ctx)
      env.ctx->metrics->actor_stopped(actor_type::supervisor);
  }
};

using supervisor_self = supervisor_actor::stateful_pointer<supervisor_state>;

void start_source(supervisor_self self) {
  auto &st = self->state;
  st.source = st.env.spawn_source(self->system(), st.registry, st.cfg.ring_buffer_bytes);
  st.source_started = self->clock().now();
  self->monitor(st.source);
}

void on_source_down(supervisor_self self, const caf::error &reason) {
  auto &st = self->state;
  st.source = nullptr;
  if (st.stopping)
    return;
  bool ran = self->clock().now() - st.source_started >= 1s;
  if (!st.source_ever_ran && !ran) {
    auto why = "the cgroup source could not start: " + to_string(reason);
    log::error("supervisor", why, "; the agent stops");
    st.env.on_fatal(why);
    return;
  }
  st.source_ever_ran = true;
  if (self->clock().now() - st.source_started >= healthy_after)
    st.backoff = first_backoff;
  log::warn("supervisor", "the cgroup source stopped (", to_string(reason), "); restarting in ",
            st.backoff.count(), " ms");
  self->delayed_send(self, st.backoff, atom::restart_v);
  st.backoff = std::min(st.backoff * 2, max_backoff);
}

void start_sense(supervisor_self self, sense &s) {
  auto &st = self->state;
  if (!s.enabled(st.cfg) || !s.spawn || st.stopping)
    return;
  s.handle = s.spawn(self->system(), st.registry, st.cfg);
  s.backoff.started(self->clock().now());
  self->monitor(s.handle);
}

void stop_sense(supervisor_self self, sense &s) {
  if (!s.handle)
    return;
  self->demonitor(s.handle.address());
  self->send_exit(s.handle, caf::exit_reason::user_shutdown);
  s.handle = nullptr;
}

void on_sense_down(supervisor_self self, sense &s, const caf::error &reason) {
  s.handle = nullptr;
  if (self->state.stopping)
    return;
  auto backoff = s.backoff.failed(self->clock().now());
  if (!backoff) {
    log::error("supervisor", "the ", s.name, " source failed ", restart_backoff::park_after,
               " times in a row (", to_string(reason),
               "): the agent runs without it until the config changes");
    return;
  }
  log::warn("supervisor", "the ", s.name, " source stopped (", to_string(reason),
            "); restarting in ", backoff->count(), " ms");
  self->delayed_send(self, *backoff, atom::restart_v, std::string(s.name));
}

void apply_config(supervisor_self self, config::agent next) {
  auto &st = self->state;
  bool resize = next.ring_buffer_bytes != st.cfg.ring_buffer_bytes;
  auto before = std::exchange(st.cfg, next);
  for (auto &s : st.senses)
    if (s.changed(before, next) || !s.handle) { // a parked sense starts again too
      stop_sense(self, s);
      s.backoff = {};
      start_sense(self, s);
    }
  self->send(st.host, atom::reload_v, next);
  self->send(st.registry, atom::reload_v, std::move(next));
  if (resize && st.source) {
    // The ring buffer is sized at load: start the source again with the new size.
    log::info("supervisor", "ring buffer size changed: restarting the cgroup source");
    self->demonitor(st.source.address());
    self->send_exit(st.source, caf::exit_reason::user_shutdown);
    start_source(self);
  }
}

supervisor_actor::behavior_type supervisor_behavior(supervisor_self self, config::agent cfg,
                                                    supervisor_env env) {
  auto &st = self->state;
  st.cfg = std::move(cfg);
  st.env = std::move(env);
  st.senses = senses_of(st.env);
  st.env.ctx->metrics->actor_started(actor_type::supervisor);
  st.registry = spawn_registry(self->system(), st.cfg, st.env.ctx);
  self->monitor(st.registry);
  auto &ctx = *st.env.ctx;
  st.host = spawn_host_actor(self->system(), st.cfg, st.env.system_root,
                             {ctx.metrics, ctx.knob_journal, ctx.writer});
  self->monitor(st.host);
  start_source(self);
  for (auto &s : st.senses)
    start_sense(self, s);
  // System-wide pressure: no knobs, nothing to restore; stopped with us.
  st.psi = spawn_psi_source(self->system(), st.env.ctx->metrics, st.env.ctx->proc.root(),
                            std::chrono::seconds(5));
  self->set_down_handler([=](caf::down_msg &dm) {
    auto &st = self->state;
    if (dm.source == st.source.address()) {
      on_source_down(self, dm.reason);
    } else if (auto s = std::find_if(st.senses.begin(), st.senses.end(),
                                     [&](auto &s) { return dm.source == s.handle.address(); });
               s != st.senses.end()) {
      on_sense_down(self, *s, dm.reason);
    } else if ((dm.source == st.registry.address() || dm.source == st.host.address()) &&
               !st.stopping) {
      // The registry holds the map of cgroup actors; a new one would start a
      // second actor for every cgroup. The host actor holds claims of others
      // that a new one would not know. The agent stops (knobs restored by the
      // owners that are left, or by the journal at the next start).
      auto what = dm.source == st.host.address() ? "the host actor" : "the cgroup registry";
      auto why = std::string(what) + " died: " + to_string(dm.reason);
      log::error("supervisor", why, "; the agent stops");
      st.env.on_fatal(why);
    }
  });
  return {
      [=](atom::reload, config::agent &next) { apply_config(self, std::move(next)); },
      [=](atom::config) -> caf::result<caf::actor, config::agent> {
        return {caf::actor_cast<caf::actor>(self->state.registry), self->state.cfg};
      },
      [=](atom::restart) {
        if (self->state.stopping || self->state.source)
          return;
        self->state.env.ctx->metrics->source_restarted();
        start_source(self);
      },
      [=](atom::restart, const std::string &name) {
        for (auto &s : self->state.senses)
          if (name == s.name && !s.handle) {
            self->state.env.ctx->metrics->source_restarted();
            start_sense(self, s);
          }
      },
      [=](atom::stop) {
        auto &st = self->state;
        st.stopping = true;
        st.env.ctx->metrics->stopping();
        if (st.source)
          self->send_exit(st.source, caf::exit_reason::user_shutdown);
        for (auto &s : st.senses)
          stop_sense(self, s);
        self->send_exit(st.psi, caf::exit_reason::user_shutdown);
        auto rp = self->make_response_promise<atom::done>();
        auto finish = [=](const char *what, const caf::error &err) mutable {
          if (err)
            log::error("supervisor", what, " stop failed: ", to_string(err));
          if (--self->state.stops_pending == 0) {
            rp.deliver(atom::done_v);
            self->quit();
          }
        };
        st.stops_pending = 2;
        self->request(st.registry, caf::infinite, atom::stop_v)
            .then([=](atom::done) mutable { finish("registry", {}); },
                  [=](caf::error &err) mutable { finish("registry", err); });
        self->request(st.host, caf::infinite, atom::stop_v)
            .then([=](atom::done) mutable { finish("host actor", {}); },
                  [=](caf::error &err) mutable { finish("host actor", err); });
        return rp;
      },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system &sys, config::agent cfg, supervisor_env env) {
  return sys.spawn(supervisor_behavior, std::move(cfg), std::move(env));
}

} // namespace ballast
