// Data messages of the agent: lifecycle events from the sources, claims and
// actions to the knobs' owners, and the status replies that ballastctl and
// the tests read. Each type has an `inspect` so it crosses the network
// unchanged.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ballast {

enum class event_kind : uint8_t {
  cgroup_mkdir = 1,
  cgroup_rmdir = 2,
  attach = 3, // a process (thread-group leader) moved into a cgroup
  exec = 4,
  exit = 5,
};

// Label value for ballast_cgroup_events_total{kind}.
const char *to_string(event_kind k);

// One cgroup or process lifecycle event, from the kernel or from a scan.
struct cgroup_event {
  event_kind kind = event_kind::attach;
  int32_t pid = 0;        // 0 for mkdir/rmdir
  uint32_t uid = 0;       // real uid of the process
  uint64_t cgroup_id = 0; // inode of the cgroup directory
  uint64_t ktime_ns = 0;  // CLOCK_MONOTONIC when the kernel saw it
  std::string comm;
  std::string path; // cgroup path for mkdir/rmdir/attach: "/a/b"
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, cgroup_event &x) {
  return f(caf::meta::type_name("ballast.cgroup_event"), x.kind, x.pid, x.uid, x.cgroup_id,
           x.ktime_ns, x.comm, x.path);
}

// What the source drained from the ring buffer in one wake-up: one event when
// idle, many under load.
struct event_batch {
  std::vector<cgroup_event> events;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, event_batch &x) {
  return f(caf::meta::type_name("ballast.event_batch"), x.events);
}

// The kernel-side drop counter moved: `total` records were lost so far.
struct events_lost {
  uint64_t total = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, events_lost &x) {
  return f(caf::meta::type_name("ballast.events_lost"), x.total);
}

// The current member pids of one cgroup, from a scan; the cgroup actor
// reconciles its processes against it.
struct cgroup_members {
  std::vector<int32_t> pids;
  uint64_t ktime_ns = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, cgroup_members &x) {
  return f(caf::meta::type_name("ballast.cgroup_members"), x.pids, x.ktime_ns);
}

// A policy (or the control interface, or the config) asks the knob's owner —
// its cgroup's actor, or the host actor for a system knob — to hold knob at
// value. The highest priority wins; among equals, the latest claim.
struct claim_request {
  std::string knob; // a knob table name: "memory.high", "vm.swappiness"
  std::string value;
  int32_t priority = 0;
  std::string reason; // logged with the write
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, claim_request &x) {
  return f(caf::meta::type_name("ballast.claim_request"), x.knob, x.value, x.priority, x.reason);
}

// The cgroup actor's answer: the value the knob holds now (the winning claim)
// and whether this claim is the winning one.
struct claim_reply {
  std::string effective_value;
  bool winning = false;
  bool dry_run = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, claim_reply &x) {
  return f(caf::meta::type_name("ballast.claim_reply"), x.effective_value, x.winning, x.dry_run);
}

// A policy asks its cgroup actor for a one-off action, with nothing to
// restore afterwards: an action of the knob table (memory.reclaim, value
// bytes; cgroup.kill, value "1"; kill, value a pid of the cgroup). The reply
// is true once done, false in dry-run (logged, not done).
struct action_request {
  std::string action;
  std::string value;
  std::string reason; // logged with the action
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, action_request &x) {
  return f(caf::meta::type_name("ballast.action_request"), x.action, x.value, x.reason);
}

// A knob write done on a knob_writer thread, back to the actor that owns the
// knob; error is empty on success, code its errno (0 if none).
struct write_done {
  uint64_t seq = 0;
  std::string error;
  int32_t code = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, write_done &x) {
  return f(caf::meta::type_name("ballast.write_done"), x.seq, x.error, x.code);
}

// One standing claim, as reported by a cgroup actor.
struct claim_info {
  std::string knob;
  std::string value;
  int32_t priority = 0;
  uint64_t owner = 0; // actor id of the claiming policy
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, claim_info &x) {
  return f(caf::meta::type_name("ballast.claim_info"), x.knob, x.value, x.priority, x.owner);
}

// What a cgroup actor knows about its cgroup.
struct cgroup_status {
  std::string path;
  uint64_t id = 0;
  std::vector<int32_t> pids;         // member processes it tracks
  std::vector<std::string> policies; // "policy:pid" of live policy actors
  std::vector<claim_info> claims;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, cgroup_status &x) {
  return f(caf::meta::type_name("ballast.cgroup_status"), x.path, x.id, x.pids, x.policies,
           x.claims);
}

} // namespace ballast
