// cgroupfs access with an injectable root. A cgroup_dir is one cgroup
// directory; it opens the directory once and caches the fd of every control
// file it reads (openat relative to the directory fd), so periodic reads are
// one pread. Reads and writes return errors as values. Tests point the root
// at a fixture tree in a temp dir.
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ballast::sys {

// The control files the agent reads (those it writes are in sys/knobs.hpp).
namespace files {
inline constexpr std::string_view procs = "cgroup.procs";
inline constexpr std::string_view events = "cgroup.events";
inline constexpr std::string_view cpu_pressure = "cpu.pressure";
inline constexpr std::string_view memory_pressure = "memory.pressure";
inline constexpr std::string_view io_pressure = "io.pressure";
// The pressure file of a PSI resource ("cpu", "memory", "io"); "" for another.
constexpr std::string_view pressure(std::string_view resource) {
  return resource == "cpu"      ? cpu_pressure
         : resource == "memory" ? memory_pressure
         : resource == "io"     ? io_pressure
                                : std::string_view{};
}
inline constexpr std::string_view cpu_stat = "cpu.stat";
inline constexpr std::string_view io_stat = "io.stat";
inline constexpr std::string_view memory_current = "memory.current";
inline constexpr std::string_view memory_events = "memory.events";
inline constexpr std::string_view memory_peak = "memory.peak";
inline constexpr std::string_view controllers = "cgroup.controllers";
// Read, and written by the job supervisor alone to enable the controllers a
// job's limits need ("+memory"): not a claim (other jobs need them too), so
// not in the knob table.
inline constexpr std::string_view subtree_control = "cgroup.subtree_control";
} // namespace files

// Joins the cgroup2 root and a cgroup path relative to it ("/" or "/a/b").
std::string join_cgroup_path(const std::string &root, std::string_view rel);

// True if rel is a clean absolute cgroup path: starts with '/', no "." or
// ".." components, no empty components, no NUL.
bool is_clean_cgroup_path(std::string_view rel);

// A path from outside (a remote request) checked to stay inside root: a
// clean absolute path ("/a/b"), an existing directory, and no symlink on the
// way leading out of the root. Returns the path; the error says which rule
// it broke.
result<std::string> confine_cgroup_path(const std::string &root, std::string_view rel);

class cgroup_dir {
public:
  // Opens root + rel (O_DIRECTORY|O_PATH is not enough for openat reads: use
  // O_RDONLY|O_DIRECTORY|O_CLOEXEC). Fails for an unclean rel.
  static result<cgroup_dir> open(const std::string &root, std::string rel);

  cgroup_dir(cgroup_dir &&) noexcept;
  cgroup_dir &operator=(cgroup_dir &&) noexcept;
  cgroup_dir(const cgroup_dir &) = delete;
  cgroup_dir &operator=(const cgroup_dir &) = delete;
  ~cgroup_dir();

  const std::string &path() const { return rel_; } // relative, "/a/b"
  uint64_t id() const { return id_; }              // inode = kernel cgroup id

  // Whole content of a control file (pread at offset 0 on the cached fd).
  result<std::string> read(std::string_view file);

  // Whole content of the parent cgroup's control file (opened for this
  // read, so safe from any thread).
  result<std::string> read_parent(std::string_view file) const;

  // One write(2) of value to the file (opened O_WRONLY|O_TRUNC for this
  // write; "" is written as "\n"). The error message names the file and
  // the cgroup.
  status write(std::string_view file, std::string_view value);

  // Pids listed in cgroup.procs.
  result<std::vector<int>> procs();

  // True while the directory still exists (fstatat on the dir fd).
  bool exists() const;

private:
  cgroup_dir(int dirfd, std::string root, std::string rel, uint64_t id);
  result<int> open_file(std::string_view file, int flags) const;
  result<int> read_fd(std::string_view file);
  void close_all();

  int dirfd_ = -1;
  std::string root_;
  std::string rel_;
  uint64_t id_ = 0;
  std::unordered_map<std::string, int> read_fds_;
};

struct cgroup_entry {
  std::string path; // relative to the root: "/", "/a", "/a/b"
  uint64_t id = 0;  // inode of the directory
};

// Walks the tree under root (root itself included as "/"), depth first.
// Directories that vanish during the walk are skipped.
result<std::vector<cgroup_entry>> scan_cgroup_tree(const std::string &root);

// Parses cgroup.procs content: one pid per line.
std::vector<int> parse_pid_list(std::string_view text);

// Parses a cgroup "flat keyed" file (cpu.stat, memory.events): one
// "key value" pair per line; lines that are not are skipped.
std::vector<std::pair<std::string, uint64_t>> parse_flat_keyed(std::string_view text);

} // namespace ballast::sys
