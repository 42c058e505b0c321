// ballast-job-shim as the agent uses it: run it on a command in a fresh job
// directory and check what it leaves there (status, main.pid, log, log.1)
// and its own exit code. Needs only the shim binary (BALLAST_JOB_SHIM).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace ballast::test {

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class JobShim : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ballast-shim-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string path(const std::string &name) const { return dir + "/" + name; }
  std::string read(const std::string &name) const {
    std::ifstream in(path(name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool exists(const std::string &name) const { return fs::exists(path(name)); }

  // The shim on `argv` with this dir and `opts`; returns its pid.
  pid_t start(const std::vector<std::string> &argv, std::vector<std::string> opts = {},
              const std::string &log_max = "65536") {
    std::vector<std::string> args = {BALLAST_JOB_SHIM, "--dir", dir, "--log-max", log_max};
    args.insert(args.end(), opts.begin(), opts.end());
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
    std::vector<char *> cargs;
    for (auto &a : args)
      cargs.push_back(a.data());
    cargs.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      execv(cargs[0], cargs.data());
      _exit(99);
    }
    return pid;
  }

  // The shim's exit code (128+N if killed by signal N); after `timeout` it
  // is killed and the test fails.
  int wait_exit(pid_t pid, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    while (waitpid(pid, &st, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        ADD_FAILURE() << "shim still running after " << timeout.count() << " ms";
        return -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
  }

  int run(const std::string &script, std::vector<std::string> opts = {},
          const std::string &log_max = "65536") {
    return wait_exit(start({"/bin/sh", "-c", script}, std::move(opts), log_max));
  }

  bool wait_for_file(const std::string &name) {
    for (int i = 0; i < 500 && !exists(name); ++i)
      std::this_thread::sleep_for(10ms);
    return exists(name);
  }

  std::string dir;
};

bool has(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST_F(JobShim, ExitCodeIsRecorded) {
  EXPECT_EQ(run("exit 3"), 3);
  std::string status = read("status");
  EXPECT_EQ(status.rfind("{\"exit\":3,\"ended_unix_ms\":", 0), 0u) << status;
  EXPECT_EQ(status.back(), '\n');
  EXPECT_FALSE(has(status, "error")) << status;
  EXPECT_FALSE(exists(".status.tmp"));
}

TEST_F(JobShim, KillBySignalIsRecorded) {
  EXPECT_EQ(run("kill -9 $$"), 137);
  std::string status = read("status");
  EXPECT_TRUE(has(status, "\"signal\":9,\"core\":false,")) << status;
}

TEST_F(JobShim, MainPidNamesTheMainProcess) {
  EXPECT_EQ(run("echo $$ > " + path("self")), 0);
  std::string pid = read("main.pid");
  ASSERT_FALSE(pid.empty());
  EXPECT_EQ(pid, read("self"));
  EXPECT_GT(std::stol(pid), 1);
}

TEST_F(JobShim, StdoutAndStderrGoToTheLog) {
  EXPECT_EQ(run("echo to-out; echo to-err >&2; pwd", {"--cwd", "/"}), 0);
  EXPECT_EQ(read("log"), "to-out\nto-err\n/\n");
}

TEST_F(JobShim, LogRotatesAtLogMax) {
  EXPECT_EQ(run("head -c 40000 /dev/zero | tr '\\0' x", {}, "4096"), 0);
  std::string log = read("log"), old = read("log.1");
  EXPECT_LE(log.size(), 4096u);
  EXPECT_EQ(old.size(), 4096u);
  EXPECT_EQ(old, std::string(4096, 'x'));
}

TEST_F(JobShim, LogMaxZeroKeepsNoLog) {
  EXPECT_EQ(run("echo discarded", {}, "0"), 0);
  EXPECT_FALSE(exists("log"));
  EXPECT_TRUE(exists("status"));
}

TEST_F(JobShim, SigtermReachesMain) {
  pid_t shim =
      start({"/bin/sh", "-c",
             "trap 'exit 42' TERM; touch " + path("ready") + "; while :; do sleep 0.05; done"});
  ASSERT_TRUE(wait_for_file("ready"));
  kill(shim, SIGTERM);
  EXPECT_EQ(wait_exit(shim), 42);
  EXPECT_TRUE(has(read("status"), "\"exit\":42,")) << read("status");
}

TEST_F(JobShim, ServiceStartsFirstAndIsStoppedAfterMain) {
  std::string service = "trap 'touch " + path("svc.stopped") + "; exit 0' TERM; touch " +
                        path("svc.started") + "; while :; do sleep 0.05; done";
  // main waits for the service marker, so it only ends once the trap is set
  std::string main = "while [ ! -f " + path("svc.started") + " ]; do sleep 0.01; done; exit 5";
  EXPECT_EQ(run(main, {"--service", service}), 5);
  EXPECT_TRUE(exists("svc.started"));
  EXPECT_TRUE(exists("svc.stopped"));
  EXPECT_TRUE(has(read("status"), "\"exit\":5,"));
}

TEST_F(JobShim, ServiceIgnoringTermIsKilledAfterGrace) {
  std::string service =
      "trap '' TERM; touch " + path("svc.started") + "; while :; do sleep 0.05; done";
  std::string main = "while [ ! -f " + path("svc.started") + " ]; do sleep 0.01; done";
  auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(run(main, {"--service", service, "--service-grace-ms", "200"}), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  EXPECT_TRUE(has(read("status"), "\"exit\":0,"));
}

TEST_F(JobShim, ExecFailureIsReported) {
  EXPECT_EQ(wait_exit(start({"/no/such/cmd"})), 127);
  std::string status = read("status");
  EXPECT_TRUE(has(status, "\"exit\":127,")) << status;
  EXPECT_TRUE(has(status, "\"error\":\"exec /no/such/cmd: No such file or directory\"")) << status;
}

TEST_F(JobShim, DropsToUidAndGid) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root to switch to uid/gid 65534";
  EXPECT_EQ(run("id -u; id -g", {"--uid", "65534", "--gid", "65534"}), 0);
  EXPECT_EQ(read("log"), "65534\n65534\n");
}

TEST_F(JobShim, UsageErrorsExitTwo) {
  EXPECT_EQ(wait_exit(start({"true"}, {"--bogus"})), 2);
  EXPECT_EQ(wait_exit(start({}, {})), 2);
  EXPECT_FALSE(exists("status"));
}

} // namespace

} // namespace ballast::test
