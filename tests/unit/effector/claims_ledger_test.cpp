// claims_ledger: ordering, effective-value changes, release fall-back, holds() and winner().
#include "actors/effector/claims_ledger.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace ballast {
namespace {

using change = claims_ledger::change;

// Test-local comparison and printing so EXPECT_EQ on changes is readable.
bool same(const change &a, const change &b) {
  return a.knob == b.knob && a.value == b.value && a.to_original == b.to_original;
}

std::string show(const change &c) {
  return "{" + c.knob + "=" + c.value + (c.to_original ? ", original}" : "}");
}

std::string show(const std::vector<change> &cs) {
  std::string out = "[";
  for (const auto &c : cs)
    out += show(c) + " ";
  return out + "]";
}

// Sorted by knob so the order the ledger iterates in does not matter.
std::vector<change> sorted(std::vector<change> cs) {
  std::sort(cs.begin(), cs.end(), [](const change &a, const change &b) { return a.knob < b.knob; });
  return cs;
}

void expect_changes(std::vector<change> got, std::vector<change> want) {
  got = sorted(std::move(got));
  want = sorted(std::move(want));
  ASSERT_EQ(got.size(), want.size()) << "got " << show(got) << " want " << show(want);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(same(got[i], want[i])) << "got " << show(got) << " want " << show(want);
}

constexpr uint64_t a = 1, b = 2, c = 3;

class ClaimsLedger : public ::testing::Test {
protected:
  // Records the original the way the cgroup actor does: once, before the
  // first claim of a knob.
  std::optional<std::string> claim(uint64_t owner, const std::string &knob, std::string value,
                                   int32_t priority, const std::string &original = "max") {
    if (!ledger.knows(knob))
      ledger.set_original(knob, original);
    return ledger.claim(owner, knob, std::move(value), priority);
  }

  claims_ledger ledger;
};

TEST_F(ClaimsLedger, EmptyLedgerKnowsNothing) {
  EXPECT_FALSE(ledger.knows("memory.high"));
  EXPECT_EQ(ledger.effective("memory.high"), std::nullopt);
  EXPECT_EQ(ledger.winner("memory.high"), std::nullopt);
  EXPECT_FALSE(ledger.holds(a));
  EXPECT_TRUE(ledger.knobs().empty());
}

TEST_F(ClaimsLedger, SetOriginalMakesTheKnobKnownWithoutAWinner) {
  ledger.set_original("memory.high", "max");
  EXPECT_TRUE(ledger.knows("memory.high"));
  EXPECT_EQ(ledger.effective("memory.high"), std::nullopt);
  EXPECT_EQ(ledger.winner("memory.high"), std::nullopt);
  ASSERT_EQ(ledger.knobs().count("memory.high"), 1u);
  EXPECT_EQ(ledger.knobs().at("memory.high").original, "max");
}

TEST_F(ClaimsLedger, FirstClaimReturnsTheNewValue) {
  EXPECT_EQ(claim(a, "memory.high", "1G", 0), "1G");
  EXPECT_EQ(ledger.effective("memory.high"), "1G");
  EXPECT_TRUE(ledger.holds(a));
}

TEST_F(ClaimsLedger, ClaimOfTheOriginalValueChangesNothing) {
  EXPECT_EQ(claim(a, "memory.high", "max", 0, "max"), std::nullopt);
  EXPECT_EQ(ledger.effective("memory.high"), "max");
  EXPECT_TRUE(ledger.holds(a));
}

TEST_F(ClaimsLedger, HighestPriorityWins) {
  EXPECT_EQ(claim(a, "cpu.weight", "50", 1), "50");
  EXPECT_EQ(claim(b, "cpu.weight", "200", 5), "200");
  // A later, lower-priority claim does not take over.
  EXPECT_EQ(claim(c, "cpu.weight", "10", 3), std::nullopt);
  EXPECT_EQ(ledger.effective("cpu.weight"), "200");
  auto w = ledger.winner("cpu.weight");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->owner, b);
  EXPECT_EQ(w->value, "200");
  EXPECT_EQ(w->priority, 5);
}

TEST_F(ClaimsLedger, NegativePrioritiesLoseToZero) {
  EXPECT_EQ(claim(a, "cpu.weight", "50", 0), "50");
  EXPECT_EQ(claim(b, "cpu.weight", "10", -1), std::nullopt);
  EXPECT_EQ(ledger.winner("cpu.weight")->owner, a);
}

