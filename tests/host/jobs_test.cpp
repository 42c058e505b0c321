// Jobs as operators run them: ballastctl run against a running ballastd on
// this machine's kernel (cgroup2 core files only: no memory or cpu
// controller here, so limits are refused and the VM tests set them). The
// job's process starts inside its cgroup, its exit code, signal and output
// come back through wait and logs, bad requests are refused before anything
// exists, and jobs outlive a kill -9 of the agent.
#include "tests/host/host_fixture.hpp"

#include "sys/procfs.hpp"
#include "sys/spawn.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <sys/wait.h>

namespace ballast::test {

namespace {

using json = nlohmann::json;

class JobsTest : public AgentHostTest {
protected:
  void SetUp() override {
    AgentHostTest::SetUp();
    jobs_root_ = subtree_ + "/jobs";
    jobs_dir_ = "/tmp" + subtree_ + "-jobs";
  }

  void TearDown() override {
    agent_.reset();
    std::error_code ec;
    auto top = root_ + jobs_root_;
    for (auto &job : std::filesystem::directory_iterator(top, ec)) {
      if (!job.is_directory())
        continue;
      std::ofstream(job.path() / "cgroup.kill") << "1";
      remove_cgroup_dir(job.path().string());
    }
    if (!root_.empty())
      remove_cgroup_dir(top);
    std::filesystem::remove_all(jobs_dir_, ec);
    AgentHostTest::TearDown();
  }

  agent_process &start_agent() {
    return start(R"({"metrics": {"listen": "127.0.0.1:)" + std::to_string(port_) +
                 R"("}, "journal": ")" + journal_ + R"(", "watch": {"include": [")" + subtree_ +
                 R"(/**"]}, "jobs": {"root": ")" + jobs_root_ + R"(", "dir": ")" + jobs_dir_ +
                 R"(", "log_max": "64K"}})");
  }

  json inspect(const std::string &id) {
    auto r = ctl("-o json inspect " + id);
    EXPECT_EQ(r.code, 0) << r.output;
    return json::parse(r.output, nullptr, false);
  }

  std::string cgroup_of(const std::string &id) { return root_ + jobs_root_ + "/" + id; }

  std::string jobs_root_, jobs_dir_;
};

TEST_F(JobsTest, AJobRunsInItsCgroupAndItsExitAndOutputComeBack) {
  start_agent();
  auto r = ctl("run --id j1 -- /bin/sh -c 'cat /proc/self/cgroup; echo to-stderr >&2; exit 3'");
  ASSERT_EQ(r.code, 0) << r.output << agent_->log();
  EXPECT_NE(r.output.find("job j1 started in " + jobs_root_ + "/j1"), std::string::npos);

  auto w = ctl("wait j1");
  EXPECT_EQ(w.code, 3) << w.output; // wait exits with the job's code
  auto logs = ctl("logs j1").output;
  // The shell ran inside the job's cgroup from its first instruction.
  EXPECT_NE(logs.find("0::" + jobs_root_ + "/j1"), std::string::npos) << logs;
  EXPECT_NE(logs.find("to-stderr"), std::string::npos) << logs;

  auto i = inspect("j1");
  EXPECT_EQ(i["state"], "exited");
  EXPECT_EQ(i["exit_code"], 3);
  EXPECT_EQ(i["into_cgroup"], true) << "clone3(CLONE_INTO_CGROUP) is there on 6.x";
  EXPECT_GT(i["pid"].get<int>(), 0);
  EXPECT_EQ(i["uid"], 0);
  EXPECT_EQ(json::parse(ctl("-o json jobs").output, nullptr, false).size(), 1u);
  auto m = agent_->metrics();
  EXPECT_EQ(m.value("ballast_jobs", {{"state", "exited"}}), 1);
  EXPECT_EQ(m.value("ballast_jobs", {{"state", "running"}}), 0);
  EXPECT_EQ(m.value("ballast_job_starts_total"), 1);
  EXPECT_GE(m.value("ballast_job_cpu_seconds_total", {{"job", "j1"}}), 0);

  EXPECT_EQ(ctl("remove j1").code, 0);
  m = agent_->metrics();
  EXPECT_EQ(m.value("ballast_jobs", {{"state", "exited"}}), 0);
  EXPECT_EQ(m.value("ballast_job_cpu_seconds_total", {{"job", "j1"}}), -1) << "series left";
  EXPECT_EQ(m.value("ballast_job_actions_total", {{"action", "remove"}, {"by", "operator"}}), 1);
  EXPECT_FALSE(std::filesystem::exists(cgroup_of("j1")));
  EXPECT_FALSE(std::filesystem::exists(jobs_dir_ + "/j1"));
  EXPECT_NE(ctl("inspect j1").output.find("no job j1"), std::string::npos);
}

