// agent_process, scrape and http_get; see agent_process.hpp.
#include "tests/support/agent_process.hpp"

#include "sys/mountinfo.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ballast::test {

namespace {

// {a="b",c="d"} -> map; values here never contain escaped quotes we rely on.
std::map<std::string, std::string> parse_labels(const std::string &s) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    auto eq = s.find('=', i);
    if (eq == std::string::npos)
      break;
    auto start = eq + 2; // past ="
    std::string value;
    size_t j = start;
    for (; j < s.size() && s[j] != '"'; ++j) {
      if (s[j] == '\\' && j + 1 < s.size())
        ++j;
      value += s[j];
    }
    out[s.substr(i, eq - i)] = value;
    i = j + 2; // past ",
  }
  return out;
}

} // namespace

scrape::scrape(const std::string &text) : text_(text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    auto brace = line.find('{');
    auto space = line.rfind(' ');
    if (space == std::string::npos)
      continue;
    std::string name, labels;
    if (brace != std::string::npos && brace < space) {
      name = line.substr(0, brace);
      labels = line.substr(brace + 1, line.rfind('}') - brace - 1);
    } else {
      name = line.substr(0, space);
    }
    series_.emplace(
        name, std::make_pair(parse_labels(labels), std::strtod(line.c_str() + space + 1, nullptr)));
  }
}

double scrape::value(const std::string &name,
                     const std::map<std::string, std::string> &labels) const {
  auto [b, e] = series_.equal_range(name);
  for (auto it = b; it != e; ++it)
    if (it->second.first == labels)
      return it->second.second;
  return -1;
}

double scrape::sum(const std::string &name) const {
  double total = 0;
  auto [b, e] = series_.equal_range(name);
  for (auto it = b; it != e; ++it)
    total += it->second.second;
  return total;
}

size_t scrape::series(const std::string &prefix) const {
  size_t n = 0;
  for (auto &[name, _] : series_)
    n += name.rfind(prefix, 0) == 0;
  return n;
}

std::vector<std::pair<double, double>> scrape::buckets(const std::string &histogram) const {
  std::vector<std::pair<double, double>> out;
  auto [b, e] = series_.equal_range(histogram + "_bucket");
  for (auto it = b; it != e; ++it) {
    auto le = it->second.first.find("le");
    if (le != it->second.first.end())
      out.emplace_back(le->second == "+Inf" ? INFINITY : std::strtod(le->second.c_str(), nullptr),
                       it->second.second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

double histogram_quantile(double q, const std::vector<std::pair<double, double>> &before,
                          const std::vector<std::pair<double, double>> &after) {
  std::vector<std::pair<double, double>> d = after;
  for (size_t i = 0; i < d.size() && i < before.size(); ++i)
    d[i].second -= before[i].second;
  if (d.empty() || d.back().second <= 0)
    return NAN;
  double rank = q * d.back().second;
  double lower = 0, below = 0;
  for (auto &[le, count] : d) {
    if (count >= rank) {
      if (std::isinf(le))
        return lower;
      return lower + (le - lower) * (rank - below) / std::max(count - below, 1e-12);
    }
    lower = le;
    below = count;
  }
  return lower;
}

std::optional<std::string> http_get(uint16_t port, const std::string &path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != ssize_t(req.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string resp;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    resp.append(buf, size_t(n));
  ::close(fd);
  auto body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || body == std::string::npos)
    return std::nullopt;
  return resp.substr(body + 4);
}

std::string with_test_control(const std::string &config_json, uint16_t port,
                              const std::string &cookie) {
  auto cookie_field = R"("cookie": ")" + cookie + R"(", )";
  if (auto control = config_json.find(R"("control": {)"); control != std::string::npos)
    return config_json.find(R"("cookie")") != std::string::npos
               ? config_json
               : config_json.substr(0, control + 12) + cookie_field +
                     config_json.substr(control + 12);
  auto brace = config_json.find('{');
  if (brace == std::string::npos)
    return config_json; // not an object: the agent's own error is the point
  return config_json.substr(0, brace + 1) + R"("control": {)" + cookie_field +
         R"("listen": "127.0.0.1:)" + std::to_string(port) + R"("}, )" +
         config_json.substr(brace + 1);
}

command_result run_command(const std::string &shell_command) {
  command_result r;
  FILE *p = ::popen((shell_command + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
    r.output.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ballastctl_path() {
  return (std::filesystem::path(ballastd_path()).parent_path() / "ballastctl").string();
}

agent_process::agent_process(const std::string &ballastd, const std::string &config_json,
                             uint16_t metrics_port, std::initializer_list<std::string> extra_args)
    : port_(metrics_port) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ballast-agent-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  config_path_ = dir_ + "/config.json";
  log_path_ = dir_ + "/stderr.log";
  std::ofstream(config_path_) << with_test_control(config_json, control_port(), cookie_path());
  std::vector<std::string> args = {ballastd, "--config", config_path_};
  args.insert(args.end(), extra_args);
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, STDERR_FILENO);
    ::dup2(log, STDOUT_FILENO);
    std::vector<char *> argv;
    for (auto &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

agent_process::~agent_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string agent_process::log() const {
  std::ifstream in(log_path_);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

bool agent_process::wait_ready(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (auto text = http_get(port_); text && scrape(*text).value("ballast_ready") == 1)
      return true;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

scrape agent_process::metrics() const {
  return scrape(http_get(port_).value_or(""));
}

void agent_process::signal(int sig) const {
  ::kill(pid_, sig);
}

std::optional<int> agent_process::wait_exit(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return std::nullopt;
}

std::string cgroup2_root() {
  auto r = sys::discover_cgroup2_mount();
  if (!r)
    throw std::runtime_error(r.err().message);
  return *r;
}

std::string ballastd_path() {
  const char *p = std::getenv("BALLASTD_PATH");
  if (!p)
    throw std::runtime_error(
        "set BALLASTD_PATH to the ballastd under test (ctest and bench/run.sh do)");
  return p;
}

std::string config_json(uint16_t port, const std::string &subtree, const std::string &journal,
                        const std::string &interval) {
  return R"({"metrics": {"listen": "127.0.0.1:)" + std::to_string(port) + R"("},
  "journal": ")" +
         journal + R"(",
  "watch": {"include": [")" +
         subtree + R"(/**"]},
  "policies": [{"name": "telemetry", "type": "telemetry", "interval": ")" +
         interval + R"(",
                "select": {"cgroups": [")" +
         subtree + R"(/**"]}}]})";
}

} // namespace ballast::test
