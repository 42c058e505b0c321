// What an actor that owns knobs (a cgroup actor, the host actor) does with
// its effector, written once: claims by the sender, write results from the
// knob writer, and the stop that waits for them. The effector's outcome
// goes into a reply promise; a knob writer thread's result comes back to the
// owner through a weak handle (a write still queued when the owner ends
// keeps nothing alive).
#pragma once

#include "actors/effector/effector.hpp"
#include "messages/protocol.hpp"

#include <caf/all.hpp>

#include <optional>

namespace ballast {

template <class T> auto reply_to(caf::typed_response_promise<T> rp) {
  return [rp](caf::expected<T> r) mutable {
    if (r)
      rp.deliver(std::move(*r));
    else
      rp.deliver(std::move(r.error()));
  };
}

// The effector and the stop in progress, in the owner's state.
struct knob_owner {
  std::optional<effector> knobs;
  std::optional<caf::typed_response_promise<atom::done>> stopping; // replied once writes are done
};

template <class Self> effector::post_fn post_to(Self *self) {
  caf::weak_actor_ptr weak{self->ctrl()};
  return [weak](write_done w) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), std::move(w));
  };
}

// A claim by the current sender, who owns it from then on: monitored (unless
// `monitored` already), so that its claims go when it does.
template <class Self>
caf::result<claim_reply> claim_by_sender(Self *self, knob_owner &o, const claim_request &req,
                                         bool monitored) {
  auto sender = self->current_sender();
  if (!sender)
    return caf::make_error(caf::sec::invalid_argument, "claim without a sender");
  if (o.stopping)
    return caf::make_error(caf::sec::runtime_error,
                           "claim refused: the owner of " + req.knob + " is stopping");
  if (!monitored && !o.knobs->ledger().holds(sender->id()))
    self->monitor(caf::actor_cast<caf::actor>(sender));
  auto rp = self->template make_response_promise<claim_reply>();
  o.knobs->claim(sender->id(), req, reply_to(rp));
  return rp;
}

template <class Self> void on_write_done(Self *self, knob_owner &o, const write_done &w) {
  o.knobs->on_write_done(w);
  if (o.stopping && !o.knobs->writes_in_flight()) {
    o.stopping->deliver(atom::done_v);
    self->quit();
  }
}

// Restores every knob; replies done, and quits, once the knob writer has
// finished the restores handed to it.
template <class Self> caf::result<atom::done> stop_owner(Self *self, knob_owner &o) {
  if (o.stopping)
    return *o.stopping;
  o.knobs->drop_queued();
  o.knobs->release_all(restore_reason::shutdown);
  if (!o.knobs->writes_in_flight()) {
    self->quit();
    return atom::done_v;
  }
  o.stopping = self->template make_response_promise<atom::done>();
  return *o.stopping;
}

} // namespace ballast
