// Knob journal: format/parse with escapes and CRC, corrupt lines, plan_replay, file I/O.
#include "actors/effector/journal.hpp"

#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <limits>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace ballast {

// Readable failure output for EXPECT_EQ on records (internal linkage, found
// by ADL).
[[maybe_unused]] static void PrintTo(const journal_record &r, std::ostream *os) {
  *os << (r.kind == journal_record::op::claim ? "claim" : "release") << "{id=" << r.cgroup_id
      << " knob='" << r.knob << "' value='" << r.value << "' path='" << r.path << "'}";
}

[[maybe_unused]] static void PrintTo(const journal_entry &e, std::ostream *os) {
  *os << "#" << e.seq << " ";
  PrintTo(e.record, os);
}

namespace {

namespace fs = std::filesystem;
using op = journal_record::op;

journal_record claim(uint64_t id, std::string knob, std::string value, std::string path = "/a") {
  return {op::claim, id, std::move(knob), std::move(value), std::move(path)};
}

journal_record release(uint64_t id, std::string knob, std::string value, std::string path = "/a") {
  return {op::release, id, std::move(knob), std::move(value), std::move(path)};
}

// Plain bitwise CRC-32 (IEEE, as zlib's crc32), independent of the code under
// test, so hand-made bodies get a valid checksum and fail for their content.
uint32_t crc32_of(std::string_view s) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char ch : s) {
    crc ^= ch;
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A journal line for body with a correct CRC field.
std::string with_crc(std::string_view body) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", crc32_of(body));
  return std::string(crc) + '\t' + std::string(body) + '\n';
}

// A journal line for body with sequence number 1 in front and a correct CRC.
std::string record_line(std::string_view body) {
  return with_crc("1\t" + std::string(body));
}

// The records as a journal writes them: sequence numbers 1, 2, ...
std::string lines(const std::vector<journal_record> &rs) {
  std::string out;
  for (size_t i = 0; i < rs.size(); ++i)
    out += format_record(i + 1, rs[i]);
  return out;
}

journal_entry first(journal_record r) {
  return {1, std::move(r)};
}

TEST(JournalCrc, HelperMatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32_of("123456789"), 0xcbf43926u);
}

// --- format / parse -------------------------------------------------------

TEST(JournalFormat, LineIsCrcThenSixTabSeparatedFields) {
  const auto line = format_record(1, claim(42, "cpu.max", "max 100000", "/system.slice/a.service"));
  EXPECT_EQ(line, with_crc("1\tclaim\t42\tcpu.max\tmax 100000\t/system.slice/a.service"));
  EXPECT_EQ(format_record(18, release(7, "memory.high", "max", "/")),
            with_crc("18\trelease\t7\tmemory.high\tmax\t/"));
}

TEST(JournalFormat, EscapesTabsNewlinesAndBackslashes) {
  const auto line = format_record(1, claim(1, "k\\n", "a\tb\nc\\d", "/p q\t"));
  EXPECT_EQ(line, record_line("claim\t1\tk\\\\n\ta\\tb\\nc\\\\d\t/p q\\t"));
  // One record is one line, whatever the fields hold.
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), 6);
}

TEST(JournalFormat, RoundTripsAwkwardValues) {
  const std::vector<journal_record> records = {
      claim(1, "cpu.max", "max 100000"),
      claim(2, "memory.high", "max", "/"),
      release(3, "cpu.weight", "100", "/a/b"),
      claim(4, "k", "tab\there", "/with\ttab"),
      claim(5, "k", "line1\nline2\n", "/new\nline"),
      claim(6, "k", "back\\slash \\t not a tab \\n not a newline \\", "/b\\s"),
      claim(7, "io.max", "8:0 rbps=1048576 wbps=max", "/space path/x y"),
      claim(8, "k", "", "/empty-value"),
      claim(9, "k", "\t\n\\\t\n\\", "/"),
      claim(UINT64_MAX, "cgroup.freeze", "0", "/max-id"),
      claim(0, "k\tnob", "v", "/zero-id"),
  };
  uint64_t seq = UINT64_MAX - records.size();
  for (const auto &r : records) {
    const auto line = format_record(++seq, r);
    const auto back = parse_record(line);
    ASSERT_TRUE(back) << line;
    EXPECT_EQ(*back, (journal_entry{seq, r})) << line;
    // The line without its newline (as plan_replay hands it over) parses too.
    const auto bare = parse_record(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(bare) << line;
    EXPECT_EQ(*bare, (journal_entry{seq, r})) << line;
  }
}

TEST(JournalParse, AnyFlippedByteIsRejected) {
  const auto line = format_record(1, claim(123456, "cpu.max", "max 100000", "/a\tb/c\\d"));
  ASSERT_TRUE(parse_record(line));
  for (size_t i = 0; i < line.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = line;
      bad[i] = char(bad[i] ^ (1 << bit));
      // A case flip of a hex letter in the CRC field reads as the same
      // checksum of an intact body; that is not corruption of the record.
      if (i < 8 && bit == 5 && std::isalpha(static_cast<unsigned char>(line[i])))
        continue;
      EXPECT_EQ(parse_record(bad), std::nullopt) << "byte " << i << " bit " << bit << ": " << bad;
    }
  }
}

