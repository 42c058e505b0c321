// The cgroup actor's knobs: the claims ledger, the journal record before a
// knob's first write, the single effector that writes (or, in dry-run,
// only logs and counts), restores, and dry-run switching.
#include "actors/cgroups/cgroup_state.hpp"

#include "sys/log.hpp"

namespace ballast::cgroup_internal {

namespace {

// The one place a knob is written (or, in dry-run, logged as it would be).
status write_knob(cgroup_self self, const std::string& knob, const std::string& value,
                  const std::string& why) {
  auto& st = self->state;
  if (st.spec.dry_run) {
    log::info("cgroup", "dry-run: would write ", knob, "=", value, " in ", st.spec.path,
              " (", why, ")");
    st.ctx->metrics->knob_written(true);
    return success();
  }
  auto r = st.dir->write(knob, value);
  if (!r) {
    log::warn("cgroup", r.err().message, " (", why, ")");
    st.ctx->metrics->knob_write_failed();
    return r;
  }
  log::info("cgroup", "wrote ", knob, "=", value, " in ", st.spec.path, " (", why, ")");
  st.ctx->metrics->knob_written(false);
  return r;
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

// Applies a ledger change caused by a release (policy ended, shutdown...).
void apply_restore(cgroup_self self, const claims_ledger::change& c, restore_reason reason) {
  auto& st = self->state;
  std::string why = std::string("restore: ") + to_string(reason);
  if (write_knob(self, c.knob, c.value, why).ok()) {
    st.ctx->metrics->knob_restored(reason);
  } else if (st.dir->exists()) {
    st.ctx->metrics->knob_restore_failed();
    return;  // the journal keeps the entry open: a restart tries again
  }
  if (c.to_original)
    (void) journal(self, journal_record::op::release, c.knob, c.value);  // logged, counted
}

caf::result<claim_reply> on_claim(cgroup_self self, const claim_request& req) {
  auto& st = self->state;
  auto sender = self->current_sender();
  if (!sender)
    return caf::make_error(caf::sec::invalid_argument, "claim without a sender");
  if (req.knob.empty() || req.knob.front() == '.' || req.knob.find('/') != std::string::npos)
    return caf::make_error(caf::sec::invalid_argument, "bad knob name: " + req.knob);
  auto owner = sender->id();
  if (!st.ledger.holds(owner) && !st.policy_pid.count(owner))
    self->monitor(caf::actor_cast<caf::actor>(sender));
  if (!st.ledger.knows(req.knob)) {
    auto original = st.dir->read(req.knob);
    if (!original)
      return caf::make_error(caf::sec::runtime_error, original.err().message);
    auto value = *original;
    while (!value.empty() && value.back() == '\n')
      value.pop_back();
    // No journal record, no write: a knob that could not be restored after
    // a crash is not changed at all.
    if (auto j = journal(self, journal_record::op::claim, req.knob, value); !j)
      return caf::make_error(caf::sec::runtime_error, "claim refused: " + j.err().message);
    st.ledger.set_original(req.knob, value);
  }
  if (auto now = st.ledger.claim(owner, req.knob, req.value, req.priority)) {
    if (auto w = write_knob(self, req.knob, *now, req.reason); !w) {
      // The kernel refused the value, so the knob still holds what it held:
      // the claim does not stand, and a knob nobody else claims is closed.
      if (auto back = st.ledger.release(owner, req.knob); back && back->to_original)
        (void) journal(self, journal_record::op::release, back->knob, back->value);
      return caf::make_error(caf::sec::runtime_error, w.err().message);
    }
  }
  auto w = st.ledger.winner(req.knob);
  return claim_reply{w->value, w->owner == owner, st.spec.dry_run};
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
      if (write_knob(self, knob, k.original, "dry-run on: restore").ok())
        (void) journal(self, journal_record::op::release, knob, k.original);
    st.spec.dry_run = true;
    return;
  }
  st.spec.dry_run = false;
  for (auto& [knob, k] : st.ledger.knobs()) {
    if (journal(self, journal_record::op::claim, knob, k.original).ok())
      (void) write_knob(self, knob, *st.ledger.effective(knob), "dry-run off: apply standing claim");
  }
}

} // namespace ballast::cgroup_internal
