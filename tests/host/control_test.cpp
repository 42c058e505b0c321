// The control interface as operators use it: ballastctl against a running
// ballastd over CAF's remote actors, on this machine's kernel (a real cgroup
// frozen and thawed). Bad requests are refused with a reason and disturb
// nothing; TLS refuses every client that is not signed by the agent's CA.
#include "tests/host/host_fixture.hpp"
#include "tests/support/temp_tree.hpp"

#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

namespace ballast::test {

namespace {

class ControlTest : public AgentHostTest {
protected:
  static std::string read(const std::string &file) { return read_trimmed(file); }
};

TEST_F(ControlTest, StatusAndPoliciesAnswerInTablesAndJson) {
  start();
  auto s = ctl("status");
  EXPECT_EQ(s.code, 0) << s.output;
  EXPECT_NE(s.output.find("dry-run          off"), std::string::npos) << s.output;
  auto j = ctl("-o json status");
  EXPECT_EQ(j.code, 0) << j.output;
  auto hash = run_command(ballastd_path() + " --check-config " + agent_->config_path());
  EXPECT_NE(hash.output.find(field(j.output, "config_hash").substr(1, 16)), std::string::npos)
      << j.output << hash.output;
  auto p = ctl("policies");
  EXPECT_EQ(p.code, 0);
  EXPECT_NE(p.output.find("telemetry"), std::string::npos) << p.output;
}

TEST_F(ControlTest, ABadConfigIsRefusedWithItsErrorsAndTheRunningOneKept) {
  start();
  auto before = field(ctl("-o json status").output, "config_hash");
  temp_tree dir;
  dir.write("/bad.json",
            R"({"policies": [{"name": "t", "type": "telemetry", "interval": "1ms"}]})");
  auto r = ctl("apply " + dir.path("/bad.json"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("policies[0].interval: must be at least 10ms"), std::string::npos)
      << r.output;
  EXPECT_EQ(field(ctl("-o json status").output, "config_hash"), before);
  dir.write("/good.json", config_json(port_, subtree_, journal_, "250ms"));
  auto g = ctl("-o json apply " + dir.path("/good.json"));
  EXPECT_EQ(g.code, 0) << g.output;
  auto applied = field(g.output, "config_hash");
  EXPECT_NE(applied, before);
  EXPECT_TRUE(
      eventually([&] { return field(ctl("-o json status").output, "config_hash") == applied; }));
}

// Chosen and documented: the config file is the source of truth; what was
// applied over the control interface ends with the process.
TEST_F(ControlTest, ARemotelyAppliedConfigLastsUntilTheRestart) {
  start();
  auto from_file = field(ctl("-o json status").output, "config_hash");
  temp_tree dir;
  dir.write("/other.json", config_json(port_, subtree_, journal_, "250ms"));
  auto applied = field(ctl("-o json apply " + dir.path("/other.json")).output, "config_hash");
  ASSERT_NE(applied, from_file);
  ASSERT_TRUE(
      eventually([&] { return field(ctl("-o json status").output, "config_hash") == applied; }));
  agent_->signal(SIGTERM);
  ASSERT_EQ(agent_->wait_exit(5s), 0);
  start();
  auto after = field(ctl("-o json status").output, "config_hash");
  EXPECT_NE(after, applied);
  auto file = run_command(ballastd_path() + " --check-config " + agent_->config_path());
  EXPECT_NE(file.output.find(after.substr(1, 16)), std::string::npos) << file.output;
}

TEST_F(ControlTest, FreezeInDryRunSaysItWasNotWritten) {
  auto dir = root_ + subtree_ + "/job";
  make_cgroup_dir(dir);
  start(config_json(port_, subtree_, journal_), {"--dry-run"});
  auto f = ctl("freeze " + subtree_ + "/job");
  EXPECT_EQ(f.code, 0) << f.output;
  EXPECT_EQ(f.output, "freeze " + subtree_ + "/job: dry-run: not written\n");
  EXPECT_NE(ctl("cgroups").output.find("cgroup.freeze=1"), std::string::npos)
      << "the claim is shown";
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(read(dir + "/cgroup.freeze"), "0");
  EXPECT_EQ(ctl("thaw " + subtree_ + "/job").output,
            "thaw " + subtree_ + "/job: dry-run: not written\n");
  remove_cgroup_dir(dir);
}

TEST_F(ControlTest, DryRunIsSwitchedRemotely) {
  start();
  EXPECT_EQ(ctl("dry-run").output, "off\n");
  EXPECT_EQ(ctl("dry-run on").code, 0);
  EXPECT_TRUE(eventually([&] { return ctl("dry-run").output == "on\n"; }));
}

TEST_F(ControlTest, FreezeAndThawARealCgroupAndSigtermThaws) {
  auto dir = root_ + subtree_ + "/job";
  make_cgroup_dir(dir);
  pid_t pid = spawn_in_cgroup(dir, {"/bin/sleep", "30"});
  auto &agent = start();
  auto path = subtree_ + "/job";
  auto f = ctl("freeze " + path);
  EXPECT_EQ(f.code, 0) << f.output;
  EXPECT_TRUE(eventually(
      [&] { return read(dir + "/cgroup.events").find("frozen 1") != std::string::npos; }));
  EXPECT_NE(ctl("cgroups").output.find("cgroup.freeze=1"), std::string::npos);
  EXPECT_EQ(ctl("thaw " + path).code, 0);
  EXPECT_TRUE(eventually([&] { return read(dir + "/cgroup.freeze") == "0"; }));
  EXPECT_EQ(ctl("freeze " + path).code, 0);
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(5s), 0);
  EXPECT_EQ(read(dir + "/cgroup.freeze"), "0")
      << "SIGTERM must thaw what the control interface froze";
  kill_and_reap(pid);
  remove_cgroup_dir(dir);
}

// The hole this closes: any local user could switch dry-run or apply a
// budget that kills everything. Every change from a user who cannot read
// the cookie is refused, with the reason and exit 1, and changes nothing;
// reads stay open.
TEST_F(ControlTest, AnUnprivilegedUserChangesNothing) {
  auto dir = root_ + subtree_ + "/job";
  make_cgroup_dir(dir);
  start();
  auto before = field(ctl("-o json status").output, "config_hash");
  // A config nobody can read, as an attacker would bring it.
  auto kill_all = "/tmp" + subtree_ + "-kill-all.json";
  std::ofstream(kill_all) << R"({"policies": [{"name": "k", "type": "budget", "interval": "100ms",
    "select": {"cgroups": ["/**"]}, "params": {"kill": "1M"}}]})";
  ::chmod(kill_all.c_str(), 0644);
  for (const std::string &change :
       std::vector<std::string>{"dry-run on", "apply " + kill_all, "freeze " + subtree_ + "/job",
                                "thaw " + subtree_ + "/job", "release " + subtree_ + "/job"}) {
    auto r = ctl_as("nobody", change);
    EXPECT_EQ(r.code, 1) << change << ": " << r.output;
    EXPECT_NE(r.output.find("refused: not authorized: " + change.substr(0, change.find(' ', 3))),
              std::string::npos)
        << change << ": " << r.output;
    EXPECT_NE(r.output.find("group 'ballast'"), std::string::npos) << r.output;
    // Root without the cookie (or with a wrong one) is refused the same way.
    EXPECT_EQ(ctl_as("", "--cookie /etc/hostname " + change).code, 1) << change;
  }
  EXPECT_EQ(ctl("dry-run").output, "off\n");
  EXPECT_EQ(field(ctl("-o json status").output, "config_hash"), before) << agent_->log();
  EXPECT_EQ(read(dir + "/cgroup.freeze"), "0");
  EXPECT_EQ(ctl_as("nobody", "status").code, 0) << "reads are open by default";
  EXPECT_EQ(ctl_as("nobody", "cgroups").code, 0);
  EXPECT_NE(agent_->log().find("refused dry-run on from a client without the control cookie"),
            std::string::npos)
      << agent_->log();
  ::unlink(kill_all.c_str());
  remove_cgroup_dir(dir);
}

