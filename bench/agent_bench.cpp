// Benchmarks of ballastd as its own process against this machine's kernel.
// Each prints one JSON object on stdout; run as root.
//
//   agent_bench latency [--events N] [--rate R]
//                                      attach → policy actor running, p50/p99,
//                                      R attaches per second (paced)
//   agent_bench churn   [--cycles N]   mkdir+attach+exec+exit+rmdir as fast as
//                                      possible, without then with the agent
//   agent_bench soak    [--cycles N] [--warmup W]
//                                      issue 7's soak: N lifecycle cycles (W of
//                                      them warm-up): actors, events, RSS, fds
//   agent_bench event_path [--cycles N]
//                                      the same churn seen by bare_consumer (a
//                                      bare libbpf ring-buffer consumer), then
//                                      by the agent: event latency p99 of both
//   agent_bench journal [--cycles N]  the trust issue's journal soak: N × (mkdir,
//                                      memory_floor claims memory.min on it and
//                                      a standing cgroup, rmdir): journal size
//                                      (needs the memory controller: the VM)
//   agent_bench scale   [--cgroups N] [--seconds S] [--sched 0|1]
//                                      N cgroups each with an enrolled process
//                                      at 1 Hz: RSS, CPU, scrape time, SIGTERM
#include "tests/support/agent_process.hpp"
#include "tests/support/cgroup_workload.hpp"
#include "tests/support/soak.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace ballast::test;
using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr uint16_t port = 19390;

double seconds(clock_type::duration d) {
  return std::chrono::duration<double>(d).count();
}

// sched: whether the sched source runs (scale measures the agent without it
// as its reference).
std::string config(const std::string &subtree, const std::string &interval, bool sched = true) {
  auto c = json::parse(config_json(port, subtree, "/tmp/ballast-bench-journal", interval));
  c["sched"]["enabled"] = sched;
  return c.dump();
}

// Polls the agent's metrics until pred holds or the limit passes.
bool wait_for(agent_process &a, const std::function<bool(const scrape &)> &pred,
              std::chrono::seconds limit = 120s) {
  auto until = clock_type::now() + limit;
  while (clock_type::now() < until) {
    if (pred(a.metrics()))
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

struct proc_sample {
  double cpu_seconds;
  double rss_bytes;
};

proc_sample sample(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(stat)), {});
  auto fields = s.substr(s.rfind(')') + 2);
  std::istringstream in(fields);
  std::vector<std::string> f((std::istream_iterator<std::string>(in)), {});
  double ticks = double(sysconf(_SC_CLK_TCK));
  return {(std::stod(f[11]) + std::stod(f[12])) / ticks,
          std::stod(f[21]) * double(sysconf(_SC_PAGESIZE))};
}

std::unique_ptr<agent_process> start_agent(const std::string &subtree, const std::string &interval,
                                           bool sched = true) {
  auto a = std::make_unique<agent_process>(ballastd_path(), config(subtree, interval, sched), port);
  if (!a->wait_ready())
    throw std::runtime_error("ballastd did not start: " + a->log());
  return a;
}

