// Reading one process from procfs (proc(5)). The parsers are pure functions
// over file contents, so odd inputs (a comm holding ") ") are unit-tested
// without a process; procfs adds the root, which tests point at a fixture
// tree. A process can exit between any two reads: the read then fails with
// ENOENT/ESRCH and that error is returned, never thrown.
#include "sys/procfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <optional>
#include <vector>

#include "sys/text.hpp"

namespace ballast::sys {
namespace {

constexpr size_t read_chunk = 4096;

// /proc/PID/stat fields are numbered from 1 as in proc(5): pid is 1, comm 2,
// state 3, the first field after comm.
constexpr size_t state_field = 3;
constexpr size_t last_needed_field = 24; // rss

// after_comm[0] is field 3 (state).
template <class T>
status parse_stat_field(const std::vector<std::string_view> &after_comm, size_t number,
                        std::string_view name, T &out) {
  const std::string_view field = after_comm[number - state_field];
  const auto value = text::parse_number<T>(field);
  if (!value) {
    return error{0, "proc stat: field " + std::to_string(number) + " (" + std::string(name) +
                        "): bad number '" + std::string(field) + "'"};
  }
  out = *value;
  return success();
}

std::string pid_path(const std::string &root, int pid, std::string_view file) {
  return root + "/" + std::to_string(pid) + "/" + std::string(file);
}

// Reads path and parses it; a parse error is prefixed with the path.
template <class Parse>
auto read_parsed(const std::string &path, Parse parse) -> decltype(parse(std::string_view{})) {
  auto text = read_small_file(path);
  if (!text)
    return text.err();
  auto parsed = parse(*text);
  if (!parsed)
    return error{parsed.err().code, path + ": " + parsed.err().message};
  return parsed;
}

} // namespace

result<proc_stat> parse_proc_stat(std::string_view content) {
  const size_t comm_open = content.find('(');
  const size_t comm_close = content.rfind(')');
  if (comm_open == std::string_view::npos || comm_close == std::string_view::npos ||
      comm_close < comm_open)
    return error{0, "proc stat: comm not in parentheses"};
  std::vector<std::string_view> after_comm;
  text::split_words(content.substr(comm_close + 1), after_comm);
  if (after_comm.size() < last_needed_field - state_field + 1) {
    return error{0, "proc stat: " + std::to_string(after_comm.size() + state_field - 1) +
                        " fields, need at least " + std::to_string(last_needed_field)};
  }
  proc_stat st;
  st.comm = content.substr(comm_open + 1, comm_close - comm_open - 1);
  if (after_comm[0].size() != 1)
    return error{0, "proc stat: field 3 (state): bad value '" + std::string(after_comm[0]) + "'"};
  st.state = after_comm[0][0];
  const status parsed[] = {parse_stat_field(after_comm, 4, "ppid", st.ppid),
                           parse_stat_field(after_comm, 14, "utime", st.utime_ticks),
                           parse_stat_field(after_comm, 15, "stime", st.stime_ticks),
                           parse_stat_field(after_comm, 22, "starttime", st.starttime_ticks),
                           parse_stat_field(after_comm, 24, "rss", st.rss_pages)};
  for (const status &s : parsed) {
    if (!s)
      return s.err();
  }
  return st;
}

result<uint64_t> parse_statm_resident_pages(std::string_view content) {
  std::vector<std::string_view> words;
  text::split_words(content, words);
  if (words.size() < 2)
    return error{0, "proc statm: " + std::to_string(words.size()) + " fields, need at least 2"};
  if (auto pages = text::parse_number<uint64_t>(words[1]))
    return *pages;
  return error{0, "proc statm: field 2 (resident): bad value '" + std::string(words[1]) + "'"};
}

result<uint32_t> parse_status_uid(std::string_view content) {
  std::optional<result<uint32_t>> found;
  std::vector<std::string_view> words;
  text::for_each_line(content, [&](std::string_view line) {
    // "Uid:\treal\teffective\tsaved\tfs"
    text::split_words(line, words);
    if (found || words.empty() || words[0] != "Uid:")
      return;
    const std::string_view real = words.size() > 1 ? words[1] : "";
    if (const auto uid = text::parse_number<uint32_t>(real))
      found.emplace(*uid);
    else
      found.emplace(error{0, "proc status: bad Uid value '" + std::string(real) + "'"});
  });
  if (found)
    return *found;
  return error{0, "proc status: Uid line missing"};
}

std::string parse_cmdline(std::string_view text) {
  while (!text.empty() && text.back() == '\0')
    text.remove_suffix(1);
  std::string joined(text);
  std::replace(joined.begin(), joined.end(), '\0', ' ');
  return joined;
}

result<std::string> parse_proc_cgroup_v2(std::string_view content) {
  constexpr std::string_view v2_prefix = "0::";
  std::optional<std::string> path;
  text::for_each_line(content, [&](std::string_view line) {
    if (!path && line.starts_with(v2_prefix))
      path = std::string(line.substr(v2_prefix.size()));
  });
  if (path)
    return *path;
  return error{0, "proc cgroup: no cgroup v2 line ('0::')"};
}

status write_small_file(const std::string &path, std::string_view value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    return errno_error(errno, "open", path);
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int code = n < 0 ? errno : 0;
  ::close(fd);
  if (n == static_cast<ssize_t>(value.size()))
    return success();
  if (code != 0)
    return errno_error(code, "write '" + std::string(value) + "' to", path);
  return error{EIO, "short write of " + std::to_string(n) + " bytes to " + path};
}

result<std::string> read_small_file(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno_error(errno, "open", path);
  std::string data;
  for (;;) {
    const size_t used = data.size();
    data.resize(used + read_chunk);
    const ssize_t n = ::read(fd, data.data() + used, read_chunk);
    const int code = n < 0 ? errno : 0;
    data.resize(used + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n == 0)
      break;
    if (code != 0 && code != EINTR) {
      ::close(fd);
      return errno_error(code, "read", path);
    }
  }
  ::close(fd);
  return data;
}

result<pid_file> pid_file::open(const std::string &proc_root, int pid, std::string_view name) {
  auto path = pid_path(proc_root, pid, name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int code = errno;
    return errno_error(code, "open", path);
  }
  return pid_file(fd, std::move(path));
}

pid_file::pid_file(pid_file &&o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), buf_(std::move(o.buf_)) {}

pid_file &pid_file::operator=(pid_file &&o) noexcept {
  if (this != &o) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    buf_ = std::move(o.buf_);
  }
  return *this;
}

