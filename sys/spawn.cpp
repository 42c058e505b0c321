#include "sys/spawn.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ballast::sys {

namespace {

// What the child needs, built before the clone: no allocation after it.
struct prepared {
  std::vector<char *> argv, env;
  int devnull = -1;
  int procs_fd = -1; // the fallback's cgroup.procs
  sigset_t blocked;
};

// The child's side: async-signal-safe calls only (the parent has threads).
[[noreturn]] void exec_child(const prepared &p) {
  if (p.procs_fd >= 0 && ::write(p.procs_fd, "0", 1) != 1)
    ::_exit(126); // could not join the cgroup: never run outside it
  ::dup2(p.devnull, 0);
  ::dup2(p.devnull, 1);
  ::dup2(p.devnull, 2);
  ::syscall(SYS_close_range, 3u, ~0u, 0u);
  ::sigprocmask(SIG_SETMASK, &p.blocked, nullptr); // not the agent's own mask
  ::execve(p.argv[0], p.argv.data(), p.env.data());
  ::_exit(127);
}

std::vector<char *> c_strings(const std::vector<std::string> &v) {
  std::vector<char *> out;
  for (auto &s : v)
    out.push_back(const_cast<char *>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

} // namespace

result<int> open_pidfd(int pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0)
    return errno_error(errno, "pidfd_open", std::to_string(pid));
  return fd;
}

result<spawned> spawn_in_cgroup(const spawn_request &req) {
  if (req.argv.empty())
    return error{EINVAL, "spawn: no program"};
  prepared p;
  p.argv = c_strings(req.argv);
  p.env = c_strings(req.env);
  sigemptyset(&p.blocked);
  for (int sig : req.blocked_signals)
    sigaddset(&p.blocked, sig);
  p.devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (p.devnull < 0)
    return errno_error(errno, "open", "/dev/null");

  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(req.cgroup_dirfd);
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0)
    exec_child(p);
  spawned out;
  if (pid > 0) {
    out = {static_cast<int>(pid), pidfd, true};
  } else if (errno == ENOSYS || errno == E2BIG || errno == EINVAL) {
    // No clone3 or no CLONE_INTO_CGROUP here: the child joins by itself.
    p.procs_fd = ::openat(req.cgroup_dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (p.procs_fd < 0) {
      int e = errno;
      ::close(p.devnull);
      return errno_error(e, "open", "cgroup.procs");
    }
    pid = ::fork();
    if (pid == 0)
      exec_child(p);
    int e = errno;
    ::close(p.procs_fd);
    if (pid < 0) {
      ::close(p.devnull);
      return errno_error(e, "fork", req.argv[0]);
    }
    auto fd = open_pidfd(static_cast<int>(pid));
    out = {static_cast<int>(pid), fd ? *fd : -1, false};
  } else {
    int e = errno;
    ::close(p.devnull);
    return errno_error(e, "clone3", req.argv[0]);
  }
  ::close(p.devnull);
  return out;
}

} // namespace ballast::sys