TEST(JournalParse, EveryReplacedByteIsRejected) {
  const auto line = format_record(1, release(9, "memory.high", "max", "/x"));
  for (size_t i = 0; i + 1 < line.size(); ++i) { // the newline is optional
    for (int v = 0; v < 256; ++v) {
      if (char(v) == line[i])
        continue;
      if (i < 8 && std::tolower(v) == line[i]) // same CRC in upper case
        continue;
      std::string bad = line;
      bad[i] = char(v);
      EXPECT_EQ(parse_record(bad), std::nullopt) << "byte " << i << " value " << v;
    }
  }
}

TEST(JournalParse, TruncatedOrExtendedLinesAreRejected) {
  const auto line = format_record(1, claim(5, "cpu.weight", "100", "/a"));
  for (size_t n = 0; n + 1 < line.size(); ++n)
    EXPECT_EQ(parse_record(line.substr(0, n)), std::nullopt) << n;
  EXPECT_EQ(parse_record(line.substr(0, line.size() - 1) + "x\n"), std::nullopt);
  EXPECT_EQ(parse_record(line + line), std::nullopt); // two records are not one
}

TEST(JournalParse, GarbageAndEmptyLinesAreRejected) {
  for (const std::string &bad :
       {std::string(""), std::string("\n"), std::string("garbage"), std::string("garbage\n"),
        std::string("\t\t\t\t\t"), std::string("00000000"), std::string("00000000\t"),
        std::string("hello\tclaim\t1\tk\tv\t/a"), std::string("zzzzzzzz\tclaim\t1\tk\tv\t/a"),
        std::string(8, '\0') + "\tclaim\t1\tk\tv\t/a",
        // CRC field of the wrong width, though the value would match.
        record_line("claim\t1\tk\tv\t/a").substr(1), "0" + record_line("claim\t1\tk\tv\t/a"),
        // Spaces instead of tabs.
        record_line("claim 1 k v /a")})
    EXPECT_EQ(parse_record(bad), std::nullopt) << bad;
}

TEST(JournalParse, WrongFieldCountIsRejectedEvenWithAValidCrc) {
  for (const char *body :
       {"claim", "claim\t1", "claim\t1\tk", "claim\t1\tk\tv", "claim\t1\tk\tv\t/a\textra",
        "claim\t1\tk\tv\t/a\t", "\tclaim\t1\tk\tv\t/a", ""})
    EXPECT_EQ(parse_record(record_line(body)), std::nullopt) << body;
  // Control: the same helper makes a line that parses.
  EXPECT_EQ(parse_record(record_line("claim\t1\tk\tv\t/a")), first(claim(1, "k", "v", "/a")));
}

TEST(JournalParse, BadOpIsRejectedEvenWithAValidCrc) {
  for (const char *o : {"Claim", "CLAIM", "claims", "releases", "restore", "", " claim", "claim "})
    EXPECT_EQ(parse_record(record_line(std::string(o) + "\t1\tk\tv\t/a")), std::nullopt) << o;
  EXPECT_EQ(parse_record(record_line("release\t1\tk\tv\t/a")), first(release(1, "k", "v", "/a")));
}

