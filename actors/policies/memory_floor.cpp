// memory_floor policy (group): protects a group of cgroups — a service's, or
// a user's slices — with a memory floor. The configured floor is split
// evenly over the group's member cgroups (the watched cgroups its "cgroups"
// globs select) as memory.min, and split again whenever a member comes or
// goes. memory.min only protects within what the parent is given: select
// siblings whose parent is the root or is itself protected.
//   params: floor (size, required), priority.
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

#include <map>

namespace ballast {

namespace {

struct floor_params {
  uint64_t floor = 0;
  int32_t priority = 0;
};

params_result<floor_params> parse(const std::string &text, const std::string &path) {
  params_result<floor_params> out;
  params_reader r(text, path);
  r.bytes("floor", out.value.floor);
  if (out.value.floor == 0 || out.value.floor == std::numeric_limits<uint64_t>::max())
    r.fail("floor", "is required: a size like \"512M\"");
  r.priority(out.value.priority);
  out.errors = r.finish();
  return out;
}

struct member {
  group_member who;
  std::unique_ptr<policy_series> series;
};

struct floor_state {
  static constexpr const char *name = "memory_floor";

  config::policy cfg;
  floor_params params;
  std::shared_ptr<agent_metrics> metrics;
  std::unique_ptr<policy_presence> presence;
  std::map<uint64_t, member> members; // cgroup id -> member
};

using floor_actor = group_policy_actor::stateful_pointer<floor_state>;

// Each member's share of the floor, claimed as its memory.min.
void split(floor_actor self) {
  auto &st = self->state;
  if (st.members.empty())
    return;
  uint64_t share = st.params.floor / st.members.size();
  auto why = st.cfg.name + ": " + std::to_string(st.params.floor) + " bytes over " +
             std::to_string(st.members.size()) + " cgroups";
  log::info(st.cfg.name, "floor ", st.params.floor, " split over ", st.members.size(),
            " cgroups: memory.min ", share, " each");
  for (auto &[id, m] : st.members) {
    m.series->setpoint(double(st.params.floor));
    m.series->output(double(share));
    self->request(m.who.handle, caf::infinite,
                  claim_request{std::string(knobs::memory_min.name), std::to_string(share),
                                st.params.priority, why})
        .then([](claim_reply &) {},
              [=, path = m.who.path](caf::error &e) {
                log::warn(self->state.cfg.name, "memory.min claim in ", path,
                          " refused: ", to_string(e));
              });
  }
  st.members.begin()->second.series->decision("split");
}

group_policy_actor::behavior_type memory_floor(floor_actor self, config::policy cfg,
                                               std::shared_ptr<agent_metrics> metrics) {
  auto &st = self->state;
  st.params = settings_of<floor_params>(cfg);
  st.cfg = std::move(cfg);
  st.metrics = metrics;
  st.presence = std::make_unique<policy_presence>(metrics, st.cfg.name);
  return {
      [=](atom::tick) {},
      [=](group_member &m) {
        auto &st = self->state;
        auto series = std::make_unique<policy_series>(st.metrics, st.cfg.name, m.path);
        st.members[m.id] = {std::move(m), std::move(series)};
        split(self);
      },
      [=](atom::left, uint64_t id) {
        if (self->state.members.erase(id))
          split(self);
      },
  };
}

} // namespace

extern const policy_type memory_floor_policy = {
    "memory_floor",
    "a group's protected memory floor, split as memory.min over its cgroups",
    policy_scope::group,
    compile_params<parse>,
    nullptr,
    spawn_group_policy<memory_floor>};

} // namespace ballast