TEST_F(ClaimsLedger, EqualPriorityLatestClaimWins) {
  EXPECT_EQ(claim(a, "cpu.weight", "50", 2), "50");
  EXPECT_EQ(claim(b, "cpu.weight", "70", 2), "70");
  EXPECT_EQ(ledger.winner("cpu.weight")->owner, b);
  EXPECT_EQ(claim(c, "cpu.weight", "90", 2), "90");
  EXPECT_EQ(ledger.winner("cpu.weight")->owner, c);
}

TEST_F(ClaimsLedger, LatestClaimWithTheSameValueReturnsNothing) {
  EXPECT_EQ(claim(a, "cpu.weight", "50", 2), "50");
  // b now wins the tie, but the knob's value does not move: nothing to write.
  EXPECT_EQ(claim(b, "cpu.weight", "50", 2), std::nullopt);
  EXPECT_EQ(ledger.winner("cpu.weight")->owner, b);
}

TEST_F(ClaimsLedger, ReclaimBySameOwnerReplacesItsClaim) {
  EXPECT_EQ(claim(a, "memory.high", "1G", 1), "1G");
  EXPECT_EQ(claim(a, "memory.high", "2G", 1), "2G");
  ASSERT_EQ(ledger.knobs().at("memory.high").claims.size(), 1u);
  EXPECT_EQ(ledger.effective("memory.high"), "2G");
  // Same value again: replaced, no change.
  EXPECT_EQ(claim(a, "memory.high", "2G", 1), std::nullopt);
  EXPECT_EQ(ledger.knobs().at("memory.high").claims.size(), 1u);
}

TEST_F(ClaimsLedger, ReclaimAtLowerPriorityHandsTheKnobToTheNextClaim) {
  EXPECT_EQ(claim(a, "memory.high", "1G", 5), "1G");
  EXPECT_EQ(claim(b, "memory.high", "3G", 3), std::nullopt);
  EXPECT_EQ(claim(a, "memory.high", "1G", 1), "3G");
  EXPECT_EQ(ledger.winner("memory.high")->owner, b);
  ASSERT_EQ(ledger.knobs().at("memory.high").claims.size(), 2u);
}

TEST_F(ClaimsLedger, ReclaimMakesTheOwnerTheLatestAmongEquals) {
  EXPECT_EQ(claim(a, "cpu.weight", "50", 2), "50");
  EXPECT_EQ(claim(b, "cpu.weight", "70", 2), "70");
  EXPECT_EQ(claim(a, "cpu.weight", "60", 2), "60");
  EXPECT_EQ(ledger.winner("cpu.weight")->owner, a);
}

TEST_F(ClaimsLedger, SecondSetOriginalIsNotNeededAndKnowsStaysTrue) {
  claim(a, "memory.high", "1G", 0, "max");
  claim(b, "memory.high", "2G", 0, "ignored"); // knows() is true: original kept
  EXPECT_EQ(ledger.knobs().at("memory.high").original, "max");
}

TEST_F(ClaimsLedger, ReleaseOfTheWinnerFallsBackToTheNextStandingClaim) {
  claim(a, "memory.high", "1G", 1);
  claim(b, "memory.high", "2G", 3);
  claim(c, "memory.high", "3G", 2);
  auto ch = ledger.release(b, "memory.high");
  ASSERT_TRUE(ch);
  EXPECT_TRUE(same(*ch, {"memory.high", "3G", false})) << show(*ch);
  EXPECT_EQ(ledger.winner("memory.high")->owner, c);

  ch = ledger.release(c, "memory.high");
  ASSERT_TRUE(ch);
  EXPECT_TRUE(same(*ch, {"memory.high", "1G", false})) << show(*ch);
  EXPECT_TRUE(ledger.knows("memory.high"));
}

TEST_F(ClaimsLedger, ReleaseFallsBackToTheLatestAmongEqualPriorities) {
  claim(a, "cpu.weight", "10", 1);
  claim(b, "cpu.weight", "20", 1);
  claim(c, "cpu.weight", "30", 9);
  auto ch = ledger.release(c, "cpu.weight");
  ASSERT_TRUE(ch);
  EXPECT_TRUE(same(*ch, {"cpu.weight", "20", false})) << show(*ch);
}