json latency(int events, int rate) {
  std::string root = cgroup2_root(), subtree = "/ballast-bench-latency";
  make_cgroup_dir(root + subtree);
  auto dir = root + subtree + "/job";
  make_cgroup_dir(dir);
  auto agent = start_agent(subtree, "1s");
  auto before = agent->metrics();
  double count0 = before.value("ballast_policy_start_seconds_count");
  // A window of live processes, so each policy runs before its process exits.
  std::deque<pid_t> live;
  auto t0 = clock_type::now();
  auto period =
      std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(1.0 / rate));
  for (int i = 0; i < events; ++i) {
    std::this_thread::sleep_until(t0 + i * period); // an open-loop, paced arrival
    live.push_back(spawn_in_cgroup(dir, {"/bin/sleep", "1000"}));
    if (live.size() > 64) {
      kill_and_reap(live.front());
      live.pop_front();
    }
  }
  auto gen = seconds(clock_type::now() - t0);
  bool complete = wait_for(
      *agent,
      [&](const scrape &m) {
        return m.value("ballast_policy_start_seconds_count") >= count0 + events;
      },
      60s);
  auto after = agent->metrics();
  for (auto pid : live)
    kill_and_reap(pid);
  auto b = before.buckets("ballast_policy_start_seconds"),
       a = after.buckets("ballast_policy_start_seconds");
  json out = {{"benchmark", "attach_to_policy_running"},
              {"events", events},
              {"rate_per_s", rate},
              {"observed", after.value("ballast_policy_start_seconds_count") - count0},
              {"complete", complete},
              {"p50_us", histogram_quantile(0.5, b, a) * 1e6},
              {"p99_us", histogram_quantile(0.99, b, a) * 1e6},
              {"mean_us",
               (after.value("ballast_policy_start_seconds_sum") -
                before.value("ballast_policy_start_seconds_sum")) /
                   std::max(1.0, after.value("ballast_policy_start_seconds_count") - count0) * 1e6},
              {"generator_seconds", gen},
              {"events_lost", after.value("ballast_events_lost_total")},
              {"event_handling_p50_us",
               histogram_quantile(0.5, before.buckets("ballast_event_handling_seconds"),
                                  after.buckets("ballast_event_handling_seconds")) *
                   1e6},
              {"event_handling_p99_us",
               histogram_quantile(0.99, before.buckets("ballast_event_handling_seconds"),
                                  after.buckets("ballast_event_handling_seconds")) *
                   1e6},
              {"target_p99_us", 1000}};
  agent.reset();
  remove_cgroup_dir(dir);
  remove_cgroup_dir(root + subtree);
  return out;
}

double run_cycles(const std::string &base, int cycles) {
  auto t0 = clock_type::now();
  lifecycle_cycles(base, 0, cycles);
  return cycles / seconds(clock_type::now() - t0);
}

// `cycles` lifecycle cycles under base with the agent watching: its metrics
// before, the generator's rate, and whether (and when) every rmdir was handled.
struct watched_churn {
  scrape before;
  double cycles_per_s = 0;
  bool drained = false;
  double handled_s = 0;
};

watched_churn churn_watched(agent_process &agent, const std::string &base, int cycles) {
  watched_churn w{agent.metrics()};
  double rmdir0 = w.before.value("ballast_cgroup_events_total", {{"kind", "cgroup_rmdir"}});
  auto t0 = clock_type::now();
  w.cycles_per_s = run_cycles(base, cycles);
  w.drained = wait_for(
      agent,
      [&](const scrape &m) {
        return m.value("ballast_cgroup_events_total", {{"kind", "cgroup_rmdir"}}) >=
               rmdir0 + cycles;
      },
      120s);
  w.handled_s = seconds(clock_type::now() - t0);
  return w;
}

json churn(int cycles) {
  std::string root = cgroup2_root(), subtree = "/ballast-bench-churn";
  make_cgroup_dir(root + subtree);
  double rate_without = run_cycles(root + subtree, cycles);
  auto agent = start_agent(subtree, "1s");
  auto w = churn_watched(*agent, root + subtree, cycles);
  auto &before = w.before;
  double actors_before = before.value("ballast_actors", {{"type", "cgroup"}});
  double policies_before = before.value("ballast_actors", {{"type", "policy"}});
  double events0 = before.sum("ballast_cgroup_events_total");
  double rate_with = w.cycles_per_s;
  bool drained = w.drained;
  auto handled_in = w.handled_s;
  wait_for(
      *agent,
      [&](const scrape &m) {
        return m.value("ballast_actors", {{"type", "cgroup"}}) == actors_before &&
               m.value("ballast_actors", {{"type", "policy"}}) == policies_before;
      },
      30s);
  auto after = agent->metrics();
  double events = after.sum("ballast_cgroup_events_total") - events0;
  json out = {{"benchmark", "churn"},
              {"cycles", cycles},
              {"generator_cycles_per_s_without_agent", rate_without},
              {"generator_cycles_per_s_with_agent", rate_with},
              {"generator_ratio", rate_with / rate_without},
              {"events_handled", events},
              {"events_per_s_handled", events / handled_in},
              {"all_rmdirs_seen", drained},
              {"events_lost", after.value("ballast_events_lost_total")},
              {"cgroup_actors_before", actors_before},
              {"cgroup_actors_after", after.value("ballast_actors", {{"type", "cgroup"}})},
              {"policy_actors_before", policies_before},
              {"policy_actors_after", after.value("ballast_actors", {{"type", "policy"}})},
              {"event_handling_p99_us",
               histogram_quantile(0.99, before.buckets("ballast_event_handling_seconds"),
                                  after.buckets("ballast_event_handling_seconds")) *
                   1e6}};
  agent.reset();
  remove_cgroup_dir(root + subtree);
  return out;
}

