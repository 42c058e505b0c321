// jobs_bench: how fast ballastd starts jobs (issue 15). Runs ballastd as its
// own process (root; BALLASTD_PATH) with a jobs root and directory of its
// own, then N serial submissions of /bin/true:
//   protocol  over the control protocol as a client library would: a nonce,
//             the identity proof, the run request; submit -> the agent's
//             answer (the shim started in the cgroup) and submit -> the
//             main process running (its pid in main.pid)
//   cli       `ballastctl run` as a shell would: the CLI's own start-up and
//             connection included
// Prints one JSON object: p50/p99 in ms of each, and jobs/s of the protocol
// path. Each job is waited for and removed between submissions (not timed).
//   jobs_bench [--runs N]      (default 200)
#include "actors/control/remote.hpp"
#include "messages/protocol.hpp"
#include "sys/cookie.hpp"
#include "sys/identity.hpp"
#include "tests/support/agent_process.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace {

using namespace ballast;
using namespace ballast::test;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

json quantiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * double(v.size())))]; };
  return {{"p50_ms", at(0.5)}, {"p99_ms", at(0.99)}, {"max_ms", v.back()}};
}

// One request to the agent's control interface; throws on an error.
template <class Reply, class... Ts>
Reply ask(caf::scoped_actor &self, const control_actor &agent, const credential &cred,
          Ts &&...msg) {
  Reply out{};
  self->request(agent, std::chrono::seconds(10), cred, std::forward<Ts>(msg)...)
      .receive([&](Reply &r) { out = std::move(r); },
               [&](caf::error &e) { throw std::runtime_error(to_string(e)); });
  return out;
}

} // namespace

int main(int argc, char **argv) {
  int runs = 200;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--runs") == 0)
      runs = std::atoi(argv[i + 1]);
  try {
    auto id = std::to_string(::getpid());
    auto jobs_dir = "/tmp/ballast-bench-jobs-" + id;
    uint16_t port = 19700 + uint16_t(::getpid() % 100) * 2;
    agent_process agent(ballastd_path(),
                        R"({"metrics": {"listen": "127.0.0.1:)" + std::to_string(port) +
                            R"("}, "journal": "/tmp/ballast-bench-journal-)" + id +
                            R"(", "watch": {"include": ["/ballast-bench-jobs-)" + id +
                            R"(/**"]}, "jobs": {"root": "/ballast-bench-jobs-)" + id +
                            R"(", "dir": ")" + jobs_dir + R"("}})",
                        port);
    if (!agent.wait_ready())
      throw std::runtime_error("ballastd did not start: " + agent.log());

    caf::actor_system_config cfg;
    cfg.add_message_types<caf::id_block::ballast>();
    if (auto r = configure_remote(cfg, {}, std::chrono::seconds(10)); !r)
      throw std::runtime_error(r.err().message);
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    control_actor remote;
    self->request(remote_manager(sys, false), std::chrono::seconds(10), caf::connect_atom::value,
                  std::string("127.0.0.1"), agent.control_port())
        .receive([&](caf::node_id &, caf::strong_actor_ptr &p,
                     std::set<std::string> &) { remote = caf::actor_cast<control_actor>(p); },
                 [&](caf::error &e) { throw std::runtime_error(to_string(e)); });
    credential cred{*sys::read_cookie(agent.cookie_path())};

    auto finish = [&](const std::string &job) {
      ask<job_info>(self, remote, cred, job_command{job, "wait"});
      ask<job_info>(self, remote, cred, job_command{job, "remove"});
    };
    std::vector<double> challenge, answered, running, cli;
    auto t_all = clock_type::now();
    for (int i = 0; i < runs; ++i) {
      auto job = "p" + std::to_string(i);
      auto t0 = clock_type::now();
      auto nonce = ask<std::string>(self, remote, cred, atom::challenge_v);
      challenge.push_back(ms_since(t0));
      auto proof = sys::write_identity_proof("/tmp", nonce);
      job_request r;
      r.id = job;
      r.argv = {"/bin/true"};
      r.proof = {uint32_t(::getuid()), *proof, nonce};
      ask<job_info>(self, remote, cred, r);
      answered.push_back(ms_since(t0));
      while (!std::filesystem::exists(jobs_dir + "/" + job + "/main.pid"))
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      running.push_back(ms_since(t0));
      ::unlink(proof->c_str());
      finish(job);
    }
    double protocol_s = std::chrono::duration<double>(clock_type::now() - t_all).count();
    for (int i = 0; i < runs; ++i) {
      auto job = "c" + std::to_string(i);
      auto t0 = clock_type::now();
      auto r = run_command(
          ballastctl_path() + " --host 127.0.0.1:" + std::to_string(agent.control_port()) +
          " --cookie " + agent.cookie_path() + " run --id " + job + " -- /bin/true");
      cli.push_back(ms_since(t0));
      if (r.code != 0)
        throw std::runtime_error("ballastctl run: " + r.output);
      finish(job);
    }
    json out = {{"benchmark", "jobs_submit"},
                {"runs", runs},
                {"protocol_nonce", quantiles(challenge)},
                {"protocol_answered", quantiles(answered)},
                {"protocol_running", quantiles(running)},
                {"protocol_jobs_per_s_with_wait_and_remove", runs / protocol_s},
                {"cli_answered", quantiles(cli)}};
    std::cout << out.dump() << std::endl;
    agent.signal(SIGTERM);
    agent.wait_exit(std::chrono::seconds(5));
    std::filesystem::remove_all(jobs_dir);
    std::filesystem::remove("/tmp/ballast-bench-journal-" + id);
    ::rmdir((cgroup2_root() + "/ballast-bench-jobs-" + id).c_str());
    std::_Exit(0); // the middleman may still be connected: do not wait for it
  } catch (const std::exception &e) {
    std::fprintf(stderr, "jobs_bench: %s\n", e.what());
    return 1;
  }
}
