// A directory tree in a fresh temp dir, written from code and removed at the
// end: the fixture cgroupfs root of actor tests (dirs with control files as
// plain files) and the fixture /proc of procfs tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ballast::test {

class temp_tree {
public:
  temp_tree();
  ~temp_tree();
  temp_tree(const temp_tree&) = delete;
  temp_tree& operator=(const temp_tree&) = delete;

  const std::string& root() const { return root_; }
  std::string path(std::string_view rel) const;  // rel "/" or "/a/b"

  void make_dir(std::string_view rel);
  void write(std::string_view rel_file, std::string_view content);
  std::string read(std::string_view rel_file) const;
  void remove(std::string_view rel);  // file or whole subtree
  uint64_t inode(std::string_view rel) const;

  // A directory that looks like a cgroup: cgroup.procs (one pid per line)
  // and the three pressure files. Knobs are added with write().
  void make_cgroup(std::string_view rel, std::string_view procs = "");

private:
  std::string root_;
};

} // namespace ballast::test
