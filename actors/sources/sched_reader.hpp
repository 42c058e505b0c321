// The kernel side of the sched source, without actors: loads and attaches
// bpf/sched.bpf.c through its skeleton and reads its maps on demand (no
// thread: a read is a few batched map lookups). What this kernel cannot
// show is left out at load with one warning each that names what will not
// be seen (a missing tracepoint, no cpufreq for weighting); the rest keeps
// working.
#pragma once

#include "actors/signals/log2_histogram.hpp"
#include "sys/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct sched;
struct ballast_sched_cpu;

namespace ballast {

// Cumulative since the programs were loaded.
struct sched_cgroup_totals {
  uint64_t oncpu_ns = 0;
  uint64_t weighted_ns = 0; // by cur/max frequency; = oncpu_ns without cpufreq
  log2_histogram runq, futex, io;
};

struct sched_process_totals {
  uint64_t cgroup_id = 0; // where it ran last
  uint64_t oncpu_ns = 0;
};

struct sched_totals {
  uint64_t ktime_ns = 0;  // CLOCK_MONOTONIC when read
  uint64_t loaded_ns = 0; // CLOCK_MONOTONIC when the programs were loaded
  std::unordered_map<uint64_t, sched_cgroup_totals> cgroups;
  std::unordered_map<int32_t, sched_process_totals> processes;
  std::vector<uint64_t> cpu_busy_ns; // by CPU number
};

class sched_reader {
public:
  struct limits {
    uint32_t cgroups = 8192;    // LRU bound of the per-cgroup maps
    uint32_t processes = 32768; // of the per-process map
  };

  // sys_root: where /sys is ("" on a host): cpufreq is looked for under it.
  static result<std::unique_ptr<sched_reader>> open(limits lim, const std::string &sys_root = "");
  ~sched_reader();
  sched_reader(const sched_reader &) = delete;
  sched_reader &operator=(const sched_reader &) = delete;

  // Everything so far, the slices that have been running since the last
  // read included (a CPU hog alone on a CPU may not be switched out for
  // seconds), all by the scheduler's clock. A total drops where an LRU map
  // dropped an entry, and may dip a little where a read raced a switch.
  result<sched_totals> read();

  bool frequency_weighted() const { return weighted_; }

private:
  sched_reader() = default;
  result<std::vector<::ballast_sched_cpu>> read_cpus() const;
  // ns on `cpu` at its current frequency scale (as the BPF side weighs).
  uint64_t weighted(uint32_t cpu, uint64_t ns) const;

  struct sched *skel_ = nullptr;
  uint64_t loaded_ns_ = 0;
  int ncpus_ = 0;
  std::vector<uint64_t> switches_seen_; // by CPU, at the last read
  bool weighted_ = false;
};

} // namespace ballast
