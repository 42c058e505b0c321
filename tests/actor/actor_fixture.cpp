// ActorTest; see actor_fixture.hpp.
#include "tests/actor/actor_fixture.hpp"

#include "actors/policies/policy.hpp"
#include "sys/procfs.hpp"

#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

namespace ballast::test {

ActorTest::ActorTest(scheduling s) {
  ctx->cgroup_root = tree.root();
  ctx->metrics = metrics;
  ctx->knob_journal =
      std::make_shared<journal>(std::move(*journal::open(state_dir.path("/journal"))));
  sys_cfg = std::make_unique<caf::actor_system_config>();
  sys_cfg->add_message_types<caf::id_block::ballast>();
  if (s == scheduling::threaded) {
    ctx->writer =
        std::make_shared<knob_writer>(2); // as in the agent: memory.* writes off the actor
    sys_cfg->set("scheduler.policy", caf::atom("sharing"));
  } else {
    sys_cfg->set("scheduler.policy", caf::atom("testing"));
  }
  sys_cfg->set("logger.file-verbosity", caf::atom("quiet"));
  sys = std::make_unique<caf::actor_system>(*sys_cfg);
  if (s == scheduling::deterministic)
    sched = &dynamic_cast<caf::scheduler::test_coordinator &>(sys->scheduler());
}

ActorTest::~ActorTest() {
  client_.reset();
  for (auto pid : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (sched) {
    // Policies tick for ever: without their timers the actors run dry, and
    // the system ends without waiting for actors that will never quit. What
    // runs may set new timers (a policy's first tick), which the
    // coordinator's stop would fire for ever: cancelled until none is set.
    do
      sched->clock().cancel_all();
    while (sched->run() > 0);
    sys->await_actors_before_shutdown(false);
  }
}

bool ActorTest::eventually(const std::function<bool()> &pred, std::chrono::milliseconds limit) {
  if (!sched) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (pred())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }
  auto until = now() + limit;
  for (;;) {
    sched->run();
    if (pred())
      return true;
    if (!sched->clock().has_pending_timeout() || now() >= until)
      return false;
    sched->clock().trigger_timeout();
  }
}

double ActorTest::metric(const std::string &name,
                         const std::map<std::string, std::string> &labels) {
  return metric_value(metrics->registry(), name, labels).value_or(-1);
}

caf::actor ActorTest::claimant(const caf::actor &owner, std::string knob, std::string value,
                               int32_t priority) {
  auto replied = std::make_shared<std::atomic<bool>>(false);
  // The claim travels as a spawn argument: CAF 0.17 dereferences a null
  // argument tuple when a function actor is spawned without any (UBSan).
  auto a = sys->spawn(
      [=](caf::event_based_actor *self, claim_request req) -> caf::behavior {
        self->request(owner, std::chrono::seconds(2), std::move(req)).then([=](claim_reply &) {
          *replied = true;
        });
        return {
            [=](const std::string &cmd) {
              if (cmd == "boom")
                throw std::runtime_error("policy bug");
              if (cmd == "quit")
                self->quit();
            },
        };
      },
      claim_request{std::move(knob), std::move(value), priority, "test"});
  EXPECT_TRUE(eventually([&] { return replied->load(); }));
  return a;
}

size_t ActorTest::open_journal_claims() {
  return plan_replay(*ctx->knob_journal->read_all()).restores.size();
}

cgroup_status ActorTest::status_of(const cgroup_actor &cg) {
  auto s = ask<cgroup_status>(cg, atom::status_v);
  if (!s)
    ADD_FAILURE() << "status: " << sys->render(s.error());
  return s ? *s : cgroup_status{};
}

pid_t ActorTest::start_sleeper() {
  pid_t pid = 0;
  char arg0[] = "sleep", arg1[] = "60";
  char *argv[] = {arg0, arg1, nullptr};
  if (posix_spawn(&pid, "/bin/sleep", nullptr, nullptr, argv, environ) != 0)
    throw std::runtime_error("posix_spawn sleep");
  children_.push_back(pid);
  // Wait until the exec is done and sleep is asleep (state S), so that
  // /proc/PID/comm says "sleep" and its pages are in (a process that has
  // not run since its exec has an RSS of 0): the kernel's time, not the
  // actors'.
  for (int i = 0; i < 600; ++i) {
    auto stat = sys::read_small_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat && stat->find("(sleep) S ") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pid;
}

config::policy ActorTest::telemetry_for_sleep(const std::string &name) {
  config::policy p;
  p.name = name;
  p.type = "telemetry";
  p.interval = std::chrono::milliseconds(50);
  p.select.comm = "sleep";
  EXPECT_TRUE(compile_policy(p).empty());
  return p;
}

config::policy ActorTest::group_policy(const std::string &name, const std::string &type,
                                       const std::string &glob, const std::string &params) {
  config::policy p;
  p.name = name;
  p.type = type;
  p.interval = std::chrono::seconds(1);
  p.select.cgroups = {glob};
  p.params = params;
  auto errors = compile_policy(p);
  EXPECT_TRUE(errors.empty()) << errors[0].to_string();
  return p;
}

std::string param_errors(const std::string &type, const std::string &params) {
  config::policy p;
  p.name = "p";
  p.type = type;
  p.select.cgroups = {"/g/*"};
  p.params = params;
  std::string all;
  for (auto &e : compile_policy(p))
    all += e.to_string() + "\n";
  return all;
}

} // namespace ballast::test
