// The effector on a recording target: claims and their order, journal
// records, refusals, dry-run, actions, writes on the knob writer's threads,
// and the restore of an effector dropped while it holds claims.
#include "actors/effector/effector.hpp"

#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <optional>

namespace ballast {
namespace {

using values = std::map<std::string, std::string>;

// Refuses one value, as the kernel refuses a limit it cannot take.
class refusing_target final : public knob_target {
public:
  refusing_target() : knob_target(7, "/r", "/r") {}
  result<std::string> read(std::string_view knob) override { return record.read(knob); }
  status write(std::string_view knob, std::string_view value) override {
    if (value == "refused")
      return error{EINVAL, "write '" + std::string(value) + "': Invalid argument"};
    return record.write(knob, value);
  }
  recording_target record{{{"memory.min", "0"}}};
};

// Write results from the knob writer's threads, handed back one at a time
// as the owner actor would receive them.
class mailbox {
public:
  effector::post_fn post() {
    return [this](write_done w) {
      std::lock_guard lock(mutex_);
      done_.push_back(std::move(w));
      wake_.notify_all();
    };
  }
  write_done next() {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return !done_.empty(); });
    auto w = done_.front();
    done_.erase(done_.begin());
    return w;
  }

private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<write_done> done_;
};

class Effector : public ::testing::Test {
protected:
  Effector() {
    auto j = journal::open(run_.path("/journal"));
    EXPECT_TRUE(j) << j.err().message;
    deps_.knob_journal = std::make_shared<journal>(std::move(*j));
  }

  std::unique_ptr<effector> make(knobs::scope scope, bool dry_run = false) {
    return std::make_unique<effector>(deps_, scope, target_, dry_run, box_.post());
  }

  // The claim's reply, which comes at once when nothing is on a writer thread.
  static caf::expected<claim_reply> claim(effector &e, uint64_t owner, const std::string &knob,
                                          const std::string &value, int32_t priority = 0) {
    std::optional<caf::expected<claim_reply>> got;
    e.claim(owner, {knob, value, priority, "test"}, [&](caf::expected<claim_reply> r) { got = r; });
    EXPECT_TRUE(got) << "no reply to the claim of " << knob;
    return got ? *got : caf::make_error(caf::sec::runtime_error, "no reply");
  }

  // Claims a replay would restore now.
  std::vector<journal_record> open_claims() {
    return plan_replay(*deps_.knob_journal->read_all()).restores;
  }

  test::temp_tree run_;
  effector_deps deps_{std::make_shared<agent_metrics>(), nullptr, nullptr};
  std::shared_ptr<recording_target> target_ = std::make_shared<recording_target>(
      values{{"memory.high", "max"}, {"memory.min", "0"}, {"vm.swappiness", "60"}});
  mailbox box_;
};

TEST_F(Effector, TheWinnerHoldsTheKnobAndTheOriginalComesBackWithTheLastClaim) {
  auto e = make(knobs::scope::cgroup);
  auto first = claim(*e, 1, "memory.min", "100");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->winning);
  EXPECT_EQ(target_->values().at("memory.min"), "100");
  ASSERT_EQ(open_claims().size(), 1u);
  EXPECT_EQ(open_claims()[0].value, "0") << "the original is journalled before the first write";

  auto higher = claim(*e, 2, "memory.min", "200", 5);
  EXPECT_TRUE(higher->winning);
  auto lower = claim(*e, 3, "memory.min", "300", 1);
  EXPECT_FALSE(lower->winning);
  EXPECT_EQ(lower->effective_value, "200");
  EXPECT_EQ(target_->values().at("memory.min"), "200");

  e->release_owner(2, restore_reason::policy_ended);
  EXPECT_EQ(target_->values().at("memory.min"), "300") << "the next claim by priority";
  e->release(3, "memory.min", restore_reason::released);
  EXPECT_EQ(target_->values().at("memory.min"), "100");
  EXPECT_EQ(e->release_all(restore_reason::shutdown), 1u);
  EXPECT_EQ(target_->values().at("memory.min"), "0");
  EXPECT_TRUE(open_claims().empty()) << "the release closes the journal entry";
}

TEST_F(Effector, WhatTheKnobTableRefusesIsNeitherJournalledNorWritten) {
  auto cgroup = make(knobs::scope::cgroup);
  auto bad_value = claim(*cgroup, 1, "memory.min", "lots");
  ASSERT_FALSE(bad_value);
  EXPECT_EQ(bad_value.error().code(), uint8_t(caf::sec::invalid_argument));
  EXPECT_FALSE(claim(*cgroup, 1, "vm.swappiness", "10")) << "a system knob is the host's";
  EXPECT_FALSE(claim(*cgroup, 1, "memory.stat", "1")) << "not in the table";
  auto host = make(knobs::scope::system);
  EXPECT_FALSE(claim(*host, 1, "memory.min", "100")) << "a cgroup knob is its cgroup's";
  EXPECT_TRUE(claim(*host, 1, "vm.swappiness", "10"));
  EXPECT_EQ(target_->writes(), 1u);
  EXPECT_EQ(open_claims().size(), 1u);
  EXPECT_EQ(open_claims()[0].knob, "vm.swappiness");
}

