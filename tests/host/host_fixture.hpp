// The fixture of the host tests: ballastd as a process on this machine's
// kernel, with its own metrics port (control beside it), cgroup subtree and
// journal per test.
#pragma once

#include "tests/support/agent_process.hpp"
#include "tests/support/cgroup_workload.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <thread>
#include <unistd.h>

namespace ballast::test {

using namespace std::chrono_literals;

// Each test gets its own metrics port and cgroup subtree.
inline uint16_t next_port() {
  static uint16_t port = 19400 + uint16_t(::getpid() % 200) * 2;
  return port++;
}

class AgentHostTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "host tests load BPF programs and write cgroupfs: they need root";
    root_ = cgroup2_root();
    subtree_ = "/ballast-host-" + std::to_string(::getpid());
    make_cgroup_dir(root_ + subtree_);
    journal_ = "/tmp" + subtree_ + "-journal";
    port_ = next_port();
  }

  void TearDown() override {
    agent_.reset();
    if (!root_.empty())
      remove_cgroup_dir(root_ + subtree_);
    ::unlink(journal_.c_str());
  }

  agent_process &start(const std::string &json, std::initializer_list<std::string> args = {}) {
    agent_ = std::make_unique<agent_process>(ballastd_path(), json, port_, args);
    EXPECT_TRUE(agent_->wait_ready()) << agent_->log();
    return *agent_;
  }

  agent_process &start() { return start(config_json(port_, subtree_, journal_)); }

  // ballastctl as root, with the agent's cookie.
  command_result ctl(const std::string &args, const std::string &tls = "") {
    return ctl_as("", "--cookie " + agent_->cookie_path() + " " + tls + " " + args);
  }
  // ballastctl as another user (runuser -u USER), or as root without the
  // cookie when user is "".
  command_result ctl_as(const std::string &user, const std::string &args) {
    return run_command((user.empty() ? "" : "runuser -u " + user + " -- ") + ctl_line(args));
  }
  // The shell line of ballastctl (as root, no cookie) against the agent.
  std::string ctl_line(const std::string &args) {
    return ballastctl_path() +
           " --timeout 3s --host 127.0.0.1:" + std::to_string(agent_->control_port()) + " " + args;
  }
  // A top-level field of ballastctl's -o json output, as text.
  static std::string field(const std::string &json_text, const std::string &key) {
    auto at = json_text.find("\"" + key + "\": ");
    if (at == std::string::npos)
      return "";
    auto start = at + key.size() + 4;
    return json_text.substr(start, json_text.find_first_of(",\n}", start) - start);
  }

  // Polls the agent's /metrics until pred holds or `limit` passes.
  bool metrics_eventually(const std::function<bool(const scrape &)> &pred,
                          std::chrono::seconds limit = 5s) {
    return eventually([&] { return pred(agent_->metrics()); }, limit);
  }

  // Polls pred every 20 ms until it holds or `limit` passes.
  static bool eventually(const std::function<bool()> &pred, std::chrono::seconds limit = 5s) {
    for (auto until = std::chrono::steady_clock::now() + limit;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms))
      if (pred())
        return true;
    return false;
  }

  std::string root_, subtree_, journal_;
  uint16_t port_ = 0;
  std::unique_ptr<agent_process> agent_;
};

} // namespace ballast::test
