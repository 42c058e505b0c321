// Real cgroup and process churn against the kernel, for host tests and
// benchmarks: each call makes the events the agent's BPF programs see.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace ballast::test {

// Forks a child, moves it into the cgroup directory `cgroup_dir` (absolute
// path) by writing cgroup.procs — an attach while it is still the fork —
// then lets it exec argv. Returns the pid; throws on failure.
pid_t spawn_in_cgroup(const std::string &cgroup_dir, const std::vector<std::string> &argv);

// One full lifecycle: mkdir, attach, exec /bin/true, exit, rmdir.
void lifecycle_cycle(const std::string &cgroup_dir);

// Cycles number from to to-1, each in directory "c<number % 64>" under base
// (absolute path).
void lifecycle_cycles(const std::string &base, int from, int to);

// Kills and reaps.
void kill_and_reap(pid_t pid);

// mkdir -p for a cgroup directory, and rmdir that retries while the kernel
// still counts a just-reaped member (EBUSY).
void make_cgroup_dir(const std::string &dir);
void remove_cgroup_dir(const std::string &dir);

// A file's content without its trailing newlines ("" if it cannot be read).
std::string read_trimmed(const std::string &path);

} // namespace ballast::test
