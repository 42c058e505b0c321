// Supervisor actor; see supervisor.hpp.
#include "actors/supervisor/supervisor.hpp"

#include "actors/cgroups/registry.hpp"
#include "actors/host/host_actor.hpp"
#include "actors/laws/restart_backoff.hpp"
#include "actors/sources/psi_source.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

namespace ballast {

namespace {

using namespace std::chrono_literals;

constexpr auto first_backoff = 100ms;
constexpr auto max_backoff = std::chrono::milliseconds(10s);
// A source that ran this long is healthy again: the backoff starts over.
constexpr auto healthy_after = 10s;

struct supervisor_state {
  static constexpr const char *name = "supervisor";

  config::agent cfg;
  supervisor_env env;
  registry_actor registry;
  host_actor host;
  source_actor source;
  psi_source_actor psi;
  sched_source_actor sched;
  restart_backoff sched_backoff;
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

void start_sched(supervisor_self self) {
  auto &st = self->state;
  if (!st.cfg.sched_enabled || !st.env.spawn_sched_source || st.stopping)
    return;
  st.sched = st.env.spawn_sched_source(self->system(), st.registry, st.cfg);
  st.sched_backoff.started(self->clock().now());
  self->monitor(st.sched);
}

void stop_sched(supervisor_self self) {
  auto &st = self->state;
  if (!st.sched)
    return;
  self->demonitor(st.sched.address());
  self->send_exit(st.sched, caf::exit_reason::user_shutdown);
  st.sched = nullptr;
}

void on_sched_down(supervisor_self self, const caf::error &reason) {
  auto &st = self->state;
  st.sched = nullptr;
  if (st.stopping)
    return;
  auto backoff = st.sched_backoff.failed(self->clock().now());
  if (!backoff) {
    log::error("supervisor", "the sched source failed ", restart_backoff::park_after,
               " times in a row (", to_string(reason),
               "): the agent runs without it until the config changes");
    return;
  }
  log::warn("supervisor", "the sched source stopped (", to_string(reason), "); restarting in ",
            backoff->count(), " ms");
  self->delayed_send(self, *backoff, atom::restart_v, atom::all_v);
}

void apply_config(supervisor_self self, config::agent next) {
  auto &st = self->state;
  bool resize = next.ring_buffer_bytes != st.cfg.ring_buffer_bytes;
  bool sched_changed =
      next.sched_enabled != st.cfg.sched_enabled || next.sched_interval != st.cfg.sched_interval;
  st.cfg = next;
  if (sched_changed || !st.sched) {
    stop_sched(self);
    st.sched_backoff = {};
    start_sched(self);
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
  st.env.ctx->metrics->actor_started(actor_type::supervisor);
  st.registry = spawn_registry(self->system(), st.cfg, st.env.ctx);
  self->monitor(st.registry);
  auto &ctx = *st.env.ctx;
  st.host = spawn_host_actor(self->system(), st.cfg, st.env.system_root,
                             {ctx.metrics, ctx.knob_journal, ctx.writer});
  self->monitor(st.host);
  start_source(self);
  start_sched(self);
  // System-wide pressure: no knobs, nothing to restore; stopped with us.
  st.psi = spawn_psi_source(self->system(), st.env.ctx->metrics, st.env.ctx->proc.root(),
                            std::chrono::seconds(5));
  self->set_down_handler([=](caf::down_msg &dm) {
    auto &st = self->state;
    if (dm.source == st.source.address()) {
      on_source_down(self, dm.reason);
    } else if (dm.source == st.sched.address()) {
      on_sched_down(self, dm.reason);
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
      [=](atom::restart, atom::all) {
        if (self->state.sched)
          return;
        self->state.env.ctx->metrics->source_restarted();
        start_sched(self);
      },
      [=](atom::stop) {
        auto &st = self->state;
        st.stopping = true;
        st.env.ctx->metrics->stopping();
        if (st.source)
          self->send_exit(st.source, caf::exit_reason::user_shutdown);
        stop_sched(self);
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
