// Jobs: commands run by the agent in cgroups it creates (ballastctl run).
// What ballastctl sends and gets back; every type crosses the network.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ballast {

// Proof that a client runs as `uid`: a regular file at `path`, owned by uid,
// holding `nonce`, a secret the agent handed out moments before. Only that
// user (or root) can make such a file.
struct identity_proof {
  uint32_t uid = 0;
  std::string path;
  std::string nonce;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, identity_proof &x) {
  return f(caf::meta::type_name("ballast.identity_proof"), x.uid, x.path, x.nonce);
}

// One limit of a job: a knob of its cgroup and the value written at its
// creation ("memory.max", "512M" already in bytes). The option that set it
// is the knob's name with '-' for '.': --memory-max.
struct job_limit {
  std::string knob;
  std::string value;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, job_limit &x) {
  return f(caf::meta::type_name("ballast.job_limit"), x.knob, x.value);
}

struct job_request {
  std::string id; // [A-Za-z0-9_.-]{1,64}, the cgroup's name under the job root
  std::vector<std::string> argv;
  std::vector<std::string> env; // K=V, the whole environment of the job
  std::string cwd;              // "" is /
  std::vector<job_limit> limits;
  int32_t priority = 50;                  // 0..100, higher is kept longer
  std::string service;                    // a sidecar shell command, run first
  std::vector<std::string> require_paths; // each must exist, or nothing starts
  std::string user;                       // run as this user (root only); "": the client
  bool queue = false;                     // wait for pressure to fall instead of a refusal
  int64_t queue_timeout_ms = 0;
  identity_proof proof;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, job_request &x) {
  return f(caf::meta::type_name("ballast.job_request"), x.id, x.argv, x.env, x.cwd, x.limits,
           x.priority, x.service, x.require_paths, x.user, x.queue, x.queue_timeout_ms, x.proof);
}

// A job as inspect shows it. state: running, exited (exit_code), killed
// (signal), failed (never ran: error), lost (its shim vanished without a
// word: the exit is unknown).
struct job_info {
  std::string id;
  std::string state;
  std::string cgroup; // relative to the cgroup2 root
  std::vector<std::string> argv;
  uint32_t uid = 0;
  int32_t priority = 0;
  int32_t pid = 0; // the main process
  int32_t exit_code = -1;
  int32_t signal = 0;
  std::string error;
  bool frozen = false;
  std::string frozen_by;    // "operator", or the response's rule: "freeze", "io_freeze"
  bool demoted = false;     // its cpu.weight lowered by the response
  uint64_t io_bytes = 0;    // read and written (io.stat), 0 where the io controller is off
  bool into_cgroup = false; // started by clone3(CLONE_INTO_CGROUP)
  double age_s = 0;
  double cpu_s = 0;
  uint64_t memory_current = 0; // 0 where the memory controller is off
  uint64_t memory_peak = 0;
  uint64_t oom_kills = 0;
  double cpu_some = 0, memory_some = 0, io_some = 0; // PSI avg10 %
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, job_info &x) {
  return f(caf::meta::type_name("ballast.job_info"), x.id, x.state, x.cgroup, x.argv, x.uid,
           x.priority, x.pid, x.exit_code, x.signal, x.error, x.frozen, x.frozen_by, x.demoted,
           x.io_bytes, x.into_cgroup, x.age_s, x.cpu_s, x.memory_current, x.memory_peak,
           x.oom_kills, x.cpu_some, x.memory_some, x.io_some);
}

// A command on one job, answered with the job as it is after it:
//   inspect   nothing else
//   wait      answered once the job has ended (at once if it has)
//   kill      signal `value` to the main process's process group; SIGKILL
//             after the end kills what the job left behind (cgroup.kill);
//             SIGKILL to a frozen job thaws it, so that it can die
//   freeze    a claim on the job cgroup's cgroup.freeze, held until thaw
//   thaw      that claim given back
//   remove    an ended, thawed job's cgroup and directory deleted
// and, from the agent's own response to pressure only (`rule` says which
// rule asks, `reason` why; an operator's command has neither):
//   demote    a claim on the job's cpu.weight at `value`
//   restore   that claim given back
// The response neither freezes a job an operator froze nor thaws one.
struct job_command {
  std::string id;
  std::string verb;
  int32_t value = 15;
  std::string rule;
  std::string reason;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, job_command &x) {
  return f(caf::meta::type_name("ballast.job_command"), x.id, x.verb, x.value, x.rule, x.reason);
}

// Where a reader of a job's log is: the log file (by inode) and the offset
// in it. {0, 0} is the start: everything kept (log.1, then log).
struct job_log_cursor {
  std::string id;
  uint64_t inode = 0;
  uint64_t offset = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, job_log_cursor &x) {
  return f(caf::meta::type_name("ballast.job_log_cursor"), x.id, x.inode, x.offset);
}

// The log read from a cursor, and the cursor after it; `ended` once the job
// has ended (a follower stops after this chunk).
struct job_log_chunk {
  std::string text;
  job_log_cursor next;
  bool ended = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, job_log_chunk &x) {
  return f(caf::meta::type_name("ballast.job_log_chunk"), x.text, x.next, x.ended);
}

// One line of the host's pressure (/proc/pressure), as `stats` shows it.
struct pressure_line {
  std::string resource;                    // "memory.some", "memory.full", "cpu.some", ...
  double avg10 = 0, avg60 = 0, avg300 = 0; // %
  uint64_t total_us = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, pressure_line &x) {
  return f(caf::meta::type_name("ballast.pressure_line"), x.resource, x.avg10, x.avg60, x.avg300,
           x.total_us);
}

} // namespace ballast
