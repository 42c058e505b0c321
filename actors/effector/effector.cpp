// The effector; see effector.hpp.
#include "actors/effector/effector.hpp"

#include "messages/refusal.hpp"
#include "sys/log.hpp"

namespace ballast {

effector::effector(effector_deps deps, knobs::scope scope, std::shared_ptr<knob_target> target,
                   bool dry_run, post_fn post)
    : deps_(std::move(deps)), scope_(scope), target_(std::move(target)), dry_run_(dry_run),
      post_(std::move(post)) {}

effector::~effector() {
  restore_after_failure();
  publish_claims();
}

status effector::account(const std::string &knob, const std::string &value, const std::string &why,
                         status r) {
  if (!r) {
    log::warn("knobs", r.err().message, " (", why, ")");
    deps_.metrics->knob_write_failed();
    return r;
  }
  log::info("knobs", "wrote ", knob, "=", value, " in ", target_->label(), " (", why, ")");
  deps_.metrics->knob_written(false);
  return r;
}

// The one place a knob is written, or in dry-run recorded as it would be.
void effector::write(write_kind kind, const std::string &knob, const std::string &value,
                     const std::string &why, done_fn then) {
  if (dry_run_) {
    (void)would_write_->write(knob, value);
    log::info("knobs", "dry-run: would write ", knob, "=", value, " in ", target_->label(), " (",
              why, ")");
    deps_.metrics->knob_written(true);
    then(success());
    return;
  }
  if (!knobs::write_may_block(knob) || !deps_.writer) {
    then(account(knob, value, why, target_->write(knob, value)));
    return;
  }
  auto seq = ++next_write_;
  in_flight_[seq] = [=, this](status r) { then(account(knob, value, why, std::move(r))); };
  bool droppable = kind == write_kind::apply;
  deps_.writer->submit(target_->id(), [post = post_, target = target_, seq, knob, value, droppable,
                                       cancelled = cancelled_] {
    if (droppable && cancelled->load()) {
      post(write_done{seq, "not written: the owner of " + knob + " is stopping", ECANCELED});
      return;
    }
    auto r = target->write(knob, value);
    post(r ? write_done{seq, {}, 0} : write_done{seq, r.err().message, r.err().code});
  });
}

void effector::on_write_done(const write_done &w) {
  auto it = in_flight_.find(w.seq);
  if (it == in_flight_.end())
    return;
  auto then = std::move(it->second);
  in_flight_.erase(it);
  then(w.error.empty() ? success() : status(error{w.code, w.error}));
}

// Nothing in dry-run: nothing is written that would need undoing.
status effector::journal_op(journal_record::op op, const std::string &knob,
                            const std::string &value) {
  if (dry_run_ || !deps_.knob_journal)
    return success();
  auto r = deps_.knob_journal->append({op, target_->id(), knob, value, target_->path()});
  if (!r) {
    log::error("knobs", r.err().message);
    deps_.metrics->journal_error();
  }
  return r;
}

void effector::publish_claims() {
  std::map<std::string, size_t> now;
  for (auto &[knob, k] : ledger_.knobs())
    now[knob] = k.claims.size();
  for (auto &[knob, n] : now)
    if (n != published_[knob])
      deps_.metrics->claims_changed(knob, double(n) - double(published_[knob]));
  for (auto &[knob, n] : published_)
    if (n && !now.count(knob))
      deps_.metrics->claims_changed(knob, -double(n));
  published_ = std::move(now);
}

std::vector<claim_info> effector::standing_claims() const {
  std::vector<claim_info> out;
  for (auto &[knob, k] : ledger_.knobs())
    for (auto &c : k.claims)
      out.push_back({knob, c.value, c.priority, c.owner});
  return out;
}

void effector::claim(uint64_t owner, const claim_request &req,
                     std::function<void(caf::expected<claim_reply>)> then) {
  if (auto v = knobs::check_write(scope_, req.knob, knobs::effect::setting, req.value); !v) {
    then(refusal(caf::sec::invalid_argument, v.err()));
    return;
  }
  if (!ledger_.knows(req.knob)) {
    auto original = target_->read(req.knob);
    if (!original) {
      then(refusal(caf::sec::runtime_error, original.err()));
      return;
    }
    // No journal record, no write: a knob that could not be restored after
    // a crash is not changed at all.
    if (auto j = journal_op(journal_record::op::claim, req.knob, *original); !j) {
      then(caf::make_error(caf::sec::runtime_error, "claim refused: " + j.err().message));
      return;
    }
    ledger_.set_original(req.knob, *original);
  }
  auto reply = [this, owner, knob = req.knob] {
    auto w = ledger_.winner(knob);
    return claim_reply{w ? w->value : std::string(), w && w->owner == owner, dry_run_};
  };
  auto now = ledger_.claim(owner, req.knob, req.value, req.priority);
  if (!now) {
    publish_claims();
    then(reply());
    return;
  }
  write(write_kind::apply, req.knob, *now, req.reason, [=, this, knob = req.knob](status w) {
    if (!w) {
      // The kernel refused the value, so the knob still holds what it held:
      // the claim does not stand, and a knob nobody else claims is closed.
      if (auto back = ledger_.release(owner, knob); back && back->to_original)
        (void)journal_op(journal_record::op::release, back->knob, back->value);
    }
    publish_claims(); // before the reply: a client may look at once
    then(w ? caf::expected<claim_reply>(reply()) : refusal(caf::sec::runtime_error, w.err()));
  });
}

void effector::action(const action_request &req, std::function<void(caf::expected<bool>)> then) {
  if (auto v = knobs::check_write(scope_, req.action, knobs::effect::action, req.value); !v) {
    then(refusal(caf::sec::invalid_argument, v.err()));
    return;
  }
  write(write_kind::apply, req.action, req.value, req.reason, [=, this](status r) {
    if (r)
      then(!dry_run_);
    else
      then(refusal(caf::sec::runtime_error, r.err()));
  });
}

void effector::restore(const claims_ledger::change &c, restore_reason why) {
  write(write_kind::restore, c.knob, c.value, std::string("restore: ") + to_string(why),
        [=, this](status r) {
          if (r) {
            deps_.metrics->knob_restored(why);
          } else if (target_->exists()) {
            deps_.metrics->knob_restore_failed();
            return; // the journal keeps the entry open: a restart tries again
          }
          if (c.to_original)
            (void)journal_op(journal_record::op::release, c.knob, c.value); // logged, counted
        });
}

void effector::release(uint64_t owner, const std::string &knob, restore_reason why) {
  if (auto c = ledger_.release(owner, knob))
    restore(*c, why);
  publish_claims();
}

void effector::release_owner(uint64_t owner, restore_reason why) {
  for (auto &c : ledger_.release_owner(owner))
    restore(c, why);
  publish_claims();
}

size_t effector::release_all(restore_reason why) {
  auto changes = ledger_.release_all();
  for (auto &c : changes)
    restore(c, why);
  publish_claims();
  return changes.size();
}

void effector::set_dry_run(bool on) {
  if (on == dry_run_)
    return;
  log::info("knobs", target_->label(), ": dry-run ", on ? "on" : "off");
  if (on) {
    for (auto &[knob, k] : ledger_.knobs())
      write(write_kind::restore, knob, k.original, "dry-run on: restore",
            [=, this, knob = knob, original = k.original](status r) {
              if (r)
                (void)journal_op(journal_record::op::release, knob, original);
            });
    dry_run_ = true;
    return;
  }
  dry_run_ = false;
  for (auto &[knob, k] : ledger_.knobs())
    if (journal_op(journal_record::op::claim, knob, k.original).ok())
      write(write_kind::apply, knob, *ledger_.effective(knob), "dry-run off: apply standing claim",
            [](status) {});
}

// Not through write(): the owner is gone, so nothing can come back to it.
// Through the knob writer where it writes the knob, so the restore lands
// after any write of this target still queued there.
void effector::restore_after_failure() {
  auto changes = ledger_.release_all();
  if (changes.empty() || dry_run_)
    return; // stopped cleanly, nothing claimed, or nothing was written
  cancelled_->store(true);
  log::warn("knobs", target_->label(), ": its owner ended without being stopped, holding ",
            changes.size(), " claimed knob(s): restoring them");
  for (auto &c : changes) {
    auto put_back = [deps = deps_, target = target_, c] {
      if (auto r = target->write(c.knob, c.value); !r) {
        log::error("knobs", "restore of ", c.knob, "=", c.value, " in ", target->label(),
                   " failed: ", r.err().message, "; the journal keeps it for the next start");
        if (target->exists())
          deps.metrics->knob_restore_failed();
        return;
      }
      log::info("knobs", "wrote ", c.knob, "=", c.value, " in ", target->label(),
                " (restore: actor_failed)");
      deps.metrics->knob_restored(restore_reason::actor_failed);
      if (c.to_original && deps.knob_journal)
        (void)deps.knob_journal->append(
            {journal_record::op::release, target->id(), c.knob, c.value, target->path()});
    };
    if (knobs::write_may_block(c.knob) && deps_.writer)
      deps_.writer->submit(target_->id(), put_back);
    else
      put_back();
  }
}

} // namespace ballast
