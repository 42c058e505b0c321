// The host actor on a fixture /proc: the config's host settings held and put
// back, claims of other owners by priority and released with them, the
// restore of an actor killed while holding claims, dry-run, refusals.
#include "actors/host/host_actor.hpp"
#include "tests/actor/actor_fixture.hpp"

namespace ballast::test {

namespace {

constexpr const char *swappiness = "/proc/sys/vm/swappiness";

class HostActorTest : public ActorTest {
protected:
  HostActorTest() { host.write(swappiness, "60\n"); }

  host_actor spawn(std::vector<config::host_setting> settings, bool dry_run = false) {
    cfg.host_settings = std::move(settings);
    cfg.dry_run = dry_run;
    return spawn_host_actor(*sys, cfg, host.root(), {metrics, ctx->knob_journal, ctx->writer});
  }

  // Without the newline the kernel ends it with (and the fixture's original has).
  std::string value() {
    auto v = host.read(swappiness);
    return v.substr(0, v.find('\n'));
  }

  std::vector<claim_info> claims_of(const host_actor &h) {
    std::vector<claim_info> out;
    request(h, atom::status_v)
        .receive([&](std::vector<claim_info> &c) { out = std::move(c); },
                 [&](caf::error &e) { ADD_FAILURE() << "status: " << sys->render(e); });
    return out;
  }

  void stop(const host_actor &h) {
    request(h, atom::stop_v)
        .receive([](atom::done) {},
                 [&](caf::error &e) { ADD_FAILURE() << "stop: " << sys->render(e); });
  }

  temp_tree host; // the fixture /proc and /sys
  config::agent cfg;
};

TEST_F(HostActorTest, ASettingOfTheConfigIsHeldWhileItRunsAndPutBackAtItsStop) {
  auto h = spawn({{"vm.swappiness", "10"}});
  ASSERT_TRUE(eventually([&] { return value() == "10"; }));
  EXPECT_EQ(open_journal_claims(), 1u) << "the original is journalled before the write";
  stop(h);
  EXPECT_EQ(value(), "60");
  EXPECT_EQ(open_journal_claims(), 0u);
  EXPECT_EQ(metric("ballast_knob_restores_total", {{"reason", "shutdown"}}), 1);
}

TEST_F(HostActorTest, AHigherClaimWinsAndGoesWithItsOwnerAndANewConfigReleasesItsOwn) {
  auto h = spawn({{"vm.swappiness", "10"}});
  ASSERT_TRUE(eventually([&] { return value() == "10"; }));
  auto tune = claimant(h, "vm.swappiness", "30", 5);
  EXPECT_EQ(value(), "30");
  EXPECT_EQ(claims_of(h).size(), 2u);
  caf::anon_send(tune, std::string("quit"));
  ASSERT_TRUE(eventually([&] { return value() == "10"; })) << "back to the config's claim";
  caf::anon_send(h, atom::reload_v, config::agent{});
  ASSERT_TRUE(eventually([&] { return value() == "60"; })) << "the setting left the config";
  EXPECT_TRUE(claims_of(h).empty());
  EXPECT_EQ(open_journal_claims(), 0u);
}

TEST_F(HostActorTest, AHostActorKilledWhileHoldingClaimsPutsThemBack) {
  auto h = spawn({{"vm.swappiness", "10"}});
  ASSERT_TRUE(eventually([&] { return value() == "10"; }));
  caf::anon_send_exit(h, caf::exit_reason::kill);
  ASSERT_TRUE(eventually([&] { return value() == "60"; }));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_knob_restores_total", {{"reason", "actor_failed"}}) == 1;
  }));
  EXPECT_EQ(open_journal_claims(), 0u);
}

TEST_F(HostActorTest, InDryRunNothingIsWrittenUntilItIsTurnedOff) {
  auto h = spawn({{"vm.swappiness", "10"}}, true);
  EXPECT_EQ(claims_of(h).size(), 1u) << "claimed, logged, counted";
  EXPECT_EQ(value(), "60");
  EXPECT_EQ(metric("ballast_knob_writes_total", {{"mode", "dry_run"}, {"result", "ok"}}), 1);
  EXPECT_EQ(open_journal_claims(), 0u);
  cfg.dry_run = false;
  caf::anon_send(h, atom::reload_v, cfg);
  ASSERT_TRUE(eventually([&] { return value() == "10"; }));
  EXPECT_EQ(open_journal_claims(), 1u);
  stop(h);
  EXPECT_EQ(value(), "60");
}

TEST_F(HostActorTest, ACgroupKnobOrABadValueIsRefusedAndNothingIsWritten) {
  auto h = spawn({});
  for (auto req : {claim_request{"memory.high", "max", 0, "test"},
                   claim_request{"vm.swappiness", "900", 0, "test"}}) {
    request(h, req).receive(
        [&](claim_reply &) { ADD_FAILURE() << req.knob << "=" << req.value << " was accepted"; },
        [&](caf::error &e) {
          EXPECT_EQ(e.code(), uint8_t(caf::sec::invalid_argument)) << sys->render(e);
        });
  }
  EXPECT_EQ(value(), "60");
  EXPECT_EQ(open_journal_claims(), 0u);
}

} // namespace
} // namespace ballast::test