TEST(JournalParse, BadOrMissingSequenceNumberIsRejectedEvenWithAValidCrc) {
  for (const char *seq : {"", "x", "-1", "+1", " 1", "0x10", "18446744073709551616"})
    EXPECT_EQ(parse_record(with_crc(std::string(seq) + "\tclaim\t1\tk\tv\t/a")), std::nullopt)
        << seq;
  // Not a bad number: a record of the format before sequence numbers, read
  // as such (RecordsOfTheFormatWithoutSequenceNumbersAreRead).
  EXPECT_EQ(parse_record(with_crc("claim\t1\tk\tv\t/a"))->seq, 0u);
}

TEST(JournalParse, BadIdIsRejectedEvenWithAValidCrc) {
  for (const char *id :
       {"", "x", "-1", "+1", " 1", "1 ", "0x10", "1.5", "18446744073709551616"}) // UINT64_MAX + 1
    EXPECT_EQ(parse_record(record_line(std::string("claim\t") + id + "\tk\tv\t/a")), std::nullopt)
        << id;
}

TEST(JournalParse, EmptyKnobOrBadEscapeIsRejectedEvenWithAValidCrc) {
  EXPECT_EQ(parse_record(record_line("claim\t1\t\tv\t/a")), std::nullopt);
  for (const char *body : {"claim\t1\tk\\x\tv\t/a", "claim\t1\tk\tv\\\t/a", "claim\t1\tk\tv\t/a\\",
                           "claim\t1\tk\t\\r\t/a", "claim\t1\tk\tv\t\\0"})
    EXPECT_EQ(parse_record(record_line(body)), std::nullopt) << body;
  // Empty value and path are records.
  EXPECT_EQ(parse_record(record_line("claim\t1\tk\t\t")), first(claim(1, "k", "", "")));
}

// --- plan_replay ------------------------------------------------------------

TEST(PlanReplay, EmptyJournalHasNothingToRestore) {
  const auto plan = plan_replay("");
  EXPECT_TRUE(plan.restores.empty());
  EXPECT_EQ(plan.bad_lines, 0u);
}

TEST(PlanReplay, OpenClaimsComeBackOldestFirst) {
  const auto plan = plan_replay(lines({
      claim(3, "memory.high", "max", "/c"),
      claim(1, "cpu.weight", "100", "/a"),
      claim(2, "cpu.max", "max 100000", "/b"),
      claim(1, "memory.high", "8G", "/a"),
  }));
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{
                               claim(3, "memory.high", "max", "/c"),
                               claim(1, "cpu.weight", "100", "/a"),
                               claim(2, "cpu.max", "max 100000", "/b"),
                               claim(1, "memory.high", "8G", "/a"),
                           }));
}

TEST(PlanReplay, FirstClaimCarriesTheOriginal) {
  const auto plan = plan_replay(lines({
      claim(1, "memory.high", "max"),
      claim(1, "memory.high", "4G"), // a later claim's value is not the original
      claim(1, "memory.high", "2G"),
  }));
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "memory.high", "max")}));
}

TEST(PlanReplay, ReleaseClosesTheClaim) {
  const auto plan = plan_replay(lines({
      claim(1, "memory.high", "max"),
      claim(1, "cpu.weight", "100"),
      release(1, "memory.high", "max"),
  }));
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "cpu.weight", "100")}));
}

TEST(PlanReplay, ReleaseClosesOnlyTheSameIdAndKnob) {
  const auto plan = plan_replay(lines({
      claim(1, "memory.high", "max", "/a"),
      release(2, "memory.high", "max", "/a"), // other cgroup id, same path
      release(1, "memory.max", "max", "/a"),  // other knob
  }));
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "memory.high", "max", "/a")}));
}

TEST(PlanReplay, ClaimAfterReleaseOpensANewEntryWithTheNewOriginal) {
  const auto plan = plan_replay(lines({
      claim(1, "memory.high", "max"), claim(2, "cpu.weight", "100", "/b"),
      release(1, "memory.high", "max"),
      claim(1, "memory.high", "16G"), // someone set 16G in between
  }));
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(2, "cpu.weight", "100", "/b"),
                                                        claim(1, "memory.high", "16G")}));
}

