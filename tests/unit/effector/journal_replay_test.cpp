// replay_journal on a fixture cgroup tree: restores, id checks, corrupt lines, metrics.
#include "actors/effector/journal_replay.hpp"

#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace ballast {
namespace {

namespace fs = std::filesystem;
using labels = std::map<std::string, std::string>;

// The value of the series `name` whose labels are exactly `want`, from a
// fresh Collect(); nullopt if there is no such series.
std::optional<double> metric_value(agent_metrics &metrics, const std::string &name,
                                   const labels &want = {}) {
  for (const auto &family : metrics.registry().Collect()) {
    if (family.name != name)
      continue;
    for (const auto &m : family.metric) {
      labels got;
      for (const auto &l : m.label)
        got[l.name] = l.value;
      if (got != want)
        continue;
      switch (family.type) {
      case prometheus::MetricType::Counter:
        return m.counter.value;
      case prometheus::MetricType::Gauge:
        return m.gauge.value;
      case prometheus::MetricType::Untyped:
        return m.untyped.value;
      default:
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

const char *const restores = "ballast_knob_restores_total";
const char *const restore_failures = "ballast_knob_restore_failures_total";
const char *const journal_errors = "ballast_journal_errors_total";
const labels by_journal = {{"reason", "journal"}};

class JournalReplay : public ::testing::Test {
protected:
  void SetUp() override {
    tree_.make_cgroup("/");
    auto j = journal::open(run_.path("/run/journal"));
    ASSERT_TRUE(j) << j.err().message;
    journal_.emplace(std::move(j).value());
  }

  void append(const journal_record &r) {
    auto s = journal_->append(r);
    ASSERT_TRUE(s) << s.err().message;
  }
  void append_raw(const std::string &text) { run_.append("/run/journal", text); }
  journal_record claim(const std::string &rel, std::string knob, std::string original) {
    return {journal_record::op::claim, tree_.inode(rel), std::move(knob), std::move(original), rel};
  }
  journal_record release(const std::string &rel, std::string knob, std::string value) {
    return {journal_record::op::release, tree_.inode(rel), std::move(knob), std::move(value), rel};
  }
  std::string journal_text() { return *journal_->read_all(); }
  replay_outcome replay(bool dry_run = false) {
    return replay_journal(*journal_, {tree_.root(), host_.root()}, metrics_, dry_run);
  }

  // The cgroup root. Its knobs are plain files; cgroup_dir::write opens them
  // with O_TRUNC, so after a restore the file reads exactly the original.
  test::temp_tree tree_;
  test::temp_tree run_;  // holds the journal, outside the cgroup root
  test::temp_tree host_; // the system knobs' /proc and /sys
  std::optional<journal> journal_;
  agent_metrics metrics_;
};

TEST_F(JournalReplay, MetricHelperFindsSeriesByNameAndLabels) {
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 0.0);
  EXPECT_EQ(metric_value(metrics_, restores, {{"reason", "shutdown"}}), 0.0);
  EXPECT_EQ(metric_value(metrics_, restores, {{"reason", "nope"}}), std::nullopt);
  EXPECT_EQ(metric_value(metrics_, restores), std::nullopt); // every series is labelled
  EXPECT_EQ(metric_value(metrics_, journal_errors), 0.0);
  EXPECT_EQ(metric_value(metrics_, "ballast_no_such_metric"), std::nullopt);
  metrics_.knob_restored(restore_reason::shutdown);
  EXPECT_EQ(metric_value(metrics_, restores, {{"reason", "shutdown"}}), 1.0);
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 0.0);
}

TEST_F(JournalReplay, EmptyJournalDoesNothing) {
  const auto out = replay();
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(out.skipped, 0u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(out.bad_lines, 0u);
  EXPECT_EQ(metric_value(metrics_, journal_errors), 0.0);
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 0.0);
}

TEST_F(JournalReplay, OpenClaimOfAnExistingCgroupIsWrittenBack) {
  tree_.make_cgroup("/a");
  tree_.write("/a/cpu.max", "20000");
  append(claim("/a", "cpu.max", "max 100000"));

  const auto out = replay();
  EXPECT_EQ(out.restored, 1u);
  EXPECT_EQ(out.skipped, 0u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(out.bad_lines, 0u);
  EXPECT_EQ(tree_.read("/a/cpu.max"), "max 100000");
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 1.0);
  EXPECT_EQ(metric_value(metrics_, restore_failures), 0.0);
  EXPECT_EQ(metric_value(metrics_, journal_errors), 0.0);
  EXPECT_EQ(journal_text(), "");
}

TEST_F(JournalReplay, AnOpenClaimOfASystemKnobIsWrittenBackToItsFile) {
  host_.write("/proc/sys/vm/swappiness", "10");
  append({journal_record::op::claim, 0, "vm.swappiness", "60", ""});

  const auto out = replay();
  EXPECT_EQ(out.restored, 1u);
  EXPECT_EQ(out.skipped, 0u);
  EXPECT_EQ(host_.read("/proc/sys/vm/swappiness"), "60");
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 1.0);
  EXPECT_EQ(journal_text(), "");
}

TEST_F(JournalReplay, InDryRunNothingIsWrittenAndTheJournalIsKept) {
  tree_.make_cgroup("/a");
  tree_.write("/a/cpu.max", "20000");
  append(claim("/a", "cpu.max", "max 100000"));
  auto before = journal_text();

  const auto out = replay(true);
  EXPECT_EQ(out.would_restore, 1u);
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(tree_.read("/a/cpu.max"), "20000");
  EXPECT_EQ(journal_text(), before) << "an agent that writes restores it later";
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 0.0);

  EXPECT_EQ(replay(false).restored, 1u);
  EXPECT_EQ(tree_.read("/a/cpu.max"), "max 100000");
}

TEST_F(JournalReplay, EveryOpenClaimIsRestoredAcrossCgroups) {
  tree_.make_cgroup("/a");
  tree_.make_cgroup("/a/b");
  tree_.write("/cgroup.max.depth", "");
  tree_.write("/a/memory.high", "1G");
  tree_.write("/a/cpu.weight", "");
  tree_.write("/a/b/memory.high", "");
  append(claim("/a", "memory.high", "max"));
  append(claim("/a", "cpu.weight", "100"));
  append(claim("/a/b", "memory.high", "2G\nwith newline"));
  append(claim("/", "cgroup.max.depth", "max"));

  const auto out = replay();
  EXPECT_EQ(out.restored, 4u);
  EXPECT_EQ(out.skipped + out.failed + out.bad_lines, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "max");
  EXPECT_EQ(tree_.read("/a/cpu.weight"), "100");
  EXPECT_EQ(tree_.read("/a/b/memory.high"), "2G\nwith newline");
  EXPECT_EQ(tree_.read("/cgroup.max.depth"), "max");
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 4.0);
  EXPECT_EQ(journal_text(), "");
}