TEST_F(JobsTest, WatchStreamsJobEventsAsData) {
  start_agent();
  auto out = jobs_dir_ + "-watch.json";
  run_command("(timeout 5 " + ctl_line("-o json watch") + " >" + out + " 2>&1 &)");
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(out); }));
  std::this_thread::sleep_for(300ms); // the watch request on its way
  ASSERT_EQ(ctl("run --id w -- /bin/sh -c 'exit 4'").code, 0);
  EXPECT_EQ(ctl("wait w").code, 4);
  EXPECT_EQ(ctl("run --id 'w w' -- /bin/true").code, 1);
  std::map<std::string, json> seen;
  ASSERT_TRUE(eventually([&] {
    std::ifstream in(out);
    for (std::string line; std::getline(in, line);)
      if (auto j = json::parse(line, nullptr, false); j.is_object())
        seen[j["kind"]] = j;
    return seen.count("job.start") && seen.count("job.exit") && seen.count("job.refused");
  })) << read_trimmed(out);
  EXPECT_EQ(seen["job.start"]["schema"], 1);
  EXPECT_EQ(seen["job.start"]["job"], "w");
  EXPECT_EQ(seen["job.start"]["cgroup"], jobs_root_ + "/w");
  EXPECT_EQ(seen["job.exit"]["state"], "exited");
  EXPECT_EQ(seen["job.exit"]["exit_code"], "4");
  EXPECT_EQ(seen["job.refused"]["reason"], "request");
  std::filesystem::remove(out);
}

TEST_F(JobsTest, EveryJobChangeIsRefusedToAUserWithoutTheCookie) {
  start_agent();
  ASSERT_EQ(
      ctl("run --id mine -- /bin/sh -c 'echo marker-in-the-log; while :; do sleep 0.05; done'")
          .code,
      0);
  for (auto command : {"kill mine --signal 9", "freeze mine", "thaw mine", "remove mine",
                       "logs mine", "run --id theirs -- /bin/true"}) {
    auto r = ctl_as("nobody", command);
    EXPECT_EQ(r.code, 1) << command << ": " << r.output;
    EXPECT_NE(r.output.find("not authorized"), std::string::npos) << command << ": " << r.output;
    EXPECT_EQ(r.output.find("marker-in-the-log"), std::string::npos) << command;
  }
  // Reads are open, as for cgroups; nothing changed.
  auto i = ctl_as("nobody", "-o json inspect mine");
  EXPECT_EQ(i.code, 0) << i.output;
  EXPECT_EQ(inspect("mine")["state"], "running");
  EXPECT_EQ(inspect("mine")["frozen"], false);
  EXPECT_FALSE(std::filesystem::exists(cgroup_of("theirs")));
  EXPECT_EQ(ctl("kill mine --signal 9").code, 0);
  EXPECT_EQ(ctl("wait mine").code, 128 + SIGKILL);
}

// The host's memory "some" stall total, in µs, from /proc/pressure/memory.
uint64_t memory_stall_us() {
  std::ifstream f("/proc/pressure/memory");
  std::string line;
  std::getline(f, line);
  auto at = line.find("total=");
  return at == std::string::npos ? 0 : std::stoull(line.substr(at + 6));
}

