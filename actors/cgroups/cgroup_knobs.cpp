// The cgroup actor's knobs: the claims ledger, the journal record before a
// knob's first write, the single effector that writes (or, in dry-run,
// only logs and counts), restores, one-off actions, and dry-run switching.
// Writes that may block in reclaim run on the knob writer's threads; their
// continuations run here when write_done comes back.
#include "actors/cgroups/cgroup_state.hpp"

#include "messages/refusal.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/text.hpp"

#include <csignal>

namespace ballast::cgroup_internal {

namespace {

using write_callback = std::function<void(status)>;

// Logs and counts a write's outcome.
status account(cgroup_self self, const std::string& knob, const std::string& value,
               const std::string& why, status r) {
  auto& st = self->state;
  if (!r) {
    log::warn("cgroup", r.err().message, " (", why, ")");
    st.ctx->metrics->knob_write_failed();
    return r;
  }
  log::info("cgroup", "wrote ", knob, "=", value, " in ", st.spec.path, " (", why, ")");
  st.ctx->metrics->knob_written(false);
  return r;
}

// What a write is for: a restore must happen even while the actor stops.
enum class write_kind { apply, restore };

// The one place a knob is written (or, in dry-run, logged as it would be).
// `then` gets the outcome: at once, or when the knob writer reports back.
void write_knob(cgroup_self self, write_kind kind, const std::string& knob,
                const std::string& value, const std::string& why, write_callback then) {
  auto& st = self->state;
  if (st.spec.dry_run) {
    log::info("cgroup", "dry-run: would write ", knob, "=", value, " in ", st.spec.path,
              " (", why, ")");
    st.ctx->metrics->knob_written(true);
    then(success());
    return;
  }
  if (!knobs::write_may_block(knob) || !st.ctx->writer) {
    then(account(self, knob, value, why, st.dir->write(knob, value)));
    return;
  }
  auto seq = ++st.next_write;
  st.writes_in_flight[seq] = [=](status r) { then(account(self, knob, value, why, std::move(r))); };
  auto me = caf::actor_cast<cgroup_actor>(self);
  // Once the actor stops, queued claims and reclaims are dropped (restores
  // are not): a stop waits at most for the one write already in the kernel.
  bool droppable = kind == write_kind::apply;
  st.ctx->writer->submit(st.spec.id, [me, seq, root = st.ctx->cgroup_root, path = st.spec.path,
                                      knob, value, droppable, cancelled = st.writes_cancelled] {
    if (droppable && cancelled->load()) {
      caf::anon_send(me, write_done{seq, "not written: the cgroup actor is stopping", ECANCELED});
      return;
    }
    auto dir = sys::cgroup_dir::open(root, path);
    auto r = dir ? dir->write(knob, value) : status(dir.err());
    caf::anon_send(me, r ? write_done{seq, {}, 0} : write_done{seq, r.err().message, r.err().code});
  });
}

// Appends to the journal (nothing in dry-run: nothing is written to undo).
status journal(cgroup_self self, journal_record::op op, const std::string& knob,
               const std::string& value) {
  auto& st = self->state;
  if (st.spec.dry_run || !st.ctx->knob_journal)
    return success();
  auto r = st.ctx->knob_journal->append({op, st.spec.id, knob, value, st.spec.path});
  if (!r) {
    log::error("cgroup", r.err().message);
    st.ctx->metrics->journal_error();
  }
  return r;
}

// SIGKILL to one member process, checked against cgroup.procs first.
status kill_member(cgroup_self self, const std::string& value) {
  auto pid = sys::text::parse_number<int>(value);
  auto members = self->state.dir->procs();
  if (!pid || *pid <= 0)
    return error{EINVAL, "kill: bad pid '" + value + "'"};
  if (!members)
    return members.err();
  if (std::find(members->begin(), members->end(), *pid) == members->end())
    return error{ESRCH, "kill: pid " + value + " is not in " + self->state.spec.path};
  if (::kill(*pid, SIGKILL) != 0)
    return errno_error(errno, "kill", value);
  return success();
}

} // namespace

void cgroup_state::publish_claims() {
  std::map<std::string, size_t> now;
  for (auto& [knob, k] : ledger.knobs())
    now[knob] = k.claims.size();
  for (auto& [knob, n] : now)
    if (n != published_claims[knob])
      ctx->metrics->claims_changed(knob, double(n) - double(published_claims[knob]));
  for (auto& [knob, n] : published_claims)
    if (n && !now.count(knob))
      ctx->metrics->claims_changed(knob, -double(n));
  published_claims = std::move(now);
}

void cgroup_state::restore_after_failure() {
  auto changes = ledger.release_all();
  publish_claims();
  if (changes.empty() || spec.dry_run)
    return;  // stopped cleanly, nothing claimed, or nothing was written
  writes_cancelled->store(true);
  log::warn("cgroup", spec.path, ": its actor ended without being stopped, holding ", changes.size(),
            " claimed knob(s): restoring them");
  for (auto& c : changes) {
    // Through the knob writer where it writes this knob, so the restore
    // lands after any write of this cgroup still queued there.
    auto restore = [ctx = ctx, path = spec.path, id = spec.id, c] {
      auto dir = sys::cgroup_dir::open(ctx->cgroup_root, path);
      auto r = dir ? dir->write(c.knob, c.value) : status(dir.err());
      if (!r) {
        log::error("cgroup", "restore of ", c.knob, "=", c.value, " in ", path, " failed: ",
                   r.err().message, "; the journal keeps it for the next start");
        if (dir)
          ctx->metrics->knob_restore_failed();
        return;
      }
      log::info("cgroup", "wrote ", c.knob, "=", c.value, " in ", path, " (restore: actor_failed)");
      ctx->metrics->knob_restored(restore_reason::actor_failed);
      if (c.to_original && ctx->knob_journal)
        (void) ctx->knob_journal->append({journal_record::op::release, id, c.knob, c.value, path});
    };
    if (knobs::write_may_block(c.knob) && ctx->writer)
      ctx->writer->submit(spec.id, restore);
    else
      restore();
  }
}

void cgroup_state::end_policies_after_failure() {
  for (auto& [pid, mine] : procs)
    for (auto& p : mine)
      caf::anon_send_exit(p.handle, caf::exit_reason::user_shutdown);
  for (auto& p : cgroup_policies)
    caf::anon_send_exit(p.handle, caf::exit_reason::user_shutdown);
}

void on_write_done(cgroup_self self, const write_done& w) {
  auto& st = self->state;
  auto it = st.writes_in_flight.find(w.seq);
  if (it == st.writes_in_flight.end())
    return;
  auto then = std::move(it->second);
  st.writes_in_flight.erase(it);
  then(w.error.empty() ? success() : status(error{w.code, w.error}));
  if (st.stopping && st.writes_in_flight.empty()) {
    st.stopping->deliver(atom::done_v);
    self->quit();
  }
}

// Applies a ledger change caused by a release (policy ended, shutdown...).
void apply_restore(cgroup_self self, const claims_ledger::change& c, restore_reason reason) {
  std::string why = std::string("restore: ") + to_string(reason);
  write_knob(self, write_kind::restore, c.knob, c.value, why, [=](status r) {
    auto& st = self->state;
    if (r) {
      st.ctx->metrics->knob_restored(reason);
    } else if (st.dir->exists()) {
      st.ctx->metrics->knob_restore_failed();
      return;  // the journal keeps the entry open: a restart tries again
    }
    if (c.to_original)
      (void) journal(self, journal_record::op::release, c.knob, c.value);  // logged, counted
  });
}

caf::result<claim_reply> on_claim(cgroup_self self, const claim_request& req) {
  auto& st = self->state;
  auto sender = self->current_sender();
  if (!sender)
    return caf::make_error(caf::sec::invalid_argument, "claim without a sender");
  if (st.stopping)
    return caf::make_error(caf::sec::runtime_error, "claim refused: the cgroup actor is stopping");
  if (auto v = knobs::check_cgroup_write(req.knob, knobs::effect::setting, req.value); !v)
    return refusal(caf::sec::invalid_argument, v.err());
  auto owner = sender->id();
  if (!st.ledger.holds(owner) && !st.policy_pid.count(owner))
    self->monitor(caf::actor_cast<caf::actor>(sender));
  if (!st.ledger.knows(req.knob)) {
    auto original = st.dir->read(req.knob);
    if (!original)
      return refusal(caf::sec::runtime_error, original.err());
    auto value = *original;
    while (!value.empty() && value.back() == '\n')
      value.pop_back();
    // No journal record, no write: a knob that could not be restored after
    // a crash is not changed at all.
    if (auto j = journal(self, journal_record::op::claim, req.knob, value); !j)
      return caf::make_error(caf::sec::runtime_error, "claim refused: " + j.err().message);
    st.ledger.set_original(req.knob, value);
  }
  auto reply = [self, owner, knob = req.knob] {
    auto w = self->state.ledger.winner(knob);
    return claim_reply{w ? w->value : std::string(), w && w->owner == owner,
                       self->state.spec.dry_run};
  };
  auto now = st.ledger.claim(owner, req.knob, req.value, req.priority);
  if (!now)
    return reply();
  auto rp = self->make_response_promise<claim_reply>();
  write_knob(self, write_kind::apply, req.knob, *now, req.reason, [=, knob = req.knob](status w) mutable {
    auto& st = self->state;
    if (w) {
      st.publish_claims();  // before the reply: a client may look at once
      rp.deliver(reply());
      return;
    }
    // The kernel refused the value, so the knob still holds what it held:
    // the claim does not stand, and a knob nobody else claims is closed.
    if (auto back = st.ledger.release(owner, knob); back && back->to_original)
      (void) journal(self, journal_record::op::release, back->knob, back->value);
    st.publish_claims();
    rp.deliver(refusal(caf::sec::runtime_error, w.err()));
  });
  return rp;
}

caf::result<bool> on_action(cgroup_self self, const action_request& req) {
  auto& st = self->state;
  bool kill_process = req.action == kill_process_action;  // a pid, checked by kill_member
  if (!kill_process)
    if (auto v = knobs::check_cgroup_write(req.action, knobs::effect::action, req.value); !v)
      return refusal(caf::sec::invalid_argument, v.err());
  if (st.spec.dry_run) {
    log::info("cgroup", "dry-run: would ", req.action, " ", req.value, " in ", st.spec.path,
              " (", req.reason, ")");
    st.ctx->metrics->knob_written(true);
    return false;
  }
  if (kill_process) {
    auto r = kill_member(self, req.value);
    if (!r)
      return refusal(caf::sec::runtime_error, r.err());
    log::info("cgroup", "killed pid ", req.value, " in ", st.spec.path, " (", req.reason, ")");
    return true;
  }
  auto rp = self->make_response_promise<bool>();
  write_knob(self, write_kind::apply, req.action, req.value, req.reason, [=](status r) mutable {
    if (r)
      rp.deliver(true);
    else
      rp.deliver(refusal(caf::sec::runtime_error, r.err()));
  });
  return rp;
}

// Keeps the invariant that a knob holds its winning claim while writing and
// its original while in dry-run: turning dry-run on puts every claimed knob
// back now (a later restore would write nothing), turning it off applies the
// standing claims, journalled first as on a first claim.
void set_dry_run(cgroup_self self, bool dry_run) {
  auto& st = self->state;
  if (dry_run == st.spec.dry_run)
    return;
  log::info("cgroup", st.spec.path, ": dry-run ", dry_run ? "on" : "off");
  if (dry_run) {
    for (auto& [knob, k] : st.ledger.knobs())
      write_knob(self, write_kind::restore, knob, k.original, "dry-run on: restore",
                 [=, knob = knob, original = k.original](status r) {
                   if (r)
                     (void) journal(self, journal_record::op::release, knob, original);
                 });
    st.spec.dry_run = true;
    return;
  }
  st.spec.dry_run = false;
  for (auto& [knob, k] : st.ledger.knobs()) {
    if (journal(self, journal_record::op::claim, knob, k.original).ok())
      write_knob(self, write_kind::apply, knob, *st.ledger.effective(knob), "dry-run off: apply standing claim",
                 [](status) {});
  }
}

} // namespace ballast::cgroup_internal
