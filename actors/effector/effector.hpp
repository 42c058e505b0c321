// The effector: the one way a knob is written, for the actor that owns the
// knobs of one target (a cgroup actor, the host actor). It holds the claims
// ledger, journals a knob's original before its first write, writes through
// the knob writer's threads where a write may block, restores when claims go,
// and decides dry-run in one place: in dry-run every write lands in a
// recording sink (logged and counted, what each knob would hold kept) and the
// kernel is not touched. Claims, one-shot actions (reclaim, cgroup.kill, kill
// of a member) and restores all come here, checked against the knob table
// first.
//
// Everything runs on the owner actor's thread. A write handed to a knob
// writer thread reports back through `post` (the owner sends itself the
// write_done and passes it to on_write_done), and its continuation runs
// then. Destroying an effector that still holds claims — its owner ended
// without a stop — restores every claimed knob.
#pragma once

#include "actors/effector/claims_ledger.hpp"
#include "actors/effector/journal.hpp"
#include "actors/effector/knob_target.hpp"
#include "actors/effector/knob_writer.hpp"
#include "actors/metrics/agent_metrics.hpp"
#include "messages/events.hpp"
#include "sys/knobs.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace ballast {

// What every effector of an agent shares.
struct effector_deps {
  std::shared_ptr<agent_metrics> metrics;
  std::shared_ptr<journal> knob_journal; // null: nothing journalled (tests)
  std::shared_ptr<knob_writer> writer;   // null: blocking writes on the owner's thread
};

class effector {
public:
  using post_fn = std::function<void(write_done)>;

  // scope: which rows of the knob table this target's claims and actions
  // may name.
  effector(effector_deps deps, knobs::scope scope, std::shared_ptr<knob_target> target,
           bool dry_run, post_fn post);
  ~effector();
  effector(const effector &) = delete;
  effector &operator=(const effector &) = delete;

  // owner's claim: journal the original at the knob's first claim, record it
  // in the ledger, write the winner if it changed; then() gets the reply, or
  // the refusal (the knob table's, the journal's or the kernel's: a value the
  // kernel refuses does not stand as a claim).
  void claim(uint64_t owner, const claim_request &req,
             std::function<void(caf::expected<claim_reply>)> then);

  // A one-shot action: then() gets true once done, false in dry-run.
  void action(const action_request &req, std::function<void(caf::expected<bool>)> then);

  // Claims dropped; the knobs they held fall back to the next claim or to
  // their originals. release_all returns how many knobs changed.
  void release(uint64_t owner, const std::string &knob, restore_reason why);
  void release_owner(uint64_t owner, restore_reason why);
  size_t release_all(restore_reason why);

  // Keeps the invariant that a knob holds its winning claim while writing
  // and its original while in dry-run: on puts every claimed knob back now,
  // off journals and applies the standing claims.
  void set_dry_run(bool on);
  bool dry_run() const { return dry_run_; }

  // A write done on a knob writer thread; runs its continuation.
  void on_write_done(const write_done &w);
  bool writes_in_flight() const { return !in_flight_.empty(); }

  // Claims and actions still queued on the knob writer are dropped from now
  // on (restores are not): a stop waits at most for the write in the kernel.
  void drop_queued() { cancelled_->store(true); }

  const claims_ledger &ledger() const { return ledger_; }
  std::vector<claim_info> standing_claims() const;
  const knob_target &target() const { return *target_; }
  // What each knob written in dry-run would hold now.
  std::map<std::string, std::string> dry_run_values() const { return would_write_->values(); }

private:
  using done_fn = std::function<void(status)>;
  enum class write_kind { apply, restore };

  void write(write_kind kind, const std::string &knob, const std::string &value,
             const std::string &why, done_fn then);
  status account(const std::string &knob, const std::string &value, const std::string &why,
                 status r);
  status journal_op(journal_record::op op, const std::string &knob, const std::string &value);
  void restore(const claims_ledger::change &c, restore_reason why);
  void restore_after_failure();
  void publish_claims();

  effector_deps deps_;
  knobs::scope scope_;
  std::shared_ptr<knob_target> target_;
  std::shared_ptr<recording_target> would_write_ = std::make_shared<recording_target>();
  bool dry_run_;
  post_fn post_;
  claims_ledger ledger_;
  std::map<std::string, size_t> published_; // knob -> its count in ballast_claims
  uint64_t next_write_ = 0;
  std::unordered_map<uint64_t, done_fn> in_flight_; // by write_done::seq
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

} // namespace ballast