// bare_consumer (beside this binary) while `cycles` lifecycle cycles run;
// its JSON report.
json bare_consumer_under_churn(const std::string &base, int cycles) {
  auto bare = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "bare_consumer";
  int out[2];
  if (::pipe(out) != 0)
    throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::execl(bare.c_str(), bare.c_str(), nullptr);
    _exit(127);
  }
  ::close(out[1]);
  std::this_thread::sleep_for(2s); // loaded and attached
  double rate = run_cycles(base, cycles);
  std::this_thread::sleep_for(500ms); // the last records drained
  ::kill(pid, SIGTERM);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    text.append(buf, size_t(n));
  ::close(out[0]);
  ::waitpid(pid, nullptr, 0);
  auto report = json::parse(text.empty() ? "{}" : text);
  report["generator_cycles_per_s"] = rate;
  return report;
}

// Issue 11's event path: one churn seen by the bare consumer, the same churn
// seen by the agent, in one run; the agent's p99 against the reference's.
json event_path(int cycles) {
  std::string root = cgroup2_root(), subtree = "/ballast-bench-events";
  make_cgroup_dir(root + subtree);
  auto bare = bare_consumer_under_churn(root + subtree, cycles);
  auto agent = start_agent(subtree, "1s");
  auto w = churn_watched(*agent, root + subtree, cycles);
  auto after = agent->metrics();
  auto quantile = [&](double q) {
    return histogram_quantile(q, w.before.buckets("ballast_event_handling_seconds"),
                              after.buckets("ballast_event_handling_seconds")) *
           1e6;
  };
  double agent_p99 = quantile(0.99);
  double bare_p99 = bare.value("p99_us_as_histogram", 0.0);
  json out = {{"benchmark", "event_path"},
              {"cycles", cycles},
              {"bare_consumer", bare},
              {"agent",
               {{"generator_cycles_per_s", w.cycles_per_s},
                {"p50_us", quantile(0.5)},
                {"p99_us", agent_p99},
                {"lost", after.value("ballast_events_lost_total")},
                {"drained", w.drained}}},
              {"p99_ratio_agent_to_bare", bare_p99 > 0 ? agent_p99 / bare_p99 : 0},
              {"targets", {{"agent_p99_us", 1000}, {"p99_ratio", 2}, {"lost", 0}}}};
  agent.reset();
  remove_cgroup_dir(root + subtree);
  return out;
}

json soak(int cycles, int warmup) {
  std::string root = cgroup2_root(), subtree = "/ballast-bench-soak";
  make_cgroup_dir(root + subtree);
  auto agent = start_agent(subtree, "1s");
  auto r = run_soak(*agent, root + subtree, cycles, warmup);
  double exclusive_generated = 0, exclusive_seen = 0;
  for (auto kind : soak_exclusive_kinds) {
    exclusive_generated += r.generated[kind];
    exclusive_seen += r.seen[kind];
  }
  json out = {{"benchmark", "soak"},
              {"cycles", cycles},
              {"warmup_cycles", warmup},
              {"cycles_per_s", (cycles - warmup) / r.cycle_seconds},
              {"drained", r.drained},
              {"rss_mib_after_warmup", r.after_warmup.rss_bytes / 1048576},
              {"rss_mib_after", r.after.rss_bytes / 1048576},
              {"rss_growth_kib", (r.after.rss_bytes - r.after_warmup.rss_bytes) / 1024},
              {"fds_after_warmup", r.after_warmup.fds},
              {"fds_after", r.after.fds},
              {"cgroup_actors_before", r.cgroup_actors_before},
              {"cgroup_actors_after", r.cgroup_actors_after},
              {"policy_actors_before", r.policy_actors_before},
              {"policy_actors_after", r.policy_actors_after},
              {"events_generated", r.generated},
              {"events_seen", r.seen},
              {"events_lost", r.lost},
              // mkdir, attach and rmdir come only from the cycles: seen + lost
              // must equal generated (exec and exit also come from the host).
              {"cgroup_events_unaccounted", exclusive_generated - exclusive_seen - r.lost},
              {"targets", {{"rss_growth_kib", 1024}, {"cgroup_events_unaccounted", 0}}}};
  agent.reset();
  remove_cgroup_dir(root + subtree);
  return out;
}