TEST_F(JournalReplay, ReleasedClaimIsNotWrittenBack) {
  tree_.make_cgroup("/a");
  tree_.write("/a/memory.high", "4G");
  append(claim("/a", "memory.high", "max"));
  append(release("/a", "memory.high", "max"));

  const auto out = replay();
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "4G");
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 0.0);
  EXPECT_EQ(journal_text(), "");
}

TEST_F(JournalReplay, RecreatedCgroupWithAnotherIdIsSkippedAndUntouched) {
  tree_.make_cgroup("/a");
  tree_.make_cgroup("/other");
  tree_.write("/a/memory.high", "4G");
  // The journal names /a, but with the id of a different directory: the
  // cgroup that was there is gone and this is a new one at the same path.
  auto r = claim("/a", "memory.high", "max");
  r.cgroup_id = tree_.inode("/other");
  ASSERT_NE(r.cgroup_id, tree_.inode("/a"));
  append(r);
  auto r2 = claim("/a", "cpu.weight", "100");
  r2.cgroup_id = tree_.inode("/a") + 1000003;
  append(r2);

  const auto out = replay();
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(out.skipped, 2u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "4G");
  EXPECT_FALSE(fs::exists(tree_.path("/a/cpu.weight")));
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 0.0);
  EXPECT_EQ(metric_value(metrics_, restore_failures), 0.0);
  EXPECT_EQ(journal_text(), ""); // nothing left to try
}

