// io_limit on a fixture cgroup root: the test plays the kernel by growing
// /batch's io.stat and /web's IO stall each (simulated) second, and reads the
// io.max (or io.weight) line the policy makes the cgroup actor write, and put
// back. A fixture file holds the last line written, where the kernel would
// merge it into its per-device lines.
#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/policies/policy.hpp"
#include "tests/actor/actor_fixture.hpp"

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

config::policy io_policy(const std::string &params) {
  config::policy p;
  p.name = "io";
  p.type = "io_limit";
  p.interval = 1s;
  p.select.cgroups = {"/batch"};
  p.params = params;
  return p;
}

class IoLimitTest : public ActorTest {
protected:
  void start(const std::string &params) {
    tree.make_cgroup("/batch");
    tree.make_cgroup("/web");
    tree.write("/batch/io.max", "");
    tree.write("/batch/io.weight", "default 100\n");
    second(0);
    auto p = io_policy(params);
    auto errors = compile_policy(p);
    ASSERT_TRUE(errors.empty()) << errors[0].to_string();
    cg = spawn_cgroup_actor(*sys, {"/batch", tree.inode("/batch"), {p}, false}, ctx);
    pass(1s); // the first step reads the counters it starts from
  }

  // One more second: /batch read 100 MB in 1,000 IOs from 8:0 and /web
  // stalled on IO for `web_stall_us`.
  void second(uint64_t web_stall_us) {
    rbytes += 100'000'000;
    rios += 1000;
    web_us += web_stall_us;
    tree.write("/batch/io.stat", "8:0 rbytes=" + std::to_string(rbytes) + " wbytes=0 rios=" +
                                     std::to_string(rios) + " wios=0 dbytes=0 dios=0\n");
    tree.write("/web/io.pressure",
               "some avg10=0.00 avg60=0.00 avg300=0.00 total=" + std::to_string(web_us) +
                   "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    if (cg)
      pass(1s);
  }

  std::string file(const std::string &name) {
    auto v = tree.read("/batch/" + name);
    while (!v.empty() && v.back() == '\n')
      v.pop_back();
    return v;
  }

  ~IoLimitTest() override { stop_if_running(cg); }

  cgroup_actor cg;
  uint64_t rbytes = 0, rios = 0, web_us = 0;
};

TEST_F(IoLimitTest, CutsTheDevicesItUsedWhileTheOthersStallAndLiftsTheLimitWhenCalm) {
  start(R"({"protect": ["/web"], "threshold": 20, "release": 5, "calm": 2, "min_share": 0.2})");
  second(400'000); // /web stalled on IO 40% of the second: half of what /batch did
  EXPECT_EQ(file("io.max"), "8:0 rbps=50000000 wbps=max riops=500 wiops=max");
  second(400'000);
  EXPECT_EQ(file("io.max"), "8:0 rbps=25000000 wbps=max riops=250 wiops=max")
      << "a share of the rates before the first cut, not of the cut ones";
  second(400'000);
  EXPECT_EQ(file("io.max"), "8:0 rbps=20000000 wbps=max riops=200 wiops=max") << "min_share";
  EXPECT_EQ(metric("ballast_policy_io_share", {{"policy", "io"}, {"cgroup", "/batch"}}), 0.2);
  second(100'000); // in the band: held
  second(0);
  EXPECT_EQ(file("io.max"), "8:0 rbps=20000000 wbps=max riops=200 wiops=max");
  second(0);
  EXPECT_EQ(file("io.max"), "8:0 rbps=40000000 wbps=max riops=400 wiops=max");
  second(0);
  second(0);
  second(0);
  EXPECT_EQ(file("io.max"), "8:0 rbps=max wbps=max riops=max wiops=max")
      << "whole again: the device's line as it was (none)";
  EXPECT_EQ(metric("ballast_policy_io_share", {{"policy", "io"}, {"cgroup", "/batch"}}), 1);
  EXPECT_EQ(metric("ballast_policy_decisions_total", {{"policy", "io"}, {"action", "lift"}}), 1);
}

TEST_F(IoLimitTest, WeightModeHalvesTheDefaultWeight) {
  start(R"({"protect": ["/web"], "mode": "weight", "calm": 1})");
  second(500'000);
  EXPECT_EQ(file("io.weight"), "default 50");
  second(500'000);
  EXPECT_EQ(file("io.weight"), "default 25");
  request(cg, atom::stop_v)
      .receive([](atom::done) {}, [](caf::error &e) { FAIL() << to_string(e); });
  EXPECT_EQ(file("io.weight"), "default 100");
}

TEST_F(IoLimitTest, TheLimitIsPutBackWhenTheCgroupActorStops) {
  start(R"({"protect": ["/web"], "devices": ["8:0"]})");
  second(900'000);
  EXPECT_EQ(file("io.max"), "8:0 rbps=50000000 wbps=max riops=500 wiops=max");
  request(cg, atom::stop_v)
      .receive([](atom::done) {}, [](caf::error &e) { FAIL() << to_string(e); });
  EXPECT_EQ(file("io.max"), "8:0 rbps=max wbps=max riops=max wiops=max");
  EXPECT_EQ(open_journal_claims(), 0u);
}

TEST_F(IoLimitTest, ADeviceItMayNotLimitIsLeftAlone) {
  start(R"({"protect": ["/web"], "devices": ["8:16"]})");
  second(900'000);
  second(900'000);
  EXPECT_EQ(file("io.max"), "") << "/batch did IO on 8:0 only";
  EXPECT_EQ(metric("ballast_policy_refusals_total", {{"policy", "io"}, {"reason", "no_io"}}), 2);
}

TEST(IoLimitParams, ErrorsNameTheField) {
  auto errors = [](const std::string &params) { return param_errors("io_limit", params); };
  EXPECT_NE(errors("{}").find("params.protect"), std::string::npos) << errors("{}");
  EXPECT_NE(errors(R"({"protect": ["/web"], "devices": ["sda"]})").find("params.devices"),
            std::string::npos);
  EXPECT_NE(errors(R"({"protect": ["/web"], "mode": "both"})").find("params.mode"),
            std::string::npos);
  EXPECT_NE(errors(R"({"protect": ["/web"], "release": 30})").find("params.release"),
            std::string::npos);
  EXPECT_EQ(errors(R"({"protect": ["/web"], "devices": ["8:0", "253:1"]})"), "");
}

} // namespace
} // namespace ballast::test