TEST_F(ClaimsLedger, ReleaseOfALosingClaimChangesNothing) {
  claim(a, "memory.high", "1G", 1);
  claim(b, "memory.high", "2G", 3);
  EXPECT_EQ(ledger.release(a, "memory.high"), std::nullopt);
  EXPECT_EQ(ledger.effective("memory.high"), "2G");
  EXPECT_FALSE(ledger.holds(a));
  EXPECT_EQ(ledger.knobs().at("memory.high").claims.size(), 1u);
}

TEST_F(ClaimsLedger, ReleaseOfTheWinnerWithAnEqualValueBelowChangesNothing) {
  claim(a, "memory.high", "1G", 1);
  claim(b, "memory.high", "1G", 3);
  EXPECT_EQ(ledger.release(b, "memory.high"), std::nullopt);
  EXPECT_EQ(ledger.winner("memory.high")->owner, a);
}

TEST_F(ClaimsLedger, ReleaseOfTheLastClaimGoesBackToTheOriginal) {
  claim(a, "memory.high", "1G", 1, "max");
  auto ch = ledger.release(a, "memory.high");
  ASSERT_TRUE(ch);
  EXPECT_TRUE(same(*ch, {"memory.high", "max", true})) << show(*ch);
  EXPECT_FALSE(ledger.knows("memory.high"));
  EXPECT_EQ(ledger.knobs().count("memory.high"), 0u);
  EXPECT_EQ(ledger.effective("memory.high"), std::nullopt);
  EXPECT_FALSE(ledger.holds(a));
}

TEST_F(ClaimsLedger, BackToTheOriginalIsReportedEvenWhenTheValueIsTheSame) {
  // The claim held the original value: nothing was written, but the release
  // still reports to_original so the journal entry is closed.
  claim(a, "memory.high", "max", 1, "max");
  auto ch = ledger.release(a, "memory.high");
  ASSERT_TRUE(ch);
  EXPECT_TRUE(same(*ch, {"memory.high", "max", true})) << show(*ch);
}

TEST_F(ClaimsLedger, FullFallBackChainEndsAtTheOriginal) {
  claim(a, "memory.high", "1G", 1, "max");
  claim(b, "memory.high", "2G", 2);
  auto first = ledger.release(b, "memory.high");
  ASSERT_TRUE(first);
  EXPECT_TRUE(same(*first, {"memory.high", "1G", false})) << show(*first);
  auto second = ledger.release(a, "memory.high");
  ASSERT_TRUE(second);
  EXPECT_TRUE(same(*second, {"memory.high", "max", true})) << show(*second);
  EXPECT_FALSE(ledger.knows("memory.high"));
}

TEST_F(ClaimsLedger, ClaimAfterFullReleaseStartsFromANewOriginal) {
  claim(a, "memory.high", "1G", 1, "max");
  ASSERT_TRUE(ledger.release(a, "memory.high"));
  EXPECT_EQ(claim(a, "memory.high", "1G", 1, "5G"), "1G");
  EXPECT_EQ(ledger.knobs().at("memory.high").original, "5G");
}

TEST_F(ClaimsLedger, ReleaseOfUnknownOwnerOrKnobIsNothing) {
  claim(a, "memory.high", "1G", 1);
  EXPECT_EQ(ledger.release(b, "memory.high"), std::nullopt); // b holds nothing
  EXPECT_EQ(ledger.release(a, "cpu.weight"), std::nullopt);  // knob never claimed
  EXPECT_EQ(ledger.release(b, "cpu.weight"), std::nullopt);
  // Nothing was disturbed.
  EXPECT_EQ(ledger.effective("memory.high"), "1G");
  EXPECT_TRUE(ledger.holds(a));
  EXPECT_FALSE(ledger.knows("cpu.weight"));
}

TEST_F(ClaimsLedger, SecondReleaseOfTheSameClaimIsNothing) {
  claim(a, "memory.high", "1G", 1);
  claim(b, "memory.high", "2G", 2);
  ASSERT_TRUE(ledger.release(b, "memory.high"));
  EXPECT_EQ(ledger.release(b, "memory.high"), std::nullopt);
  EXPECT_EQ(ledger.effective("memory.high"), "1G");
}

