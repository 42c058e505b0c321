// What the group policies that act on run-queue waits (cpu_weight,
// cpuset_spread) share: the interval's round of questions to their members,
// its behavior, and a claim on one member's knob that the policy holds or
// gives back. A policy's state has `cfg`, `params.priority`, `law` (with
// forget(id)), `round` (a signal_round) and `members` (cgroup id -> a
// struct with `who`, its group_member).
#pragma once

#include "actors/policies/policy.hpp"
#include "messages/protocol.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ballast {

// The members' answers of one round: the fresh ones (the sched source saw
// the cgroup run lately) of cgroups still in the group.
struct signal_round {
  uint64_t number = 0;
  size_t awaited = 0;
  std::vector<sched_signals> answers;
};

// Asks every member's cgroup actor for its sched signals; `done(self)` runs
// with the last answer. A round still out at the next ask is dropped, and
// a member that does not answer within the interval is left out.
template <class Self, class Done> void ask_signals(Self self, Done done) {
  auto &st = self->state;
  auto &r = st.round;
  ++r.number;
  r.answers.clear();
  r.awaited = st.members.size();
  auto answered = [self, done, number = r.number](const sched_signals *s) {
    auto &st = self->state;
    if (number != st.round.number)
      return; // a late answer of a round that is over
    if (s && s->fresh && st.members.count(s->cgroup_id))
      st.round.answers.push_back(*s);
    if (--st.round.awaited == 0)
      done(self);
  };
  for (auto &[id, m] : st.members)
    self->request(m.who.handle, st.cfg.interval, atom::signals_v)
        .then([=](sched_signals &s) { answered(&s); }, [=](caf::error &) { answered(nullptr); });
}

// The behavior of such a policy: a round on its interval grid from now on,
// `decide(self)` with each round's answers; `join(self, m)` adds a member
// the registry sends; a member that leaves is forgotten by the law (a
// claim on a cgroup still there ends with its owner's).
template <class Self, class Decide, class Join>
group_policy_actor::behavior_type signal_round_behavior(Self self, Decide decide, Join join) {
  self->send(self, atom::tick_v);
  return {
      [=](atom::tick) {
        ask_signals(self, decide);
        self->scheduled_send(self, next_aligned_tick(self->clock().now(), self->state.cfg.interval),
                             atom::tick_v);
      },
      [=](group_member &m) { join(self, m); },
      [=](atom::left, uint64_t id) {
        self->state.law->forget(id);
        self->state.members.erase(id);
      },
  };
}

// Claims `knob` = *value in the member's cgroup (its owner checks and
// journals it), or gives the knob back when value is nullopt.
template <class Self>
void claim_member_knob(Self self, const group_member &who, const std::string &knob,
                       const std::optional<std::string> &value, const std::string &why) {
  auto &st = self->state;
  if (!value) {
    self->send(who.handle, atom::unclaim_v, knob);
    return;
  }
  self->request(who.handle, caf::infinite, claim_request{knob, *value, st.params.priority, why})
      .then([](claim_reply &) {},
            [=, path = who.path](caf::error &e) {
              log::warn(self->state.cfg.name, " ", knob, " claim in ", path,
                        " refused: ", to_string(e));
            });
}

} // namespace ballast