TEST_F(JournalReplay, RemovedAndRecreatedDirectoryIsSkipped) {
  tree_.make_cgroup("/a");
  const auto r = claim("/a", "memory.high", "max");
  tree_.remove("/a");
  // Filesystems hand a freed inode number to the next new file or directory:
  // let a filler take it, so the new /a gets another one.
  tree_.make_cgroup("/filler");
  tree_.make_cgroup("/a");
  tree_.write("/a/memory.high", "4G");
  if (tree_.inode("/a") == r.cgroup_id)
    GTEST_SKIP() << "the filesystem reused the inode number";
  append(r);
  const auto out = replay();
  EXPECT_EQ(out.skipped, 1u);
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "4G");
}

TEST_F(JournalReplay, MissingCgroupIsSkipped) {
  tree_.make_cgroup("/gone");
  const auto r = claim("/gone", "memory.high", "max");
  tree_.remove("/gone");
  append(r);
  append({journal_record::op::claim, 77, "memory.high", "max", "/never/there"});

  const auto out = replay();
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(out.skipped, 2u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_FALSE(fs::exists(tree_.path("/gone")));
  EXPECT_FALSE(fs::exists(tree_.path("/never")));
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 0.0);
  EXPECT_EQ(metric_value(metrics_, restore_failures), 0.0);
  EXPECT_EQ(journal_text(), "");
}

TEST_F(JournalReplay, UncleanPathIsSkippedNotFollowed) {
  tree_.make_cgroup("/a");
  tree_.make_cgroup("/b");
  tree_.write("/b/memory.high", "4G");
  // A path that would reach /b through /a/..: never opened.
  append({journal_record::op::claim, tree_.inode("/b"), "memory.high", "max", "/a/../b"});
  const auto out = replay();
  EXPECT_EQ(out.skipped, 1u);
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(tree_.read("/b/memory.high"), "4G");
}

TEST_F(JournalReplay, MixedReplayRestoresWhatItCanAndEmptiesTheJournal) {
  tree_.make_cgroup("/a");
  tree_.make_cgroup("/b");
  tree_.write("/a/memory.high", "1G");
  tree_.write("/b/memory.high", "1G");
  append(claim("/a", "memory.high", "max"));
  auto stale = claim("/b", "memory.high", "max");
  stale.cgroup_id += 1000003;
  append(stale);
  append({journal_record::op::claim, 5, "memory.high", "max", "/gone"});

  const auto out = replay();
  EXPECT_EQ(out.restored, 1u);
  EXPECT_EQ(out.skipped, 2u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "max");
  EXPECT_EQ(tree_.read("/b/memory.high"), "1G");
  EXPECT_EQ(journal_text(), "");
  EXPECT_EQ(fs::file_size(journal_->path()), 0u);
}

TEST_F(JournalReplay, CorruptLineIsCountedAndNeverApplied) {
  tree_.make_cgroup("/a");
  tree_.write("/a/memory.high", "4G");
  tree_.write("/a/cpu.weight", "10");
  append(claim("/a", "cpu.weight", "100"));
  // A claim whose value was corrupted on disk ("max" -> "mbx"): its CRC no
  // longer matches, so it must not be written.
  auto bad = format_record(1, claim("/a", "memory.high", "max"));
  const auto at = bad.find("\tmax\t");
  ASSERT_NE(at, std::string::npos);
  bad[at + 2] = 'b';
  append_raw(bad);
  append_raw("not a record\n");

  const auto out = replay();
  EXPECT_EQ(out.bad_lines, 2u);
  EXPECT_EQ(out.restored, 1u);
  EXPECT_EQ(out.skipped, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "4G");
  EXPECT_EQ(tree_.read("/a/cpu.weight"), "100");
  EXPECT_EQ(metric_value(metrics_, journal_errors), 2.0);
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 1.0);
  EXPECT_EQ(journal_text(), "");
}

