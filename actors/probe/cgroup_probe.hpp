// A read-only view of one cgroup's files, shared by the cgroup actor and the
// policies it spawns. Policies that sample the same cgroup read its files
// once per period, through one set of cached fds, whatever the number of
// processes enrolled. It also owns the cgroup's series (pressure, memory,
// CPU): they exist while anyone holds the probe, and are removed when the
// last holder — the cgroup actor or one of its policies — is gone. A probe
// made without series (the registry's cardinality cap) reads the same files
// and keeps the same windows, and exports nothing.
//
// It keeps the cgroup's scheduler windows (sched_windows), fed the sched
// source's samples by the cgroup actor, and the on-CPU time of the
// processes that ran in it, which telemetry exports, and the series of the
// GPU source's samples.
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "actors/metrics/gpu_series.hpp"
#include "actors/metrics/kernel_counter.hpp"
#include "actors/probe/sched_heartbeat.hpp"
#include "actors/signals/sched_windows.hpp"
#include "messages/samples.hpp"
#include "sys/cgroupfs.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ballast {

class cgroup_probe {
public:
  // sched: whether the sched source reads (see process_oncpu); may be null.
  cgroup_probe(sys::cgroup_dir dir, std::shared_ptr<agent_metrics> metrics,
               std::shared_ptr<const sched_heartbeat> sched, bool series = true);
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

  // The sched source's sample of this cgroup: into the windows, and the
  // on-CPU series. Thread-safe.
  void add_sched_sample(const sched_sample &s, std::chrono::steady_clock::time_point now);
  // The windows as of the last sample, if the source fed one within three
  // of its intervals before `now` (the caller's actor clock).
  std::optional<sched_view> sched(std::chrono::steady_clock::time_point now) const;
  // What the sched source counts of one process, for telemetry.
  struct process_oncpu {
    uint64_t loaded_ns = 0;           // the source's load: its counts start there
    std::optional<uint64_t> oncpu_ns; // since then; nullopt: not seen running here
  };
  // nullopt unless the sched source fed this cgroup a sample within the last
  // three of its intervals or, where it fed none, read within that time
  // (it is off, has failed, or has not read yet). now: the caller's actor
  // clock.
  std::optional<process_oncpu> sched_process(int32_t pid,
                                             std::chrono::steady_clock::time_point now) const;
  // The process is gone from the cgroup: forget its figure.
  void forget_process(int32_t pid);

  // The GPU source's sample of this cgroup: into its GPU series.
  // Thread-safe.
  void add_gpu_sample(const gpu_sample &s);

private:
  void export_pressure();
  void export_cpu();
  void export_memory(std::chrono::steady_clock::time_point now);
  void export_memory_events();

  void export_waits();

  mutable std::mutex mutex_;
  bool series_;
  sys::cgroup_dir dir_;
  std::string path_;
  std::shared_ptr<agent_metrics> metrics_;
  std::shared_ptr<const sched_heartbeat> heartbeat_;
  std::map<std::string, kernel_counter> pressure_; // "cpu/some", ...
  kernel_counter cpu_;
  std::map<std::string, kernel_counter> memory_events_; // "oom_kill", ...
  prometheus::Gauge *memory_ = nullptr;
  // memory.* missing (controller off): not looked for again for a minute;
  // enabling the controller later makes the files appear.
  std::optional<std::chrono::steady_clock::time_point> memory_absent_;
  std::optional<std::chrono::steady_clock::time_point> sampled_;
  std::optional<sched_windows> sched_;
  sched_heartbeat fed_; // this cgroup's samples, on the caller's clock
  std::unordered_map<int32_t, uint64_t> process_oncpu_ns_;
  kernel_counter oncpu_, oncpu_weighted_;
  uint64_t sched_loaded_ns_ = 0;                 // of the sched source whose totals oncpu_ counts
  std::vector<prometheus::Gauge *> wait_series_; // {runq, futex, io} x {p50, p99}
  gpu_series gpu_;
};

} // namespace ballast
