// A job's directory (jobs.dir/ID): what the agent and the job's shim
// (apps/ballast-job-shim.cpp) leave for each other, and for the next agent
// after a restart.
//   job.json   the agent's record of the job (below), written at its start
//   main.pid   the shim's: the main process's pid
//   status     the shim's, at the end: {"exit":N} or {"signal":N}, maybe "error"
//   log, log.1 the shim's: stdout and stderr, rotated at the size cap
#pragma once

#include "messages/jobs.hpp"
#include "sys/result.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace ballast::jobs {

// What a restarted agent needs to take a job back.
struct job_record {
  job_request request; // without the proof
  uint32_t uid = 0, gid = 0;
  std::string cgroup; // relative to the cgroup2 root
  int32_t shim_pid = 0;
  uint64_t shim_start_ticks = 0; // /proc/PID/stat starttime: the pid is this process
  bool into_cgroup = false;
  int64_t created_unix_ms = 0;
};

status write_record(const std::string &dir, const job_record &r);
result<job_record> read_record(const std::string &dir);

// How the main process ended, from the shim's status file (none yet: the
// shim has not ended, or died without writing it).
struct job_end {
  int32_t exit_code = -1;
  int32_t signal = 0;
  std::string error;
};
std::optional<job_end> read_end(const std::string &dir);

// The pid in main.pid; 0 while the shim has not written it.
int32_t read_main_pid(const std::string &dir);

// The log from `at` on, at most max_bytes of it (the newest, when more is
// kept): log.1 first where the cursor is before it, then log.
job_log_chunk read_log(const std::string &dir, const job_log_cursor &at, uint64_t max_bytes);

} // namespace ballast::jobs