TEST(PlanReplay, ClaimReleaseCyclesEndClosed) {
  const auto plan = plan_replay(lines({
      claim(1, "k", "a"),
      release(1, "k", "a"),
      claim(1, "k", "b"),
      release(1, "k", "b"),
  }));
  EXPECT_TRUE(plan.restores.empty());
  EXPECT_EQ(plan.bad_lines, 0u);
}

TEST(PlanReplay, TruncatedLastLineIsBadAndIgnored) {
  const auto whole = format_record(1, claim(2, "cpu.weight", "100", "/b"));
  // Even a complete record is not trusted without its newline.
  for (size_t cut : {size_t(1), size_t(20), whole.size() - 1}) {
    const auto text = lines({claim(1, "memory.high", "max")}) + whole.substr(0, cut);
    const auto plan = plan_replay(text);
    EXPECT_EQ(plan.bad_lines, 1u) << cut;
    EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "memory.high", "max")})) << cut;
  }
}

TEST(PlanReplay, TruncatedReleaseLeavesTheClaimOpen) {
  const auto rel = format_record(1, release(1, "memory.high", "max"));
  const auto plan =
      plan_replay(lines({claim(1, "memory.high", "max")}) + rel.substr(0, rel.size() - 1));
  EXPECT_EQ(plan.bad_lines, 1u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "memory.high", "max")}));
}

TEST(PlanReplay, ReleaseBeforeClaimDoesNotCloseIt) {
  const auto plan = plan_replay(lines({
      release(1, "memory.high", "max"),
      claim(1, "memory.high", "max"),
  }));
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "memory.high", "max")}));
}

TEST(PlanReplay, GarbageInTheMiddleIsSkippedAndCounted) {
  auto flipped = format_record(4, release(1, "memory.high", "max"));
  flipped[12] = char(flipped[12] ^ 0x04);
  std::string text = format_record(1, claim(1, "memory.high", "max"));
  text += "garbage\n";
  text += format_record(3, claim(2, "cpu.weight", "100", "/b"));
  text += "\n";    // an empty line
  text += flipped; // a release that must not count
  text += format_record(5, claim(3, "pids.max", "max", "/c"));
  text += format_record(6, release(2, "cpu.weight", "100", "/b"));
  const auto plan = plan_replay(text);
  EXPECT_EQ(plan.bad_lines, 3u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "memory.high", "max"),
                                                        claim(3, "pids.max", "max", "/c")}));
}

// Records out of order (a journal edited, merged or restored from a copy)
// are replayed in the order they were written. Here memory.high was claimed
// at max, released, set to 16G by someone else and claimed again: 16G is the
// original, whatever order the lines are in.
TEST(PlanReplay, ReorderedRecordsAreReplayedInSequenceOrder) {
  const auto claimed = format_record(1, claim(1, "memory.high", "max"));
  const auto released = format_record(2, release(1, "memory.high", "max"));
  const auto again = format_record(3, claim(1, "memory.high", "16G"));
  const auto other = format_record(4, claim(2, "cpu.weight", "100", "/b"));
  const std::vector<std::pair<std::string, size_t>> orders = {
      {claimed + released + again + other, 0},
      {other + again + released + claimed, 3},
      {released + other + claimed + again, 2},
      {again + claimed + other + released, 2},
  };
  for (const auto &[text, out_of_order] : orders) {
    const auto plan = plan_replay(text);
    EXPECT_EQ(plan.bad_lines, 0u) << text;
    EXPECT_EQ(plan.out_of_order, out_of_order) << text;
    EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(1, "memory.high", "16G"),
                                                          claim(2, "cpu.weight", "100", "/b")}))
        << text;
    EXPECT_TRUE(plan.ambiguous.empty());
  }
}

TEST(PlanReplay, ARecordTwiceCountsOnce) {
  const auto claimed = format_record(1, claim(1, "memory.high", "max"));
  const auto released = format_record(2, release(1, "memory.high", "max"));
  const auto plan = plan_replay(claimed + released + claimed + released);
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_TRUE(plan.restores.empty());
  EXPECT_TRUE(plan.ambiguous.empty());
}

