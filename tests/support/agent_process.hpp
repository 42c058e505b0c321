// ballastd as a child process, for host tests and benchmarks: started on a
// config written to a temp dir, scraped over real HTTP, signalled, reaped.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace ballast::test {

// Parsed Prometheus text exposition: "name{a=\"b\"}" -> value.
class scrape {
public:
  explicit scrape(const std::string &text);
  // The value of the series with this name and exactly these labels, or -1.
  double value(const std::string &name,
               const std::map<std::string, std::string> &labels = {}) const;
  // The sum over every series of this name (all label values).
  double sum(const std::string &name) const;
  size_t series(const std::string &name_prefix) const;
  // Cumulative buckets of a histogram: (upper bound, count), ascending.
  std::vector<std::pair<double, double>> buckets(const std::string &histogram) const;
  const std::string &text() const { return text_; }

private:
  std::string text_;
  std::multimap<std::string, std::pair<std::map<std::string, std::string>, double>> series_;
};

// The q-quantile of the observations between two scrapes of one histogram
// (after minus before), interpolated linearly inside a bucket as PromQL's
// histogram_quantile does.
double histogram_quantile(double q, const std::vector<std::pair<double, double>> &before,
                          const std::vector<std::pair<double, double>> &after);

// GET http://127.0.0.1:port/path; nullopt if nothing answers.
std::optional<std::string> http_get(uint16_t port, const std::string &path = "/metrics");

// A config for a test or benchmark agent: metrics on port, the journal,
// watching subtree, telemetry on it every interval.
std::string config_json(uint16_t port, const std::string &subtree, const std::string &journal,
                        const std::string &interval = "100ms");

class agent_process {
public:
  // Writes config_json to a temp file and starts ballastd --config on it.
  // stderr goes to a log file (log()).
  agent_process(const std::string &ballastd, const std::string &config_json, uint16_t metrics_port,
                std::initializer_list<std::string> extra_args = {});
  ~agent_process(); // SIGKILL if still running

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  // Where its control interface listens, unless the config says otherwise:
  // beside the metrics port, so tests never meet an agent on 9465.
  uint16_t control_port() const { return uint16_t(port_ + 10000); }
  const std::string &config_path() const { return config_path_; }
  const std::string &dir() const { return dir_; }
  // Its control cookie (in dir(), so only root reads it): what ballastctl
  // --cookie is given for a change.
  std::string cookie_path() const { return dir_ + "/control.cookie"; }
  std::string log() const;

  // Waits until /metrics answers and the start scan is done.
  bool wait_ready(std::chrono::milliseconds limit = std::chrono::seconds(10));
  scrape metrics() const;

  void signal(int sig) const;
  // Waits for exit; the exit code (or 128+signal), or nullopt on time-out.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);

private:
  std::string dir_;
  std::string config_path_;
  std::string log_path_;
  uint16_t port_;
  pid_t pid_ = -1;
};

// config_json with "control": {"listen": "127.0.0.1:PORT", "cookie": COOKIE}
// added; where it has a "control" object already, only the cookie (unless
// it names one).
std::string with_test_control(const std::string &config_json, uint16_t port,
                              const std::string &cookie);

// A shell command's exit code and output (stdout and stderr).
struct command_result {
  int code = -1;
  std::string output;
};
command_result run_command(const std::string &shell_command);

// The ballastctl under test: the one built beside ballastd.
std::string ballastctl_path();

// The cgroup2 mount of this machine (from /proc/self/mountinfo).
std::string cgroup2_root();

// The path of the ballastd binary under test (BALLASTD_PATH, set by CMake).
std::string ballastd_path();

} // namespace ballast::test