TEST_F(Effector, AValueTheKernelRefusesDoesNotStandAsAClaim) {
  auto refusing = std::make_shared<refusing_target>();
  effector e(deps_, knobs::scope::cgroup, refusing, false, box_.post());
  std::optional<caf::expected<claim_reply>> got;
  e.claim(1, {"memory.min", "refused", 0, "test"}, [&](caf::expected<claim_reply> r) { got = r; });
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  EXPECT_FALSE(e.ledger().holds(1));
  EXPECT_TRUE(open_claims().empty()) << "the entry opened for the claim is closed again";
}

TEST_F(Effector, InDryRunWritesLandInTheRecordAndTheKernelIsNotTouched) {
  auto e = make(knobs::scope::cgroup, true);
  auto r = claim(*e, 1, "memory.high", "1000000");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->dry_run);
  EXPECT_EQ(target_->values().at("memory.high"), "max");
  EXPECT_EQ(e->dry_run_values(), (values{{"memory.high", "1000000"}}));
  EXPECT_TRUE(open_claims().empty()) << "nothing written, nothing to undo";

  e->set_dry_run(false); // the standing claim is applied, journalled first
  EXPECT_EQ(target_->values().at("memory.high"), "1000000");
  EXPECT_EQ(open_claims().size(), 1u);
  e->set_dry_run(true); // and put back at once
  EXPECT_EQ(target_->values().at("memory.high"), "max");
  EXPECT_TRUE(open_claims().empty());
}

TEST_F(Effector, AnActionIsWrittenOnceAndOnlyRecordedInDryRun) {
  auto e = make(knobs::scope::cgroup);
  std::optional<caf::expected<bool>> done;
  e->action({"memory.reclaim", "4096", "test"}, [&](caf::expected<bool> r) { done = r; });
  ASSERT_TRUE(done && *done);
  EXPECT_TRUE(**done);
  EXPECT_EQ(target_->values().at("memory.reclaim"), "4096");
  EXPECT_TRUE(e->ledger().knobs().empty()) << "an action leaves nothing to restore";

  auto dry = make(knobs::scope::cgroup, true);
  dry->action({"kill", "1234", "test"}, [&](caf::expected<bool> r) { done = r; });
  EXPECT_FALSE(**done) << "false: not done, dry-run";
  EXPECT_EQ(dry->dry_run_values(), (values{{"kill", "1234"}}));
  dry->action({"kill", "0", "test"}, [&](caf::expected<bool> r) { done = r; });
  EXPECT_FALSE(*done) << "refused by the table before dry-run is asked";
}

TEST_F(Effector, WritesThatMayBlockRunOnTheWriterAndContinueWhenTheyComeBack) {
  deps_.writer = std::make_shared<knob_writer>(1);
  auto e = make(knobs::scope::cgroup);
  std::optional<caf::expected<claim_reply>> got;
  e->claim(1, {"memory.high", "5000000", 0, "test"},
           [&](caf::expected<claim_reply> r) { got = r; });
  EXPECT_FALSE(got) << "memory.high may reclaim: its write is on a writer thread";
  e->on_write_done(box_.next());
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(target_->values().at("memory.high"), "5000000");

  e->drop_queued();
  e->claim(2, {"memory.high", "4000000", 1, "test"},
           [&](caf::expected<claim_reply> r) { got = r; });
  e->on_write_done(box_.next());
  EXPECT_FALSE(*got) << "dropped: the owner is stopping";
  EXPECT_EQ(target_->values().at("memory.high"), "5000000");
  e->release_all(restore_reason::shutdown); // a restore is never dropped
  e->on_write_done(box_.next());
  EXPECT_EQ(target_->values().at("memory.high"), "max");
  EXPECT_FALSE(e->writes_in_flight());
}

TEST_F(Effector, AnEffectorDroppedWhileHoldingClaimsRestoresThem) {
  auto e = make(knobs::scope::system);
  ASSERT_TRUE(claim(*e, 1, "vm.swappiness", "10"));
  EXPECT_EQ(target_->values().at("vm.swappiness"), "10");
  e.reset();
  EXPECT_EQ(target_->values().at("vm.swappiness"), "60");
  EXPECT_TRUE(open_claims().empty());
}

} // namespace
} // namespace ballast