TEST_F(JobsTest, StatsShowTheHostPressureToEveryone) {
  if (!std::filesystem::exists("/proc/pressure/memory"))
    GTEST_SKIP() << "no PSI on this kernel (/proc/pressure/memory)";
  start_agent();
  auto before = memory_stall_us();
  auto r = ctl_as("nobody", "-o json stats");
  auto after = memory_stall_us();
  ASSERT_EQ(r.code, 0) << r.output;
  auto j = json::parse(r.output, nullptr, false);
  ASSERT_TRUE(j.contains("memory.some")) << r.output;
  EXPECT_GE(j["memory.some"]["total_us"].get<uint64_t>(), before);
  EXPECT_LE(j["memory.some"]["total_us"].get<uint64_t>(), after);
  for (auto key : {"cpu.some", "io.some", "io.full", "memory.full"})
    EXPECT_TRUE(j.contains(key)) << key << ": " << r.output;
  EXPECT_NE(ctl("stats").output.find("memory.some"), std::string::npos);
}

TEST_F(JobsTest, AnOperatorsFreezeIsTheOperatorsAndASigkillThawsIt) {
  start_agent();
  ASSERT_EQ(ctl("run --id f -- /bin/sh -c 'while :; do sleep 0.05; done'").code, 0);
  ASSERT_EQ(ctl("freeze f").code, 0);
  EXPECT_EQ(inspect("f")["frozen_by"], "operator");
  EXPECT_NE(ctl("inspect f").output.find("running (frozen)"), std::string::npos);
  // A SIGKILL to a frozen job thaws it, so that its shim sees the end.
  EXPECT_EQ(ctl("kill f --signal 9").code, 0);
  EXPECT_EQ(ctl("wait f").code, 128 + SIGKILL);
  EXPECT_EQ(inspect("f")["frozen_by"], "");
  EXPECT_EQ(ctl("remove f").code, 0);
}

TEST_F(JobsTest, KillSignalsTheJobAndWaitSaysSo) {
  start_agent();
  ASSERT_EQ(ctl("run --id k -- /bin/sh -c 'while :; do sleep 0.05; done'").code, 0);
  auto running = ctl("remove k");
  EXPECT_EQ(running.code, 1);
  EXPECT_NE(running.output.find("is running: kill it first"), std::string::npos);
  EXPECT_EQ(ctl("kill k --signal 9").code, 0);
  EXPECT_EQ(ctl("wait k").code, 128 + SIGKILL);
  auto i = inspect("k");
  EXPECT_EQ(i["state"], "killed");
  EXPECT_EQ(i["signal"], SIGKILL);
}

TEST_F(JobsTest, BadRequestsAreRefusedBeforeAnythingExists) {
  start_agent();
  auto bad = ctl("run --id 'no spaces' --priority 101 --cpu-weight 0 --pids-max lots -- /bin/true");
  EXPECT_EQ(bad.code, 1);
  for (auto expected : {"--id: 'no spaces'", "--priority: 101", "--cpu-weight: cpu.weight: '0'",
                        "--pids-max: pids.max: 'lots'"})
    EXPECT_NE(bad.output.find(expected), std::string::npos) << expected << "\n" << bad.output;
  auto missing = ctl("run --id m --require-path /no/such/file -- /bin/true");
  EXPECT_NE(missing.output.find("--require-path: /no/such/file"), std::string::npos);
  // No memory controller in this host's cgroup2: the option is named.
  auto limit = ctl("run --id l --memory-max 64M -- /bin/true");
  if (read_trimmed(root_ + "/cgroup.controllers").find("memory") == std::string::npos) {
    EXPECT_EQ(limit.code, 1);
    EXPECT_NE(limit.output.find("--memory-max: the memory controller is not in this host's"),
              std::string::npos)
        << limit.output;
  }
  // Without the cookie nobody may run anything.
  auto stranger = ctl_as("nobody", "run --id s -- /bin/true");
  EXPECT_EQ(stranger.code, 1);
  EXPECT_NE(stranger.output.find("not authorized"), std::string::npos) << stranger.output;
  for (auto id : {"m", "l", "s"}) {
    EXPECT_FALSE(std::filesystem::exists(cgroup_of(id))) << id;
    EXPECT_FALSE(std::filesystem::exists(jobs_dir_ + "/" + id)) << id;
  }
  ASSERT_EQ(ctl("run --id dup -- /bin/true").code, 0);
  auto dup = ctl("run --id dup -- /bin/true");
  EXPECT_NE(dup.output.find("--id: dup is in use"), std::string::npos) << dup.output;
  EXPECT_EQ(agent_->metrics().value("ballast_job_refusals_total", {{"reason", "request"}}), 4);
}

