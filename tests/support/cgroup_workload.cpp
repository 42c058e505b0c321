// Cgroup and process churn; see cgroup_workload.hpp.
#include "tests/support/cgroup_workload.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ballast::test {

namespace {

[[noreturn]] void fail(const std::string &what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

} // namespace

pid_t spawn_in_cgroup(const std::string &cgroup_dir, const std::vector<std::string> &argv) {
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) != 0)
    fail("pipe");
  pid_t pid = ::fork();
  if (pid < 0)
    fail("fork");
  if (pid == 0) {
    char go;
    ::close(gate[1]);
    if (::read(gate[0], &go, 1) != 1)
      ::_exit(126);
    std::vector<char *> args;
    for (auto &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(gate[0]);
  int procs = ::open((cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  auto text = std::to_string(pid);
  bool moved = procs >= 0 && ::write(procs, text.data(), text.size()) == ssize_t(text.size());
  if (procs >= 0)
    ::close(procs);
  if (!moved) {
    kill_and_reap(pid);
    ::close(gate[1]);
    fail("move " + text + " into " + cgroup_dir);
  }
  if (::write(gate[1], "g", 1) != 1)
    fail("release child");
  ::close(gate[1]);
  return pid;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

void make_cgroup_dir(const std::string &dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    fail("mkdir " + dir);
}

void remove_cgroup_dir(const std::string &dir) {
  for (int i = 0; i < 1000; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT)
      return;
    if (errno != EBUSY)
      fail("rmdir " + dir);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  fail("rmdir " + dir + " (still busy)");
}

void lifecycle_cycle(const std::string &cgroup_dir) {
  make_cgroup_dir(cgroup_dir);
  pid_t pid = spawn_in_cgroup(cgroup_dir, {"/bin/true"});
  ::waitpid(pid, nullptr, 0);
  remove_cgroup_dir(cgroup_dir);
}

void lifecycle_cycles(const std::string &base, int from, int to) {
  for (int i = from; i < to; ++i)
    lifecycle_cycle(base + "/c" + std::to_string(i % 64));
}

std::string read_trimmed(const std::string &path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  while (!s.empty() && s.back() == '\n')
    s.pop_back();
  return s;
}

} // namespace ballast::test