// Two different records with one sequence number: which came first is
// unknown, so neither knob's original is trusted; others are restored.
TEST(PlanReplay, ConflictingRecordsWithOneSequenceNumberRestoreNeitherKnob) {
  const auto plan =
      plan_replay(lines({claim(1, "memory.high", "max"), release(1, "memory.high", "max")}) +
                  format_record(2, claim(1, "memory.high", "16G")) +
                  format_record(3, claim(2, "cpu.weight", "100", "/b")));
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(2, "cpu.weight", "100", "/b")}));
  EXPECT_EQ(plan.ambiguous, (std::vector<journal_record>{claim(1, "memory.high", "16G")}));
}

TEST(PlanReplay, OnlyGarbageIsAllBad) {
  const auto plan = plan_replay("a\nb\n\nc\n");
  EXPECT_EQ(plan.bad_lines, 4u);
  EXPECT_TRUE(plan.restores.empty());
}

// --- the journal file -------------------------------------------------------

class JournalFile : public ::testing::Test {
protected:
  journal open_journal(const std::string &path) {
    auto j = journal::open(path);
    EXPECT_TRUE(j) << j.err().message;
    return std::move(j).value();
  }
  static unsigned mode_of(const std::string &path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
    return st.st_mode & 07777;
  }

  test::temp_tree tree_;
};

TEST_F(JournalFile, OpenCreatesTheParentDirectoryAndTheFile) {
  const std::string path = tree_.path("/run/ballast/journal");
  ASSERT_FALSE(fs::exists(tree_.path("/run")));
  journal j = open_journal(path);
  EXPECT_EQ(j.path(), path);
  EXPECT_TRUE(fs::is_directory(tree_.path("/run/ballast")));
  EXPECT_EQ(mode_of(tree_.path("/run/ballast")), 0700u);
  ASSERT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(fs::file_size(path), 0u);
}

TEST_F(JournalFile, OpenInAnExistingDirectoryLeavesItAlone) {
  const std::string path = tree_.path("/journal");
  ASSERT_EQ(::chmod(tree_.root().c_str(), 0755), 0);
  journal j = open_journal(path);
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ(mode_of(tree_.root()), 0755u); // only a directory it creates is made 0700
}

TEST_F(JournalFile, OpenFailsWhenTheParentIsAFile) {
  const std::string path = tree_.path("/file/journal");
  tree_.write("/file", "x");
  const auto j = journal::open(path);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.err().code, ENOTDIR);
  EXPECT_NE(j.err().message.find(path), std::string::npos) << j.err().message;
}

TEST_F(JournalFile, AppendReadAllTruncate) {
  const std::string path = tree_.path("/j/journal");
  journal j = open_journal(path);
  const std::vector<journal_record> records = {
      claim(1, "cpu.max", "max 100000", "/a b"),
      claim(2, "memory.high", "a\tb\nc\\", "/x"),
      release(1, "cpu.max", "max 100000", "/a b"),
  };
  for (const auto &r : records) {
    const auto s = j.append(r);
    ASSERT_TRUE(s) << s.err().message;
  }
  const auto text = j.read_all();
  ASSERT_TRUE(text) << text.err().message;
  EXPECT_EQ(*text, lines(records));
  EXPECT_EQ(tree_.read("/j/journal"), lines(records)); // on disk, not only in this fd
  const auto plan = plan_replay(*text);
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{records[1]}));

  const auto t = j.truncate();
  ASSERT_TRUE(t) << t.err().message;
  EXPECT_EQ(*j.read_all(), "");
  EXPECT_EQ(fs::file_size(path), 0u);

  // Appends after a truncate start at the beginning again (O_APPEND); the
  // sequence goes on, so no record is ever older than one before it.
  ASSERT_TRUE(j.append(records[0]));
  EXPECT_EQ(*j.read_all(), format_record(4, records[0]));
  EXPECT_EQ(tree_.read("/j/journal"), format_record(4, records[0]));
}

TEST_F(JournalFile, ReopenKeepsWhatWasWritten) {
  const std::string path = tree_.path("/journal");
  {
    journal j = open_journal(path);
    ASSERT_TRUE(j.append(claim(1, "memory.high", "max")));
  }
  journal j = open_journal(path);
  ASSERT_TRUE(j.append(claim(2, "cpu.weight", "100")));
  EXPECT_EQ(*j.read_all(), lines({claim(1, "memory.high", "max"), claim(2, "cpu.weight", "100")}));
}

