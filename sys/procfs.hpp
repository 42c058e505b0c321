// procfs reading of one process: comm, cmdline, exe, uid, cgroup path, CPU
// time and RSS. The parsers are pure functions over file contents; procfs
// holds the root ("/proc", injectable for tests) and reads the files. A pid
// that exits between reads gives an error value (ENOENT/ESRCH), never a throw.
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ballast::sys {

struct proc_stat {
  std::string comm; // without the parentheses; may contain ') ' itself
  char state = '?';
  int ppid = 0;
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t starttime_ticks = 0;
  uint64_t rss_pages = 0;
};

// /proc/PID/stat. comm is between the first '(' and the LAST ')'.
result<proc_stat> parse_proc_stat(std::string_view text);

// The real uid from the "Uid:" line of /proc/PID/status.
result<uint32_t> parse_status_uid(std::string_view text);

// /proc/PID/cmdline: NUL-separated arguments joined with single spaces.
std::string parse_cmdline(std::string_view text);

// The cgroup v2 path from /proc/PID/cgroup (the "0::/path" line), e.g. "/a/b".
result<std::string> parse_proc_cgroup_v2(std::string_view text);

struct process_info {
  int pid = 0;
  std::string comm;
  std::string exe; // readlink of /proc/PID/exe; empty for kernel threads
  std::string cmdline;
  uint32_t uid = 0;
  std::string cgroup;     // cgroup v2 path relative to the cgroup2 root
  double cpu_seconds = 0; // utime + stime
  uint64_t rss_bytes = 0;
};

// Reads whole small files (under 64 KiB) with one open/read/close.
result<std::string> read_small_file(const std::string &path);

// One write(2) of value to an existing file (procfs and sysfs knobs: no
// O_CREAT, so a mistyped path fails instead of making a file).
status write_small_file(const std::string &path, std::string_view value);

// /proc/PID/statm: the resident set in pages (its second field).
result<uint64_t> parse_statm_resident_pages(std::string_view text);

// One file of /proc/PID (stat, statm) kept open for periodic sampling: each
// read is one pread. The fd is tied to the process, so once it exits (even
// if its pid is reused) reads fail with ESRCH instead of reading another
// process.
class pid_file {
public:
  static result<pid_file> open(const std::string &proc_root, int pid, std::string_view name);
  pid_file(pid_file &&o) noexcept;
  pid_file &operator=(pid_file &&o) noexcept;
  pid_file(const pid_file &) = delete;
  ~pid_file();

  // The file read now and parsed by `parse` (text -> result<T>); a parse
  // error names the file.
  template <class Parse> auto read(Parse parse) -> decltype(parse(std::string_view{})) {
    auto text = read_text();
    if (!text)
      return text.err();
    auto parsed = parse(*text);
    if (!parsed)
      return error{0, path_ + ": " + parsed.err().message};
    return parsed;
  }

private:
  explicit pid_file(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  result<std::string_view> read_text();
  int fd_ = -1;
  std::string path_;
  std::string buf_;
};

class procfs {
public:
  explicit procfs(std::string root = "/proc");

  // Everything above in one call (stat, status, cmdline, cgroup, exe).
  result<process_info> read(int pid) const;

  // Only /proc/PID/stat: the cheap call for periodic sampling.
  result<proc_stat> stat(int pid) const;

  // readlink of /proc/PID/exe; empty for kernel threads and unreadable ones.
  std::string exe(int pid) const;

  const std::string &root() const { return root_; }

  static uint64_t clock_ticks_per_second();
  static uint64_t page_size();

private:
  std::string root_;
};

} // namespace ballast::sys
