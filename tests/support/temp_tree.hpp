// A directory tree in a fresh temp dir, written from code and removed at the
// end: the fixture cgroupfs root of actor and unit tests (dirs with control
// files as plain files), the fixture /proc of procfs tests, and a scratch dir
// for journal files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ballast::test {

class temp_tree {
public:
  temp_tree();
  ~temp_tree();
  temp_tree(const temp_tree &) = delete;
  temp_tree &operator=(const temp_tree &) = delete;

  const std::string &root() const { return root_; }
  std::string path(std::string_view rel) const; // rel "/" or "/a/b"

  void make_dir(std::string_view rel);
  void write(std::string_view rel_file, std::string_view content);
  void append(std::string_view rel_file, std::string_view content); // creates the file, not dirs
  std::string read(std::string_view rel_file) const;
  void remove(std::string_view rel); // file or whole subtree
  uint64_t inode(std::string_view rel) const;
  // A symbolic link at rel_link to target, which is stored as given (an
  // absolute path, e.g. path("/a"), or any string such as "/usr/bin/prog").
  void symlink(std::string_view rel_link, std::string_view target);

  // A directory that looks like a cgroup with the memory controller on:
  // cgroup.procs (one pid per line), the three pressure files, cpu.stat,
  // memory.current (8 MiB) and memory.events (all 0). Knobs are added with
  // write().
  void make_cgroup(std::string_view rel, std::string_view procs = "");

private:
  std::string root_;
};

} // namespace ballast::test
