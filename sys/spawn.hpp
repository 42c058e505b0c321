// Starting a process directly inside a cgroup: clone3(CLONE_INTO_CGROUP |
// CLONE_PIDFD) where the kernel has it (5.7+), so the process never runs a
// single instruction outside its cgroup; else fork, the child moving itself
// into the cgroup (cgroup.procs) before it execs. Either way the caller
// gets a pidfd (pidfd_open for the fallback) to watch the process by.
#pragma once

#include "sys/result.hpp"

#include <string>
#include <vector>

namespace ballast::sys {

struct spawned {
  int pid = -1;
  int pidfd = -1;           // owned by the caller
  bool into_cgroup = false; // clone3(CLONE_INTO_CGROUP), not the fallback
};

struct spawn_request {
  std::vector<std::string> argv; // argv[0] is the program's path (no PATH search)
  std::vector<std::string> env;  // "K=V", the whole environment
  int cgroup_dirfd = -1;         // an O_RDONLY|O_DIRECTORY fd of the cgroup; -1: the caller's
  // Blocked when the program starts (the rest unblocked), so a signal that
  // comes before it has set up its handling waits instead of killing it.
  std::vector<int> blocked_signals;
};

// Starts the program with stdin, stdout and stderr on /dev/null and every
// other fd closed (close_range). Safe to call from a multithreaded process:
// the child only calls async-signal-safe functions before execve.
result<spawned> spawn_in_cgroup(const spawn_request &req);

// A pidfd for a running process (pidfd_open), e.g. one a previous agent
// started; the caller checks that the pid is still the same process.
result<int> open_pidfd(int pid);

} // namespace ballast::sys