// The scale benchmark's cgroups and sleeping processes, removed on every
// way out (an agent that does not start, an exception, the normal end).
struct sleeper_tree {
  std::vector<std::string> dirs; // parents first
  std::vector<pid_t> pids;
  sleeper_tree() = default;
  sleeper_tree(const sleeper_tree &) = delete;
  ~sleeper_tree() {
    for (auto pid : pids)
      kill_and_reap(pid);
    for (auto d = dirs.rbegin(); d != dirs.rend(); ++d)
      remove_cgroup_dir(*d);
  }
};

json scale(int n, int secs, bool sched) {
  std::string root = cgroup2_root(), subtree = "/ballast-bench-scale";
  sleeper_tree tree;
  make_cgroup_dir(root + subtree);
  tree.dirs.push_back(root + subtree);
  for (int i = 0; i < n; ++i) {
    auto dir = root + subtree + "/c" + std::to_string(i);
    make_cgroup_dir(dir);
    tree.dirs.push_back(dir);
    tree.pids.push_back(spawn_in_cgroup(dir, {"/bin/sleep", "100000"}));
  }
  auto agent = start_agent(subtree, "1s", sched);
  bool all = wait_for(
      *agent,
      [&](const scrape &m) {
        return m.value("ballast_policy_actors", {{"policy", "telemetry"}}) >= n;
      },
      60s);
  std::this_thread::sleep_for(3s); // past start-up
  auto s0 = sample(agent->pid());
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds(secs));
  auto s1 = sample(agent->pid());
  double cpu = (s1.cpu_seconds - s0.cpu_seconds) / seconds(clock_type::now() - t0);
  std::vector<double> scrapes;
  size_t bytes = 0;
  for (int i = 0; i < 21; ++i) {
    auto t = clock_type::now();
    bytes = http_get(port).value_or("").size();
    scrapes.push_back(seconds(clock_type::now() - t) * 1e3);
  }
  std::sort(scrapes.begin(), scrapes.end());
  auto series = agent->metrics().series("ballast_");
  auto t = clock_type::now();
  agent->signal(SIGTERM);
  auto code = agent->wait_exit(10s);
  double stop_ms = seconds(clock_type::now() - t) * 1e3;
  json out = {
      {"benchmark", "scale"},
      {"cgroups", n},
      {"sched_source", sched},
      {"all_enrolled", all},
      {"agent_rss_mib", s1.rss_bytes / 1048576.0},
      {"agent_cpu_percent_of_one_core", cpu * 100},
      {"measured_seconds", secs},
      {"scrape_ms_median", scrapes[scrapes.size() / 2]},
      {"scrape_ms_max", scrapes.back()},
      {"scrape_bytes", bytes},
      {"series", series},
      {"sigterm_to_exit_ms", stop_ms},
      {"exit_code", code.value_or(-1)},
      {"targets", {{"rss_mib", 40}, {"cpu_percent", 1}, {"scrape_ms", 20}, {"sigterm_ms", 190}}}};
  return out;
}