TEST_F(JournalFile, ASecondOpenWhileTheFirstHoldsItIsRefused) {
  const std::string path = tree_.path("/journal");
  journal j = open_journal(path);
  const auto second = journal::open(path);
  ASSERT_FALSE(second);
  EXPECT_NE(second.err().message.find("in use by another agent"), std::string::npos)
      << second.err().message;
}

TEST_F(JournalFile, ReadAllSeesLinesWrittenByOthers) {
  const std::string path = tree_.path("/journal");
  journal j = open_journal(path);
  const std::string big(100'000, 'x'); // more than one read buffer
  tree_.append("/journal", big + "\n");
  const auto text = j.read_all();
  ASSERT_TRUE(text) << text.err().message;
  EXPECT_EQ(*text, big + "\n");
  EXPECT_EQ(plan_replay(*text).bad_lines, 1u);
}

TEST_F(JournalFile, MovedJournalKeepsWorking) {
  const std::string path = tree_.path("/journal");
  journal first = open_journal(path);
  journal second(std::move(first));
  EXPECT_EQ(second.path(), path);
  ASSERT_TRUE(second.append(claim(1, "k", "v")));
  journal third = open_journal(tree_.path("/other"));
  third = std::move(second);
  EXPECT_EQ(third.path(), path);
  ASSERT_TRUE(third.append(claim(2, "k", "v")));
  EXPECT_EQ(*third.read_all(), lines({claim(1, "k", "v"), claim(2, "k", "v")}));
}

// --- format before sequence numbers, torn writes, compaction --------------

// A line as the journal wrote it before sequence numbers: CRC, five fields.
std::string legacy_line(const journal_record &r) {
  auto numbered = format_record(1, r); // "<crc>\t1\t<rest>\n"
  return with_crc(numbered.substr(11, numbered.size() - 12));
}

TEST(JournalParse, RecordsOfTheFormatWithoutSequenceNumbersAreRead) {
  auto r = claim(7, "memory.high", "max", "/svc");
  auto e = parse_record(legacy_line(r));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->record, r);
  EXPECT_EQ(e->seq, 0u);
  // Numbered from 1 in file order: a release after its claim closes it.
  auto plan = plan_replay(legacy_line(claim(1, "k", "orig")) + legacy_line(claim(2, "k", "o2")) +
                          legacy_line(release(1, "k", "orig")));
  EXPECT_EQ(plan.bad_lines, 0u);
  EXPECT_EQ(plan.out_of_order, 0u);
  EXPECT_TRUE(plan.ambiguous.empty());
  EXPECT_EQ(plan.restores, (std::vector<journal_record>{claim(2, "k", "o2")}));
}

TEST_F(JournalFile, AJournalOfTheOldFormatIsReadAndAppendedTo) {
  tree_.write("/journal", legacy_line(claim(1, "cpu.weight", "100")) +
                              legacy_line(claim(2, "cpu.weight", "200")));
  journal j = open_journal(tree_.path("/journal"));
  ASSERT_TRUE(j.append(release(1, "cpu.weight", "100")));
  EXPECT_NE(j.read_all()->find(format_record(3, release(1, "cpu.weight", "100"))),
            std::string::npos)
      << "numbers go on after the old records";
  EXPECT_EQ(plan_replay(*j.read_all()).restores,
            (std::vector<journal_record>{claim(2, "cpu.weight", "200")}));
}

// A replay of text skips bad_lines lines and restores exactly `restores`.
void expect_plan(const std::string &text, size_t bad_lines,
                 const std::vector<journal_record> &restores) {
  auto plan = plan_replay(text);
  EXPECT_EQ(plan.bad_lines, bad_lines) << text;
  EXPECT_EQ(plan.restores, restores) << text;
}

TEST_F(JournalFile, ATornLastLineDoesNotSwallowTheNextRecord) {
  auto whole = format_record(1, claim(1, "cpu.weight", "100"));
  tree_.write("/journal", whole + format_record(2, claim(2, "cpu.max", "max")).substr(0, 20));
  journal j = open_journal(tree_.path("/journal"));
  ASSERT_TRUE(j.append(claim(3, "memory.high", "max")));
  expect_plan(*j.read_all(), 1, {claim(1, "cpu.weight", "100"), claim(3, "memory.high", "max")});
}

