// The agent's configuration as plain structs (the IR). JSON is parsed and
// validated in config/parse.cpp; nothing outside config/ sees JSON types.
// Every error names the field path and the rule it broke:
//   "policies[1].interval: must be at least 10ms".
// In the JSON a key "//" holding a string is a comment, allowed anywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballast::config {

using std::chrono::milliseconds;

// Which processes a policy enrols. Every present field must match.
struct selector {
  std::vector<std::string> cgroups = {"/**"}; // globs over cgroup paths
  std::string comm;                           // ECMAScript regex, full match; "" = any
  std::string exe;                            // ECMAScript regex, full match; "" = any
  std::vector<uint32_t> uids;                 // empty = any uid
  bool operator==(const selector &) const = default;
};

// What a policy's params become when the config is checked: its type's own
// settings (see compile in actors/policies/policy.hpp), typed there, opaque
// here. Derived from the rest of the policy, so it takes no part in
// equality, the canonical form or the wire form: a config that crosses the
// network is checked (and so compiled) again where it lands.
struct compiled_settings {
  std::shared_ptr<const void> value;
  bool operator==(const compiled_settings &) const { return true; }
};

struct policy {
  std::string name;            // unique among policies; used in metrics labels
  std::string type;            // a name from the policy table ("telemetry", ...)
  milliseconds interval{1000}; // 10ms..60m
  selector select;
  // Policy-specific parameters, kept as canonical JSON text so this header
  // stays free of JSON types; its type reads them once, at the check.
  std::string params = "{}";
  compiled_settings settings;
  bool operator==(const policy &) const = default;
};

// A system-wide knob of the knob table held at a value while the agent runs
// (and put back when it stops): "host": {"settings": {"vm.swappiness": 10}}.
struct host_setting {
  std::string knob; // "vm.swappiness", "cpufreq.scaling_max_freq:0"
  std::string value;
  bool operator==(const host_setting &) const = default;
};

// Admission of jobs by host pressure (/proc/pressure): a job whose priority
// is at most max_priority is refused while one of the limits is exceeded
// (avg10 above it). A job takes the first band (by max_priority) that
// holds its priority; none: admitted.
struct pressure_limit {
  std::string resource; // "memory.some", "memory.full", "cpu.some", "io.some", "io.full"
  double avg10 = 0;     // %
  bool operator==(const pressure_limit &) const = default;
};

struct admission_band {
  int32_t max_priority = 100;
  std::vector<pressure_limit> limits;
  bool operator==(const admission_band &) const = default;
};

// One rule of the jobs' response to host pressure: it acts while its
// pressure (the share of the last interval stalled, %, from /proc/pressure;
// or the job root's PSI trigger at `above` firing) is above `above`, at most
// once per cooldown, and is undone once the pressure has stayed below
// `below` for the response's hold. enabled false: the rule never acts.
struct response_rule {
  bool enabled = true;
  std::string pressure; // "memory.some", "memory.full", "cpu.some", "io.some", "io.full"
  double above = 0;     // %
  double below = 0;     // %, at most above
  milliseconds cooldown{5000};
  bool operator==(const response_rule &) const = default;
};

// The host-wide response over the jobs of priority <= max_priority (the
// others are never touched): freeze the lowest priority (ties: the largest
// memory.current) and thaw one at a time, highest priority first; kill the
// lowest priority, after kill_hook (a shell command) has had kill_hook_time;
// set the cpu.weight of every such job to demote_weight and put it back;
// freeze the one with the most IO in the last interval.
struct job_response {
  int32_t max_priority = 50;
  milliseconds interval{1000}; // 100ms..1min
  milliseconds hold{10000};    // 0..1h
  response_rule freeze{true, "memory.some", 40, 10, milliseconds{5000}};
  response_rule kill{true, "memory.full", 60, 0, milliseconds{10000}};
  std::string kill_hook;
  milliseconds kill_hook_time{5000}; // 0..10min
  response_rule demote{true, "cpu.some", 60, 20, milliseconds{5000}};
  uint32_t demote_weight = 10; // 1..10000
  response_rule io_freeze{true, "io.full", 40, 10, milliseconds{5000}};
  bool operator==(const job_response &) const = default;
};

