// Tests for the PSI parser: both lines, a missing "full", field order and
// unknown keys, every error case, and this machine's /proc/pressure files.
#include "sys/psi.hpp"

#include "sys/procfs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace ballast::sys {
namespace {

constexpr std::string_view sample = "some avg10=0.12 avg60=0.05 avg300=0.01 total=123456\n"
                                    "full avg10=1.50 avg60=2.25 avg300=3.00 total=987\n";

// Parsing text fails with the message want.
void expect_psi_error(std::string_view text, std::string_view want) {
  const auto psi = parse_psi(text);
  ASSERT_FALSE(psi) << text;
  EXPECT_EQ(psi.err().message, want) << text;
}

TEST(ParsePsi, ReadsSomeAndFull) {
  const auto psi = parse_psi(sample);
  ASSERT_TRUE(psi) << psi.err().message;
  EXPECT_DOUBLE_EQ(psi->some.avg10, 0.12);
  EXPECT_DOUBLE_EQ(psi->some.avg60, 0.05);
  EXPECT_DOUBLE_EQ(psi->some.avg300, 0.01);
  EXPECT_EQ(psi->some.total_us, 123456u);
  ASSERT_TRUE(psi->full.has_value());
  EXPECT_DOUBLE_EQ(psi->full->avg10, 1.5);
  EXPECT_DOUBLE_EQ(psi->full->avg60, 2.25);
  EXPECT_DOUBLE_EQ(psi->full->avg300, 3.0);
  EXPECT_EQ(psi->full->total_us, 987u);
}

TEST(ParsePsi, FullIsOptional) {
  const auto psi = parse_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=5");
  ASSERT_TRUE(psi) << psi.err().message;
  EXPECT_EQ(psi->some.total_us, 5u);
  EXPECT_FALSE(psi->full.has_value());
}

TEST(ParsePsi, FindsFieldsByKeyAndIgnoresUnknownOnes) {
  const auto psi = parse_psi("full total=1 avg300=0.3 avg60=0.2 avg10=0.1\n"
                             "some new=7 total=2 avg300=0.6 avg60=0.5 avg10=0.4\n"
                             "later-kernel-line x=1\n");
  ASSERT_TRUE(psi) << psi.err().message;
  EXPECT_DOUBLE_EQ(psi->some.avg10, 0.4);
  EXPECT_EQ(psi->some.total_us, 2u);
  ASSERT_TRUE(psi->full.has_value());
  EXPECT_DOUBLE_EQ(psi->full->avg300, 0.3);
}

TEST(ParsePsi, MissingSomeIsAnError) {
  expect_psi_error("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "psi: 'some' line missing");
}

TEST(ParsePsi, EmptyOrGarbageTextIsAnError) {
  EXPECT_FALSE(parse_psi(""));
  EXPECT_FALSE(parse_psi("\n\n"));
  EXPECT_FALSE(parse_psi("no such thing\x01\xff"));
}

TEST(ParsePsi, BadNumberNamesTheFieldAndValue) {
  expect_psi_error("some avg10=x avg60=0.05 avg300=0.01 total=1\n",
                   "psi: bad value for avg10: 'x'");
}

TEST(ParsePsi, TrailingJunkInANumberIsAnError) {
  EXPECT_FALSE(parse_psi("some avg10=0.1 avg60=0.05 avg300=0.01 total=12ab\n"));
  EXPECT_FALSE(parse_psi("some avg10=0.1 avg60=0.05 avg300=0.01 total=-1\n"));
  EXPECT_FALSE(parse_psi("some avg10=0.1 avg60= avg300=0.01 total=1\n"));
}

TEST(ParsePsi, AnAverageThatIsNoPercentageIsAnError) {
  // from_chars takes these; a percentage is none of them (found by tests/fuzz/psi).
  expect_psi_error("some avg10=inf avg60=0.05 avg300=0.01 total=1\n",
                   "psi: bad value for avg10: 'inf'");
  expect_psi_error("some avg10=0.1 avg60=nan avg300=0.01 total=1\n",
                   "psi: bad value for avg60: 'nan'");
  expect_psi_error("some avg10=0.1 avg60=0.05 avg300=-0.5 total=1\n",
                   "psi: bad value for avg300: '-0.5'");
  EXPECT_FALSE(parse_psi("some avg10=1e999 avg60=0.05 avg300=0.01 total=1\n"));
}

TEST(ParsePsi, MissingFieldNamesTheLineAndField) {
  expect_psi_error("some avg10=0.12 avg60=0.05 avg300=0.01\n", "psi: 'some' line: total missing");
}

TEST(ParsePsi, KeyMustMatchWhole) {
  // "avg10" must not be satisfied by "avg100=".
  expect_psi_error("some avg100=1 avg60=0.05 avg300=0.01 total=1\n",
                   "psi: 'some' line: avg10 missing");
}

TEST(ParsePsi, MalformedFullLineIsAnError) {
  expect_psi_error("some avg10=0.12 avg60=0.05 avg300=0.01 total=1\n"
                   "full avg10=0.12\n",
                   "psi: 'full' line: avg60 missing");
}

TEST(PsiResource, HasItsFileName) {
  EXPECT_EQ(to_string(psi_resource::cpu), "cpu");
  EXPECT_EQ(to_string(psi_resource::memory), "memory");
  EXPECT_EQ(to_string(psi_resource::io), "io");
}

TEST(ParsePsi, ReadsThisMachinesPressureFiles) {
  for (const psi_resource r : {psi_resource::cpu, psi_resource::memory, psi_resource::io}) {
    const auto text = read_small_file("/proc/pressure/" + std::string(to_string(r)));
    if (!text)
      GTEST_SKIP() << "no PSI on this kernel: " << text.err().message;
    const auto psi = parse_psi(*text);
    ASSERT_TRUE(psi) << to_string(r) << ": " << psi.err().message;
    EXPECT_GE(psi->some.avg10, 0.0);
  }
}

} // namespace
} // namespace ballast::sys
