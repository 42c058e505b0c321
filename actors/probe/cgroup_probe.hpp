// A read-only view of one cgroup's files, shared by the cgroup actor and the
// policies it spawns. Policies that sample the same cgroup read its files
// once per period, through one set of cached fds, whatever the number of
// processes enrolled. It also owns the cgroup's series (pressure, memory,
// CPU): they exist while anyone holds the probe, and are removed when the
// last holder — the cgroup actor or one of its policies — is gone.
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "actors/metrics/kernel_counter.hpp"
#include "sys/cgroupfs.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ballast {

class cgroup_probe {
public:
  cgroup_probe(sys::cgroup_dir dir, std::shared_ptr<agent_metrics> metrics);
  ~cgroup_probe();
  cgroup_probe(const cgroup_probe &) = delete;
  cgroup_probe &operator=(const cgroup_probe &) = delete;

  const std::string &path() const { return path_; }

  // Unless the last sample is younger than most of `period`, reads
  // {cpu,memory,io}.pressure, cpu.stat, memory.current and memory.events
  // (the memory files only where the controller is enabled) and exports
  // them; a growing oom_kill count is logged. Thread-safe.
  // now: the caller's actor clock (simulated in deterministic tests).
  void export_stats(std::chrono::steady_clock::duration period,
                    std::chrono::steady_clock::time_point now);

  // memory.events read now and exported, a grown oom_kill logged: called
  // when the kernel says the file changed (file_watch). Thread-safe.
  void memory_events_changed();

  // One control file, read now through the cached fds. Thread-safe.
  result<std::string> read(std::string_view file);

private:
  void export_pressure();
  void export_cpu();
  void export_memory(std::chrono::steady_clock::time_point now);
  void export_memory_events();

  std::mutex mutex_;
  sys::cgroup_dir dir_;
  std::string path_;
  std::shared_ptr<agent_metrics> metrics_;
  std::map<std::string, kernel_counter> pressure_; // "cpu/some", ...
  kernel_counter cpu_;
  std::map<std::string, kernel_counter> memory_events_; // "oom_kill", ...
  prometheus::Gauge *memory_ = nullptr;
  // memory.* missing (controller off): not looked for again for a minute;
  // enabling the controller later makes the files appear.
  std::optional<std::chrono::steady_clock::time_point> memory_absent_;
  std::optional<std::chrono::steady_clock::time_point> sampled_;
};

} // namespace ballast