struct agent {
  std::string metrics_address = "127.0.0.1";
  uint16_t metrics_port = 9464;
  // Cgroups with per-cgroup series (globs), and at most how many: a watched
  // cgroup past the cap is counted in ballast_cgroup_series_left_out_total.
  std::vector<std::string> metrics_cgroups = {"/**"};
  uint32_t metrics_max_cgroups = 256;
  // The sched source (bpf/sched.bpf.c): on-CPU time, run-queue delay, futex
  // wait and block IO latency, its maps read every sched_interval.
  bool sched_enabled = true;
  milliseconds sched_interval{1000}; // 100ms..60s
  // The GPU source: per-cgroup GPU engine time and memory from DRM fdinfo,
  // read every gpu_interval; every process's fds walked every gpu_rescan
  // for new clients.
  bool gpu_enabled = true;
  milliseconds gpu_interval{5000}; // 1s..10min
  milliseconds gpu_rescan{30000};  // 1s..1h
  std::string journal_path = "/run/ballast/journal";
  bool dry_run = false;
  milliseconds shutdown_deadline{190};   // 10ms..60s
  uint32_t ring_buffer_bytes = 1u << 20; // power of two, 4 KiB..1 GiB
  // Cgroups that get an actor (globs); a cgroup is watched if it matches an
  // include and no exclude.
  std::vector<std::string> watch_include = {"/**"};
  std::vector<std::string> watch_exclude;
  std::vector<policy> policies;
  std::vector<host_setting> host_settings; // sorted by knob
  // The control interface (ballastctl, a coordinator): loopback by default;
  // any other address needs TLS with certificate, key and CA (mutual).
  std::string control_address = "127.0.0.1";
  uint16_t control_port = 9465;
  std::string tls_certificate; // PEM files; all three or none
  std::string tls_key;
  std::string tls_ca;
  // Who may change things without TLS: root and members of control_group,
  // the readers of the cookie file the agent writes at start. Reads (status,
  // cgroups, policies, watch) are open to every local user unless closed.
  std::string control_cookie = "/run/ballast/control.cookie";
  std::string control_group = "ballast";
  bool control_open_reads = true;
  // Jobs (ballastctl run): their cgroups go under jobs_root (a cgroup path),
  // their state and logs under jobs_dir; each log keeps at most 2 x
  // jobs_log_max bytes (rotated once).
  std::string jobs_root = "/ballast-jobs";
  std::string jobs_dir = "/var/lib/ballast/jobs";
  uint64_t jobs_log_max = 8u << 20;
  std::vector<admission_band> jobs_admission; // sorted by max_priority
  job_response jobs_response;
  bool operator==(const agent &) const = default;
};

struct config_error {
  std::string path; // "policies[1].interval"
  std::string rule; // "must be at least 10ms"
  std::string to_string() const { return path.empty() ? rule : path + ": " + rule; }
};

struct parse_result {
  std::optional<agent> value;       // set only when errors is empty
  std::vector<config_error> errors; // every error found, not just the first
};

// Parses and validates JSON text. known_policy_types is the policy table's
// list of names; a policy of another type is an error.
parse_result parse(std::string_view json_text, const std::vector<std::string> &known_policy_types);

// Reads the file and parses it; a missing or unreadable file is one error
// with an empty path that names the file.
parse_result parse_file(const std::string &file,
                        const std::vector<std::string> &known_policy_types);

// The embedded default configuration (JSON text), useful on any host:
// telemetry for the processes of every cgroup.
std::string_view default_config_json();

// "250ms", "1s", "2m" -> milliseconds. Accepts ms, s, m units; integer values.
std::optional<milliseconds> parse_duration(std::string_view text);

// "64M", "1G", "4096" -> bytes (K, M, G, T are binary units); "max" is the
// largest value (no limit).
std::optional<uint64_t> parse_bytes(std::string_view text);

// Glob match over cgroup paths: '*' matches within one path component,
// '**' matches any number of components (including none), '?' one character.
// "/**" matches every path including "/".
bool glob_match(std::string_view pattern, std::string_view path);

// A short stable hash of the canonical config (hex), for status displays.
std::string config_hash(const agent &a);

} // namespace ballast::config
