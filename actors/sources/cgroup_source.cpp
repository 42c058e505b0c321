// cgroup source actor; see cgroup_source.hpp.
#include "actors/sources/cgroup_source.hpp"

#include "actors/sources/cgroup_event_poller.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

namespace ballast {

namespace {

struct source_state {
  static constexpr const char *name = "cgroup-source";

  std::shared_ptr<agent_metrics> metrics;
  // Destroyed with the state: stops and joins the thread before the actor
  // is gone, whatever ended it.
  std::unique_ptr<cgroup_event_poller> poller;

  ~source_state() {
    poller.reset();
    if (metrics)
      metrics->actor_stopped(actor_type::source);
  }
};

using source_self = source_actor::stateful_pointer<source_state>;

source_actor::behavior_type source_behavior(source_self self, registry_actor registry,
                                            uint32_t ring_buffer_bytes,
                                            std::shared_ptr<agent_metrics> metrics) {
  self->state.metrics = metrics;
  metrics->actor_started(actor_type::source);
  auto me = caf::actor_cast<source_actor>(self);
  cgroup_event_poller::callbacks cbs{
      [registry](event_batch b) { caf::anon_send(registry, std::move(b)); },
      [registry](uint64_t total) { caf::anon_send(registry, events_lost{total}); },
      [me](std::string why) { caf::anon_send(me, atom::failed_v, std::move(why)); },
  };
  auto poller = cgroup_event_poller::start(ring_buffer_bytes, std::move(cbs));
  if (!poller) {
    log::error("source", poller.err().message);
    self->quit(caf::make_error(caf::sec::runtime_error, poller.err().message));
    return source_actor::behavior_type::make_empty_behavior();
  }
  self->state.poller = std::move(*poller);
  log::info("source", "BPF programs attached; ring buffer ", ring_buffer_bytes, " bytes");
  self->send(registry, atom::scan_v);
  return {
      [=](atom::failed, std::string &why) {
        log::error("source", "poller failed: ", why);
        self->quit(caf::make_error(caf::sec::runtime_error, why));
      },
  };
}

} // namespace

source_actor spawn_cgroup_source(caf::actor_system &sys, registry_actor registry,
                                 uint32_t ring_buffer_bytes,
                                 std::shared_ptr<agent_metrics> metrics) {
  return sys.spawn(source_behavior, registry, ring_buffer_bytes, std::move(metrics));
}

} // namespace ballast
