#include "sys/spawn.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ballast::sys {

namespace {

// What the child needs, built before the clone: no allocation after it.
struct prepared {
  std::vector<char *> argv, env;
  int devnull = -1;
  int procs_fd = -1; // the fallback's cgroup.procs
  sigset_t blocked;
  // Set by a child that shares the parent's memory when its exec failed.
  mutable int exec_errno = 0;
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
  p.exec_errno = errno;
  ::_exit(127);
}

void exec_child_entry(const prepared *p) {
  exec_child(*p);
}

// clone3 that shares the parent's memory until the child execs (CLONE_VM |
// CLONE_VFORK, as posix_spawn does): nothing of the agent's address space
// is copied for a child that only execs, which a plain fork of the agent
// spends milliseconds on (its page tables), and its exec again tearing the
// copy down. The child starts on `stack` with nothing to return to, so it
// is sent straight into exec_child_entry; syscall keeps r12 and r13.
long clone3_vfork(clone_args &args, const prepared &p) {
#if defined(__x86_64__)
  long ret;
  register auto entry asm("r12") = &exec_child_entry;
  register auto arg asm("r13") = &p;
  asm volatile("syscall\n\t"
               "test %%rax, %%rax\n\t"
               "jnz 1f\n\t"
               "mov %%r13, %%rdi\n\t"
               "call *%%r12\n\t"
               "ud2\n"
               "1:"
               : "=a"(ret)
               : "0"(long(SYS_clone3)), "D"(&args), "S"(sizeof args), "r"(entry), "r"(arg)
               : "rcx", "r11", "memory");
  if (ret < 0) {
    errno = int(-ret);
    return -1;
  }
  return ret;
#else
  args.flags &= ~uint64_t(CLONE_VM | CLONE_VFORK); // a plain fork elsewhere
  args.stack = args.stack_size = 0;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0)
    exec_child(p);
  return pid;
#endif
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
  bool into = req.cgroup_dirfd >= 0;
  args.flags = CLONE_PIDFD | CLONE_VM | CLONE_VFORK | (into ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = into ? static_cast<uint64_t>(req.cgroup_dirfd) : 0;
  // The child's stack until it execs (the parent waits meanwhile).
  std::vector<char> stack(64 * 1024);
  args.stack = reinterpret_cast<uint64_t>(stack.data());
  args.stack_size = stack.size() & ~size_t(15);
  long pid = clone3_vfork(args, p);
  spawned out;
  if (pid > 0 && p.exec_errno != 0) {
    siginfo_t gone{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &gone, WEXITED); // reap it
    ::close(pidfd);
    ::close(p.devnull);
    return errno_error(p.exec_errno, "exec", req.argv[0]);
  }
  if (pid > 0) {
    out = {static_cast<int>(pid), pidfd, into};
  } else if (errno == ENOSYS || errno == E2BIG || errno == EINVAL) {
    // No clone3 or no CLONE_INTO_CGROUP here: the child joins by itself.
    p.procs_fd = into ? ::openat(req.cgroup_dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC) : -1;
    if (into && p.procs_fd < 0) {
      int e = errno;
      ::close(p.devnull);
      return errno_error(e, "open", "cgroup.procs");
    }
    pid = ::fork();
    if (pid == 0)
      exec_child(p);
    int e = errno;
    if (into)
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