TEST_F(JournalFile, AShortWriteIsCutOffSoTheNextRecordStartsALine) {
  journal j = open_journal(tree_.path("/journal"));
  ASSERT_TRUE(j.append(claim(1, "cpu.weight", "100")));
  auto before = *j.read_all();
  // The file may grow by 10 bytes only: the next append writes part of its line.
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{}, small{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  small = old;
  small.rlim_cur = before.size() + 10;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto failed = j.append(claim(2, "memory.high", "max"));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.err().message.find("short write"), std::string::npos) << failed.err().message;
  EXPECT_EQ(*j.read_all(), before) << "the partial line is gone";
  ASSERT_TRUE(j.append(claim(3, "cpu.max", "max")));
  expect_plan(*j.read_all(), 0, {claim(1, "cpu.weight", "100"), claim(3, "cpu.max", "max")});
}

TEST_F(JournalFile, ChurnIsCompactedAwayWhileOpenClaimsStay) {
  journal j = open_journal(tree_.path("/journal"));
  ASSERT_TRUE(j.append(claim(1, "memory.high", "max", "/long-lived")));
  uint64_t largest = 0;
  for (uint64_t id = 2; id < 5000; ++id) {
    ASSERT_TRUE(j.append(claim(id, "memory.high", "max", "/churn/c" + std::to_string(id))));
    ASSERT_TRUE(j.append(release(id, "memory.high", "max", "/churn/c" + std::to_string(id))));
    largest = std::max(largest, j.size());
  }
  EXPECT_LT(largest, 64u * 1024) << "bounded under churn";
  auto text = *j.read_all();
  EXPECT_EQ(j.size(), text.size());
  expect_plan(text, 0, {claim(1, "memory.high", "max", "/long-lived")});
  EXPECT_EQ(tree_.read("/journal"), text) << "the compacted file took the journal's name";
  // Still locked, still appendable.
  EXPECT_FALSE(journal::open(tree_.path("/journal")));
  ASSERT_TRUE(j.append(release(1, "memory.high", "max", "/long-lived")));
  EXPECT_TRUE(plan_replay(*j.read_all()).restores.empty());
}

TEST_F(JournalFile, CompactionKeepsConflictsAndTheOrderOfWhatIsOpen) {
  // Out of order on disk; a conflict on knob k of cgroup 9.
  tree_.write("/journal",
              format_record(5, claim(2, "b", "2")) + format_record(3, claim(1, "a", "1")) +
                  format_record(4, claim(3, "c", "3")) + format_record(6, release(3, "c", "3")) +
                  format_record(7, claim(9, "k", "x")) + format_record(7, claim(9, "k", "y")));
  journal j = open_journal(tree_.path("/journal"));
  auto before = plan_replay(*j.read_all());
  ASSERT_TRUE(j.compact());
  auto text = *j.read_all();
  auto after = plan_replay(text);
  EXPECT_EQ(after.restores, before.restores);
  EXPECT_EQ(after.ambiguous, before.ambiguous);
  EXPECT_EQ(after.ambiguous.size(), 1u);
  EXPECT_EQ(after.out_of_order, 0u);
  EXPECT_EQ(text.find("\t3\tc\t"), std::string::npos) << "a closed knob is dropped";
  EXPECT_EQ(text.substr(9, 2), "1\t") << "renumbered from 1";
}

TEST_F(JournalFile, SequenceNumbersDoNotWrap) {
  auto top = std::numeric_limits<uint64_t>::max() - 1;
  tree_.write("/journal", format_record(top, claim(1, "cpu.weight", "100")));
  journal j = open_journal(tree_.path("/journal"));
  // The next number would be the last one: the journal renumbers first.
  ASSERT_TRUE(j.append(claim(2, "cpu.max", "max")));
  ASSERT_TRUE(j.append(claim(3, "memory.high", "max")));
  auto text = *j.read_all();
  EXPECT_EQ(text.find(std::to_string(top)), std::string::npos) << text;
  auto plan = plan_replay(text);
  EXPECT_EQ(plan.out_of_order, 0u);
  EXPECT_EQ(plan.restores,
            (std::vector<journal_record>{claim(1, "cpu.weight", "100"), claim(2, "cpu.max", "max"),
                                         claim(3, "memory.high", "max")}));
}

} // namespace
} // namespace ballast
