// The host actor; see host_actor.hpp.
#include "actors/host/host_actor.hpp"

#include "actors/effector/owner.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

#include <optional>

namespace ballast {

namespace {

constexpr int32_t config_priority = 0; // any tune request may override the config

struct host_state {
  static constexpr const char *name = "host";

  knob_owner owner;
  std::vector<config::host_setting> settings; // the config's, claimed by the actor itself
};

using host_self = host_actor::stateful_pointer<host_state>;

// Claims what the config holds now and releases what it no longer does.
void apply_settings(host_self self, std::vector<config::host_setting> next) {
  auto &st = self->state;
  for (auto &old : st.settings)
    if (std::none_of(next.begin(), next.end(), [&](auto &s) { return s.knob == old.knob; }))
      st.owner.knobs->release(self->id(), old.knob, restore_reason::released);
  for (auto &s : next) {
    if (std::find(st.settings.begin(), st.settings.end(), s) != st.settings.end())
      continue;
    st.owner.knobs->claim(self->id(), {s.knob, s.value, config_priority, "config: host.settings"},
                          [knob = s.knob](caf::expected<claim_reply> r) {
                            if (!r)
                              log::error("host", "host.settings.", knob,
                                         " not applied: ", to_string(r.error()));
                          });
  }
  st.settings = std::move(next);
}

host_actor::behavior_type host_behavior(host_self self, config::agent cfg, std::string system_root,
                                        effector_deps deps) {
  auto &st = self->state;
  st.owner.knobs.emplace(std::move(deps), knobs::scope::system,
                         std::make_shared<host_target>(std::move(system_root)), cfg.dry_run,
                         post_to(self));
  apply_settings(self, cfg.host_settings);
  self->set_down_handler([=](caf::down_msg &dm) {
    self->state.owner.knobs->release_owner(
        dm.source.id(), dm.reason ? restore_reason::policy_failed : restore_reason::policy_ended);
  });
  return {
      [=](atom::reload, config::agent &next) {
        self->state.owner.knobs->set_dry_run(next.dry_run);
        apply_settings(self, std::move(next.host_settings));
      },
      [=](claim_request &req) { return claim_by_sender(self, self->state.owner, req, false); },
      [=](write_done &w) { on_write_done(self, self->state.owner, w); },
      [=](atom::unclaim, std::string &knob) {
        auto owner = self->current_sender() ? self->current_sender()->id() : 0;
        self->state.owner.knobs->release(owner, knob, restore_reason::released);
      },
      [=](atom::status) { return self->state.owner.knobs->standing_claims(); },
      [=](atom::stop) { return stop_owner(self, self->state.owner); },
  };
}

} // namespace

host_actor spawn_host_actor(caf::actor_system &sys, const config::agent &cfg,
                            std::string system_root, effector_deps deps) {
  return sys.spawn(host_behavior, cfg, std::move(system_root), std::move(deps));
}

} // namespace ballast