uintmax_t file_size_or_zero(const std::string &path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

// Each cycle makes a cgroup, waits for memory_floor's split to reach it (a
// claim on it and on the standing cgroup beside it, both journalled), then
// removes it. The journal must stay bounded: compaction drops the records of
// knobs that are back at their originals or whose cgroup is gone.
json journal_soak(int cycles) {
  std::string root = cgroup2_root(), subtree = "/ballast-bench-journal";
  const std::string journal = "/tmp/ballast-bench-journal-soak";
  std::filesystem::remove(journal);
  sleeper_tree tree;
  make_cgroup_dir(root + subtree);
  tree.dirs.push_back(root + subtree);
  std::ofstream(root + subtree + "/cgroup.subtree_control") << "+memory";
  auto standing = root + subtree + "/standing";
  make_cgroup_dir(standing);
  tree.dirs.push_back(standing);
  if (!std::filesystem::exists(standing + "/memory.min"))
    throw std::runtime_error("no memory controller in " + root + subtree +
                             " (run it in the VM: bench/vm_bench.sh journal)");
  const uint64_t floor = 64 << 20;
  std::string cfg = R"({"metrics": {"listen": "127.0.0.1:)" + std::to_string(port) + R"("},
  "journal": ")" + journal +
                    R"(", "watch": {"include": [")" + subtree + R"(/**"]},
  "policies": [{"name": "floor", "type": "memory_floor", "select": {"cgroups": [")" +
                    subtree + R"(/*"]}, "params": {"floor": ")" + std::to_string(floor) +
                    R"("}}]})";
  agent_process agent(ballastd_path(), cfg, port);
  if (!agent.wait_ready())
    throw std::runtime_error("ballastd did not start: " + agent.log());
  auto reaches = [](const std::string &file, uint64_t want, std::chrono::milliseconds limit) {
    auto until = clock_type::now() + limit;
    while (clock_type::now() < until) {
      if (read_trimmed(file) == std::to_string(want))
        return true;
      std::this_thread::sleep_for(200us);
    }
    return false;
  };
  if (!reaches(standing + "/memory.min", floor, 10s))
    throw std::runtime_error("memory_floor never claimed memory.min on " + standing + ": " +
                             agent.log());
  uintmax_t largest = 0, at_warmup = 0;
  int missed = 0;
  auto t0 = clock_type::now();
  for (int i = 0; i < cycles; ++i) {
    auto dir = root + subtree + "/c" + std::to_string(i);
    make_cgroup_dir(dir);
    if (!reaches(dir + "/memory.min", floor / 2, 5s))
      ++missed;
    remove_cgroup_dir(dir);
    largest = std::max(largest, file_size_or_zero(journal));
    if (i == cycles / 10)
      at_warmup = file_size_or_zero(journal);
  }
  double secs = seconds(clock_type::now() - t0);
  reaches(standing + "/memory.min", floor, 10s); // the split back to one member
  auto m = agent.metrics();
  auto at_end = file_size_or_zero(journal);
  agent.signal(SIGTERM);
  auto code = agent.wait_exit(10s);
  json out = {
      {"benchmark", "journal_soak"},
      {"cycles", cycles},
      {"cycles_per_s", cycles / secs},
      {"claims_not_seen", missed},
      {"knob_writes", m.value("ballast_knob_writes_total", {{"mode", "write"}, {"result", "ok"}})},
      {"journal_errors", m.value("ballast_journal_errors_total")},
      {"journal_bytes_after_tenth", at_warmup},
      {"journal_bytes_largest", largest},
      {"journal_bytes_at_end", at_end},
      {"journal_bytes_after_exit", file_size_or_zero(journal)},
      {"standing_memory_min_after_exit", read_trimmed(standing + "/memory.min")},
      {"exit_code", code.value_or(-1)},
      {"targets", {{"journal_bytes_largest", 65536}, {"standing_memory_min_after_exit", "0"}}}};
  return out;
}

int flag(int argc, char **argv, const char *name, int fallback) {
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0)
      return std::atoi(argv[i + 1]);
  return fallback;
}

} // namespace

int main(int argc, char **argv) {
  std::string what = argc > 1 ? argv[1] : "";
  try {
    ballastd_path(); // a usage error before any cgroup or process is made
    json out;
    if (what == "latency")
      out = latency(flag(argc, argv, "--events", 10000), flag(argc, argv, "--rate", 500));
    else if (what == "churn")
      out = churn(flag(argc, argv, "--cycles", 10000));
    else if (what == "soak")
      out = soak(flag(argc, argv, "--cycles", 100000), flag(argc, argv, "--warmup", 10000));
    else if (what == "event_path")
      out = event_path(flag(argc, argv, "--cycles", 20000));
    else if (what == "journal")
      out = journal_soak(flag(argc, argv, "--cycles", 100000));
    else if (what == "scale")
      out = scale(flag(argc, argv, "--cgroups", 1000), flag(argc, argv, "--seconds", 30),
                  flag(argc, argv, "--sched", 1) != 0);
    else {
      std::fprintf(stderr, "usage: agent_bench latency|churn|event_path|soak|journal|scale "
                           "[options] (see the source)\n");
      return 2;
    }
    std::cout << out.dump() << std::endl;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "agent_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