TEST_F(JobsTest, AJobRunsAsTheClientItProvesToBeOrAsTheUserRootNames) {
  start_agent();
  // nobody, with a copy of the cookie it may read: the job runs as nobody.
  auto cookie = jobs_dir_ + "-cookie";
  std::filesystem::copy_file(agent_->cookie_path(), cookie);
  ::chmod(cookie.c_str(), 0644);
  auto as_nobody = ctl_as("nobody", "--cookie " + cookie + " run --id n -- /usr/bin/id -u");
  EXPECT_EQ(as_nobody.code, 0) << as_nobody.output;
  auto other = ctl_as("nobody", "--cookie " + cookie + " run --id r --user root -- /bin/true");
  EXPECT_NE(other.output.find("--user: only root may run a job as another user"), std::string::npos)
      << other.output;
  ::unlink(cookie.c_str());
  EXPECT_EQ(ctl("run --id u --user nobody -- /usr/bin/id -u").code, 0);
  for (auto id : {"n", "u"}) {
    EXPECT_EQ(ctl("wait " + std::string(id)).code, 0);
    EXPECT_EQ(ctl("logs " + std::string(id)).output, "65534\n") << id;
    EXPECT_EQ(inspect(id)["uid"], 65534) << id;
  }
}

TEST_F(JobsTest, JobsOutliveAKilledAgentAndAreTakenBack) {
  start_agent();
  ASSERT_EQ(ctl("run --id long -- /bin/sh -c 'echo started; while :; do sleep 0.05; done'").code,
            0);
  ASSERT_EQ(ctl("freeze long").code, 0);
  ASSERT_TRUE(eventually([&] { return inspect("long")["frozen"] == true; }));
  int pid = inspect("long")["pid"];

  agent_->signal(SIGKILL);
  agent_->wait_exit(5s);
  EXPECT_EQ(::kill(pid, 0), 0) << "the job died with the agent";
  start_agent();
  // The restarted agent put back what the dead one changed: the freeze.
  EXPECT_TRUE(eventually([&] { return read_trimmed(cgroup_of("long") + "/cgroup.freeze") == "0"; }))
      << agent_->log();
  auto i = inspect("long");
  EXPECT_EQ(i["state"], "running") << agent_->log();
  EXPECT_EQ(i["pid"], pid);
  EXPECT_EQ(ctl("kill long").code, 0);
  EXPECT_EQ(ctl("wait long").code, 128 + SIGTERM);
  EXPECT_EQ(ctl("logs long").output, "started\n");
}

// sys::spawn_in_cgroup on its own: the child is in the cgroup from its
// start, and a program that cannot run is an error that says why.
TEST(Spawn, IntoACgroupOrAnErrorSayingWhy) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "creating a cgroup needs root";
  auto rel = "/ballast-spawn-" + std::to_string(::getpid());
  auto dir = cgroup2_root() + rel;
  make_cgroup_dir(dir);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto missing = sys::spawn_in_cgroup({{"/no/such/program"}, {}, fd, {}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().message, "exec /no/such/program: No such file or directory");
  auto sleeper = sys::spawn_in_cgroup({{"/bin/sleep", "5"}, {}, fd, {}});
  ::close(fd);
  ASSERT_TRUE(sleeper) << sleeper.err().message;
  EXPECT_TRUE(sleeper->into_cgroup);
  auto in =
      sys::parse_proc_cgroup_v2(read_trimmed("/proc/" + std::to_string(sleeper->pid) + "/cgroup"));
  ASSERT_TRUE(in);
  EXPECT_EQ(*in, rel);
  ::kill(sleeper->pid, SIGKILL);
  siginfo_t info{};
  EXPECT_EQ(::waitid(P_PIDFD, static_cast<id_t>(sleeper->pidfd), &info, WEXITED), 0);
  EXPECT_EQ(info.si_status, SIGKILL);
  ::close(sleeper->pidfd);
  remove_cgroup_dir(dir);
}

} // namespace

} // namespace ballast::test