// A journal whose lines were put out of order: memory.high of /a was claimed
// at max, released, set to 4G by someone else and claimed again; the lines
// come last-first. The replay puts back 4G, not max.
TEST_F(JournalReplay, AReorderedJournalRestoresTheLatestOriginal) {
  tree_.make_cgroup("/a");
  tree_.write("/a/memory.high", "1G");
  append_raw(format_record(3, claim("/a", "memory.high", "4G")) +
             format_record(2, release("/a", "memory.high", "max")) +
             format_record(1, claim("/a", "memory.high", "max")));
  const auto out = replay();
  EXPECT_EQ(out.restored, 1u);
  EXPECT_EQ(out.bad_lines, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "4G");
  EXPECT_EQ(journal_text(), "");
}

// Two different records with one sequence number for memory.high: it keeps
// whatever it holds; cpu.weight, not in doubt, is restored.
TEST_F(JournalReplay, ConflictingRecordsLeaveTheirKnobAlone) {
  tree_.make_cgroup("/a");
  tree_.write("/a/memory.high", "1G");
  tree_.write("/a/cpu.weight", "10");
  append_raw(format_record(1, claim("/a", "memory.high", "max")) +
             format_record(1, claim("/a", "memory.high", "4G")) +
             format_record(2, claim("/a", "cpu.weight", "100")));
  const auto out = replay();
  EXPECT_EQ(out.restored, 1u);
  EXPECT_EQ(out.skipped, 1u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "1G");
  EXPECT_EQ(tree_.read("/a/cpu.weight"), "100");
  EXPECT_EQ(metric_value(metrics_, journal_errors), 1.0);
}

TEST_F(JournalReplay, TornLastLineIsCountedAndNotApplied) {
  tree_.make_cgroup("/a");
  tree_.write("/a/memory.high", "4G");
  const auto line = format_record(1, claim("/a", "memory.high", "max"));
  append_raw(line.substr(0, line.size() - 1)); // the newline never made it
  const auto out = replay();
  EXPECT_EQ(out.bad_lines, 1u);
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(tree_.read("/a/memory.high"), "4G");
  EXPECT_EQ(metric_value(metrics_, journal_errors), 1.0);
}

TEST_F(JournalReplay, FailedWriteIsCountedAndKeepsTheJournal) {
  tree_.make_cgroup("/a");
  tree_.write("/a/cpu.weight", "10");
  // memory.high does not exist in the fixture: the write fails although the
  // cgroup does.
  append(claim("/a", "memory.high", "max"));
  append(claim("/a", "cpu.weight", "100"));
  const auto before = journal_text();

  const auto out = replay();
  EXPECT_EQ(out.failed, 1u);
  EXPECT_EQ(out.restored, 1u);
  EXPECT_EQ(out.skipped, 0u);
  EXPECT_EQ(tree_.read("/a/cpu.weight"), "100");
  EXPECT_FALSE(fs::exists(tree_.path("/a/memory.high")));
  EXPECT_EQ(metric_value(metrics_, restore_failures), 1.0);
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 1.0);
  // The next start tries again.
  EXPECT_EQ(journal_text(), before);
}

TEST_F(JournalReplay, SecondReplayAfterSuccessDoesNothing) {
  tree_.make_cgroup("/a");
  tree_.write("/a/cpu.weight", "10");
  append(claim("/a", "cpu.weight", "100"));
  ASSERT_EQ(replay().restored, 1u);
  tree_.write("/a/cpu.weight", "5"); // changed again by someone else
  const auto out = replay();
  EXPECT_EQ(out.restored, 0u);
  EXPECT_EQ(tree_.read("/a/cpu.weight"), "5");
  EXPECT_EQ(metric_value(metrics_, restores, by_journal), 1.0);
}

} // namespace
} // namespace ballast
