// ballastd's command line as an operator uses it: --version, --help,
// --list-policies, --check-config on good and bad files, bad options.
#include "tests/support/agent_process.hpp"
#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sys/wait.h>

namespace ballast::test {

namespace {

command_result run(const std::string &args) {
  return run_command(ballastd_path() + " " + args);
}

TEST(Cli, VersionAndHelp) {
  auto v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.output.rfind("ballastd ", 0), 0u) << v.output;
  EXPECT_NE(v.output.find("CAF 0.17"), std::string::npos) << v.output;
  auto h = run("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.output.find("--check-config FILE"), std::string::npos);
}

TEST(Cli, ListPoliciesPrintsTheTable) {
  auto r = run("--list-policies");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("telemetry"), std::string::npos) << r.output;
}

TEST(Cli, CheckConfigAcceptsTheDefaultAndTheExamples) {
  temp_tree dir;
  dir.write("/default.json", run("--print-default").output);
  auto r = run("--check-config " + dir.path("/default.json"));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find(": ok"), std::string::npos);
  int examples = 0;
  for (auto &example : std::filesystem::directory_iterator(BALLAST_SOURCE_DIR "/config/examples")) {
    auto e = run("--check-config " + example.path().string());
    EXPECT_EQ(e.code, 0) << example.path() << ": " << e.output;
    ++examples;
  }
  EXPECT_GE(examples, 6);
}

TEST(Cli, CheckConfigPrintsEveryErrorAndFails) {
  temp_tree dir;
  dir.write("/bad.json", R"({"dry_run": "yes", "policies": [{"name": "t", "type": "nope"}]})");
  auto r = run("--check-config " + dir.path("/bad.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("dry_run: must be a boolean"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("policies[0].type: unknown policy type"), std::string::npos) << r.output;
}

TEST(Cli, AnUnknownOptionIsAUsageError) {
  auto r = run("--frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown option --frobnicate"), std::string::npos) << r.output;
}

TEST(Cli, AnAgentWithABadConfigFileRefusesToStart) {
  temp_tree dir;
  dir.write("/bad.json", "{not json");
  auto r = run("--config " + dir.path("/bad.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("invalid JSON"), std::string::npos) << r.output;
}

} // namespace

} // namespace ballast::test
