// A system-wide knob on this machine's kernel: a host setting of the config
// (vm.swappiness) is held while ballastd runs, put back when it stops on
// SIGTERM, and put back by the journal at the next start after kill -9.
#include "tests/host/host_fixture.hpp"
#include "tests/support/cgroup_workload.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

namespace ballast::test {

namespace {

constexpr const char *swappiness = "/proc/sys/vm/swappiness";

class HostKnobTest : public AgentHostTest {
protected:
  void SetUp() override {
    AgentHostTest::SetUp();
    if (IsSkipped())
      return;
    original_ = read_trimmed(swappiness);
    held_ = original_ == "10" ? "11" : "10";
  }

  // Whatever happened in the test, the host gets its own value back.
  void TearDown() override {
    AgentHostTest::TearDown();
    if (!original_.empty())
      std::ofstream(swappiness) << original_;
  }

  std::string config_holding_swappiness() {
    auto json = config_json(port_, subtree_, journal_);
    return json.insert(1, R"("host": {"settings": {"vm.swappiness": )" + held_ + "}},");
  }

  std::string now() { return read_trimmed(swappiness); }

  std::string original_, held_;
};

TEST_F(HostKnobTest, AHostSettingIsHeldWhileTheAgentRunsAndPutBackAfterSigterm) {
  auto &agent = start(config_holding_swappiness());
  ASSERT_TRUE(eventually([&] { return now() == held_; })) << agent.log();
  agent.signal(SIGTERM);
  ASSERT_EQ(agent.wait_exit(5s), 0) << agent.log();
  EXPECT_EQ(now(), original_) << agent.log();
}

TEST_F(HostKnobTest, AHostSettingLeftByAKilledAgentIsPutBackAtTheNextStart) {
  auto &agent = start(config_holding_swappiness());
  ASSERT_TRUE(eventually([&] { return now() == held_; })) << agent.log();
  agent.signal(SIGKILL);
  ASSERT_TRUE(agent.wait_exit(5s));
  ASSERT_EQ(now(), held_) << "nothing restores it but the journal";
  auto &next = start(); // a config without the setting
  EXPECT_EQ(now(), original_) << next.log();
  EXPECT_EQ(next.metrics().value("ballast_knob_restores_total", {{"reason", "journal"}}), 1);
}

} // namespace

} // namespace ballast::test
