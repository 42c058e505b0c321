// temp_tree; see temp_tree.hpp.
#include "tests/support/temp_tree.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ballast::test {

temp_tree::temp_tree() {
  std::string tmpl = (fs::temp_directory_path() / "ballast-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
}

temp_tree::~temp_tree() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string temp_tree::path(std::string_view rel) const {
  return rel == "/" ? root_ : root_ + std::string(rel);
}

void temp_tree::make_dir(std::string_view rel) {
  fs::create_directories(path(rel));
}

void temp_tree::write(std::string_view rel_file, std::string_view content) {
  auto p = fs::path(path(rel_file));
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

void temp_tree::append(std::string_view rel_file, std::string_view content) {
  std::ofstream(path(rel_file), std::ios::binary | std::ios::app) << content;
}

std::string temp_tree::read(std::string_view rel_file) const {
  std::ifstream in(path(rel_file), std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void temp_tree::remove(std::string_view rel) {
  fs::remove_all(path(rel));
}

uint64_t temp_tree::inode(std::string_view rel) const {
  struct stat st {};
  if (::stat(path(rel).c_str(), &st) != 0)
    throw std::runtime_error("stat " + path(rel));
  return st.st_ino;
}

void temp_tree::symlink(std::string_view rel_link, std::string_view target) {
  fs::create_symlink(fs::path(target), path(rel_link));
}

void temp_tree::make_cgroup(std::string_view rel, std::string_view procs) {
  make_dir(rel);
  std::string base = rel == "/" ? "" : std::string(rel);
  write(base + "/cgroup.procs", procs);
  for (auto f : {"cpu.pressure", "memory.pressure", "io.pressure"})
    write(base + "/" + f, "some avg10=1.50 avg60=0.00 avg300=0.00 total=100\n"
                          "full avg10=0.50 avg60=0.00 avg300=0.00 total=50\n");
  write(base + "/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
  write(base + "/memory.current", "8388608\n");
  write(base + "/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
}

} // namespace ballast::test