// Members of the configured group may change things: here the group is
// nobody's own, and the cookie sits where the group can reach it.
TEST_F(ControlTest, AMemberOfTheControlGroupMayChangeAndClosedReadsNeedTheCookie) {
  auto cookie_dir = "/tmp" + subtree_ + "-run";
  ASSERT_EQ(::mkdir(cookie_dir.c_str(), 0755), 0);
  auto json = config_json(port_, subtree_, journal_);
  json.insert(1, R"("control": {"listen": "127.0.0.1:)" + std::to_string(port_ + 10000) +
                     R"(", "cookie": ")" + cookie_dir +
                     R"(/control.cookie", "group": "nogroup", "open_reads": false}, )");
  start(json);
  struct stat st {};
  ASSERT_EQ(::stat((cookie_dir + "/control.cookie").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(st.st_uid, 0u);
  auto member = "--cookie " + cookie_dir + "/control.cookie ";
  auto r = ctl_as("nobody", member + "dry-run on");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(eventually([&] { return ctl_as("nobody", member + "dry-run").output == "on\n"; }));
  auto closed = ctl_as("", "--cookie /nonexistent status");
  EXPECT_EQ(closed.code, 1) << closed.output;
  EXPECT_NE(closed.output.find("refused: not authorized: status"), std::string::npos)
      << closed.output;
  EXPECT_NE(closed.output.find("/nonexistent"), std::string::npos)
      << "the client says why it had no cookie";
  agent_->signal(SIGTERM);
  EXPECT_EQ(agent_->wait_exit(5s), 0);
  EXPECT_NE(::access((cookie_dir + "/control.cookie").c_str(), F_OK), 0)
      << "a stopped agent leaves no cookie";
  ::rmdir(cookie_dir.c_str());
}

TEST_F(ControlTest, PathsLeadingOutOfTheRootAreRefused) {
  start();
  for (auto bad : {"/..", "/a/../..", "relative", "/nonexistent-cgroup", "//x"}) {
    auto r = ctl(std::string("freeze '") + bad + "'");
    EXPECT_EQ(r.code, 1) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("refused"), std::string::npos) << r.output;
  }
  // A real directory of the root that the agent does not watch.
  auto r = ctl("release /");
  EXPECT_EQ(r.code, 1) << r.output;
}