TEST_F(ClaimsLedger, ReleaseOwnerDropsEveryClaimOfTheOwner) {
  claim(a, "memory.high", "1G", 5, "max"); // a wins, alone -> original
  claim(a, "cpu.weight", "50", 5, "100");  // a wins over b -> b's value
  claim(b, "cpu.weight", "70", 1);
  claim(b, "io.weight", "300", 9, "default 100"); // b wins over a -> no change
  claim(a, "io.weight", "200", 1);
  claim(b, "pids.max", "64", 1, "max"); // a not involved

  expect_changes(ledger.release_owner(a),
                 {{"memory.high", "max", true}, {"cpu.weight", "70", false}});
  EXPECT_FALSE(ledger.holds(a));
  EXPECT_TRUE(ledger.holds(b));
  EXPECT_FALSE(ledger.knows("memory.high"));
  EXPECT_EQ(ledger.effective("cpu.weight"), "70");
  EXPECT_EQ(ledger.effective("io.weight"), "300");
  EXPECT_EQ(ledger.knobs().at("io.weight").claims.size(), 1u);
  EXPECT_EQ(ledger.effective("pids.max"), "64");
}

TEST_F(ClaimsLedger, ReleaseOwnerOfAnOwnerWithoutClaimsIsEmpty) {
  claim(a, "memory.high", "1G", 1);
  EXPECT_TRUE(ledger.release_owner(b).empty());
  EXPECT_EQ(ledger.effective("memory.high"), "1G");
}

TEST_F(ClaimsLedger, ReleaseOwnerThenAgainIsEmpty) {
  claim(a, "memory.high", "1G", 1);
  claim(a, "cpu.weight", "50", 1);
  EXPECT_EQ(ledger.release_owner(a).size(), 2u);
  EXPECT_TRUE(ledger.release_owner(a).empty());
  EXPECT_TRUE(ledger.knobs().empty());
}

TEST_F(ClaimsLedger, ReleaseAllReturnsEveryOriginal) {
  claim(a, "memory.high", "1G", 1, "max");
  claim(b, "memory.high", "2G", 2);
  claim(b, "cpu.weight", "50", 1, "100");
  claim(c, "io.weight", "default 100", 1, "default 100"); // same as original: still reported
  expect_changes(ledger.release_all(), {{"memory.high", "max", true},
                                        {"cpu.weight", "100", true},
                                        {"io.weight", "default 100", true}});
  EXPECT_TRUE(ledger.knobs().empty());
  EXPECT_FALSE(ledger.holds(a));
  EXPECT_FALSE(ledger.holds(b));
  EXPECT_FALSE(ledger.holds(c));
  EXPECT_FALSE(ledger.knows("memory.high"));
}

TEST_F(ClaimsLedger, ReleaseAllOfAnEmptyLedgerIsEmpty) {
  EXPECT_TRUE(ledger.release_all().empty());
}

TEST_F(ClaimsLedger, HoldsFollowsClaimsAcrossKnobs) {
  EXPECT_FALSE(ledger.holds(a));
  claim(a, "memory.high", "1G", 1);
  claim(a, "cpu.weight", "50", 1);
  claim(b, "cpu.weight", "70", 9);
  EXPECT_TRUE(ledger.holds(a)); // a losing claim still counts
  ledger.release(a, "memory.high");
  EXPECT_TRUE(ledger.holds(a));
  ledger.release(a, "cpu.weight");
  EXPECT_FALSE(ledger.holds(a));
  EXPECT_TRUE(ledger.holds(b));
}

TEST_F(ClaimsLedger, WinnerCarriesOwnerValuePriorityAndOrder) {
  claim(a, "cpu.weight", "50", 2);
  claim(b, "cpu.weight", "70", 2);
  ASSERT_EQ(ledger.knobs().at("cpu.weight").claims.size(), 2u);
  auto w = ledger.winner("cpu.weight");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->owner, b);
  EXPECT_EQ(w->value, "70");
  EXPECT_EQ(w->priority, 2);
  EXPECT_GT(w->seq, ledger.knobs().at("cpu.weight").claims.front().seq);
  EXPECT_EQ(ledger.winner("memory.high"), std::nullopt);
}

TEST_F(ClaimsLedger, KnobsAreIndependent) {
  EXPECT_EQ(claim(a, "memory.high", "1G", 1), "1G");
  EXPECT_EQ(claim(b, "cpu.weight", "50", 0), "50");
  EXPECT_EQ(ledger.winner("memory.high")->owner, a);
  EXPECT_EQ(ledger.winner("cpu.weight")->owner, b);
  auto ch = ledger.release(a, "memory.high");
  ASSERT_TRUE(ch);
  EXPECT_TRUE(ch->to_original);
  EXPECT_EQ(ledger.effective("cpu.weight"), "50");
}

} // namespace
} // namespace ballast