pid_file::~pid_file() {
  if (fd_ >= 0)
    ::close(fd_);
}

result<std::string_view> pid_file::read_text() {
  buf_.resize(1024); // a stat line is a few hundred bytes, statm under a hundred
  const ssize_t n = ::pread(fd_, buf_.data(), buf_.size(), 0);
  if (n <= 0) {
    const int code = n < 0 ? errno : ESRCH;
    return errno_error(code, "read", path_);
  }
  buf_.resize(static_cast<size_t>(n));
  return std::string_view(buf_);
}

procfs::procfs(std::string root) : root_(std::move(root)) {}

result<proc_stat> procfs::stat(int pid) const {
  return read_parsed(pid_path(root_, pid, "stat"), parse_proc_stat);
}

std::string procfs::exe(int pid) const {
  std::error_code ignored; // kernel threads and other users' processes have no readable exe
  return std::filesystem::read_symlink(pid_path(root_, pid, "exe"), ignored).string();
}

result<process_info> procfs::read(int pid) const {
  auto st = stat(pid);
  if (!st)
    return st.err();
  const auto uid = read_parsed(pid_path(root_, pid, "status"), parse_status_uid);
  if (!uid)
    return uid.err();
  const auto cmdline = read_small_file(pid_path(root_, pid, "cmdline"));
  if (!cmdline)
    return cmdline.err();
  auto cgroup = read_parsed(pid_path(root_, pid, "cgroup"), parse_proc_cgroup_v2);
  if (!cgroup)
    return cgroup.err();

  process_info info;
  info.pid = pid;
  info.comm = std::move(st->comm);
  info.exe = exe(pid);
  info.cmdline = parse_cmdline(*cmdline);
  info.uid = *uid;
  info.cgroup = std::move(*cgroup);
  info.cpu_seconds = static_cast<double>(st->utime_ticks + st->stime_ticks) /
                     static_cast<double>(clock_ticks_per_second());
  info.rss_bytes = st->rss_pages * page_size();
  return info;
}

uint64_t procfs::clock_ticks_per_second() {
  static const auto ticks = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  return ticks;
}

uint64_t procfs::page_size() {
  static const auto size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

} // namespace ballast::sys