TEST_F(ControlTest, GarbageOnTheControlPortDisturbsNoOtherClient) {
  start();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(agent_->control_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  std::string junk(4096, '\xff');
  (void)::write(fd, junk.data(), junk.size());
  std::this_thread::sleep_for(200ms);
  ::close(fd);
  EXPECT_EQ(ctl("status").code, 0);
  EXPECT_EQ(::kill(agent_->pid(), 0), 0) << "the agent died of a malformed request";
}

TEST_F(ControlTest, WatchStreamsKnobWrites) {
  auto dir = root_ + subtree_ + "/job";
  make_cgroup_dir(dir);
  start();
  temp_tree out;
  auto cmd = ballastctl_path() + " --host 127.0.0.1:" + std::to_string(agent_->control_port()) +
             " --cookie " + agent_->cookie_path() + " watch >" + out.path("/watch") + " 2>&1 &";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(ctl("freeze " + subtree_ + "/job").code, 0);
  EXPECT_TRUE(eventually([&] {
    return read(out.path("/watch")).find("cgroup.freeze=1") != std::string::npos;
  })) << read(out.path("/watch"));
  agent_->signal(SIGTERM);
  EXPECT_EQ(agent_->wait_exit(5s), 0);
  EXPECT_TRUE(eventually(
      [&] { return read(out.path("/watch")).find("connection is gone") != std::string::npos; }));
  remove_cgroup_dir(dir);
}

TEST(ControlCli, UnreachableAndUsageErrorsHaveTheirExitCodes) {
  auto r = run_command(ballastctl_path() + " --host 127.0.0.1:1 status");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_EQ(run_command(ballastctl_path() + " frobnicate").code, 2);
  EXPECT_EQ(run_command(ballastctl_path() + " --host nonsense:x status").code, 2);
  // A CA without a certificate would make CAF abort: a clear usage error.
  auto ca = run_command(ballastctl_path() + " --tls-ca /etc/hostname status");
  EXPECT_EQ(ca.code, 2) << ca.output;
  EXPECT_NE(ca.output.find("TLS needs a certificate, its key and the CA file together"),
            std::string::npos)
      << ca.output;
}

TEST_F(ControlTest, ANonLoopbackListenerWithoutTlsRefusesToStart) {
  auto json = config_json(port_, subtree_, journal_);
  json.insert(1, R"("control": {"listen": "0.0.0.0:)" + std::to_string(port_ + 10000) + R"("}, )");
  agent_ = std::make_unique<agent_process>(ballastd_path(), json, port_);
  EXPECT_EQ(agent_->wait_exit(5s), 1);
  EXPECT_NE(agent_->log().find("control.tls: is required to listen on 0.0.0.0"), std::string::npos)
      << agent_->log();
}

// Certificates made with the openssl CLI: a CA, the agent's and a client's
// certificates signed by it, a self-signed client and one of another CA.
class TlsControlTest : public ControlTest {
protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped())
      return;
    if (run_command("command -v openssl").code != 0)
      GTEST_SKIP() << "the openssl CLI is not installed (deploy/dev.sh installs it)";
    auto sh = [&](const std::string &c) {
      auto r = run_command("cd " + pki_.root() + " && " + c);
      ASSERT_EQ(r.code, 0) << c << "\n" << r.output;
    };
    auto self_signed = [&](const std::string &name) {
      sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name + " -keyout " +
         name + ".key -out " + name + ".pem");
    };
    auto signed_by = [&](const std::string &name, const std::string &ca) {
      sh("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + name +
         ".key -out " + name + ".csr && openssl x509 -req -in " + name + ".csr -CA " + ca +
         ".pem -CAkey " + ca + ".key -CAcreateserial -days 2 -out " + name + ".pem");
    };
    self_signed("ca");
    self_signed("otherca");
    signed_by("agent", "ca");
    signed_by("client", "ca");
    signed_by("stranger", "otherca");
    self_signed("selfie");
  }
  std::string tls_of(const std::string &name, const std::string &ca = "ca") {
    return "--tls-cert " + pki_.path("/" + name + ".pem") + " --tls-key " +
           pki_.path("/" + name + ".key") + " --tls-ca " + pki_.path("/" + ca + ".pem");
  }
  void start_tls() {
    auto json = config_json(port_, subtree_, journal_);
    json.insert(1, R"("control": {"listen": "127.0.0.1:)" + std::to_string(port_ + 10000) +
                       R"(", "tls": {"certificate": ")" + pki_.path("/agent.pem") +
                       R"(", "key": ")" + pki_.path("/agent.key") + R"(", "ca": ")" +
                       pki_.path("/ca.pem") + R"("}}, )");
    start(json);
  }
  temp_tree pki_;
};

TEST_F(TlsControlTest, OnlyClientsSignedByTheAgentsCaGetIn) {
  start_tls();
  auto ok = ctl("status", tls_of("client"));
  EXPECT_EQ(ok.code, 0) << ok.output << agent_->log();
  EXPECT_NE(ctl("status").code, 0) << "a client without TLS got in";
  EXPECT_NE(ctl("status", tls_of("selfie", "selfie")).code, 0) << "a self-signed client got in";
  EXPECT_NE(ctl("status", tls_of("stranger", "otherca")).code, 0) << "another CA's client got in";
  EXPECT_EQ(ctl("status", tls_of("client")).code, 0) << "refused clients disturbed the agent";
}

} // namespace

} // namespace ballast::test
