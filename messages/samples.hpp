// Samples a source computed in the kernel and hands to the cgroup actors:
// the sched source's read of its maps and the GPU source's read of its
// clients, one sample per cgroup. Local only
// (never sent to another node), but each type has an `inspect` like every
// message.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ballast {

// A process's on-CPU time, cumulative since the sched source started.
struct process_cpu {
  int32_t pid = 0; // tgid
  uint64_t oncpu_ns = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, process_cpu &x) {
  return f(caf::meta::type_name("ballast.process_cpu"), x.pid, x.oncpu_ns);
}

// One cgroup in one read of the sched source's maps. On-CPU times are
// cumulative since the source started (a restart starts them again from 0);
// the histograms are this interval's, as log2 slot counts of nanoseconds
// (log2_histogram's layout, trailing empty slots dropped).
struct sched_sample {
  uint64_t cgroup_id = 0;
  uint64_t ktime_ns = 0;    // CLOCK_MONOTONIC of the read
  uint64_t interval_ns = 0; // since the previous read
  uint64_t loaded_ns = 0;   // CLOCK_MONOTONIC when the source loaded: totals count from then
  uint64_t oncpu_ns = 0;
  uint64_t weighted_ns = 0;           // by cur/max CPU frequency; = oncpu_ns without cpufreq
  std::vector<uint64_t> runq;         // queued (enqueue, wakeup, preemption) -> on CPU
  std::vector<uint64_t> futex;        // asleep in futex wait syscalls
  std::vector<uint64_t> io;           // block requests, issue -> complete
  std::vector<process_cpu> processes; // those that ran in this cgroup this interval
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, sched_sample &x) {
  return f(caf::meta::type_name("ballast.sched_sample"), x.cgroup_id, x.ktime_ns, x.interval_ns,
           x.loaded_ns, x.oncpu_ns, x.weighted_ns, x.runq, x.futex, x.io, x.processes);
}

// A cgroup's scheduler signals as its actor keeps them, for a policy over a
// group of cgroups (cpu_weight): the last interval of the sched source.
struct sched_signals {
  uint64_t cgroup_id = 0;
  bool fresh = false;    // fed by the source within three of its intervals
  double cpu_cores = 0;  // on-CPU seconds per second
  double runq_p99_s = 0; // 0 where nothing waited
  uint64_t runq_waits = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, sched_signals &x) {
  return f(caf::meta::type_name("ballast.sched_signals"), x.cgroup_id, x.fresh, x.cpu_cores,
           x.runq_p99_s, x.runq_waits);
}

// Every cgroup the maps know of, in one read (a cgroup none of whose tasks
// ran since the source loaded has none).
struct sched_batch {
  uint64_t loaded_ns = 0;   // CLOCK_MONOTONIC when the source loaded
  uint64_t interval_ns = 0; // since the previous read
  std::vector<sched_sample> samples;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, sched_batch &x) {
  return f(caf::meta::type_name("ballast.sched_batch"), x.loaded_ns, x.interval_ns, x.samples);
}

// One engine of one GPU: busy time of a cgroup's clients, cumulative since
// the GPU source started (origin_ns).
struct gpu_engine_time {
  std::string device; // PCI address, or the driver of a platform device
  std::string engine; // the driver's name: render, copy, video, gfx, compute, ...
  uint64_t ns = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, gpu_engine_time &x) {
  return f(caf::meta::type_name("ballast.gpu_engine_time"), x.device, x.engine, x.ns);
}

// One memory region of one GPU held by a cgroup's clients now.
struct gpu_memory {
  std::string device;
  std::string region; // vram, gtt, system0, local0, ...
  uint64_t bytes = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, gpu_memory &x) {
  return f(caf::meta::type_name("ballast.gpu_memory"), x.device, x.region, x.bytes);
}

// One cgroup in one read of the GPU source.
struct gpu_sample {
  uint64_t cgroup_id = 0;
  uint64_t origin_ns = 0; // CLOCK_MONOTONIC when the source started: engine times count from then
  uint32_t clients = 0;   // open GPU clients in the cgroup now
  std::vector<gpu_engine_time> engines;
  std::vector<gpu_memory> memory;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, gpu_sample &x) {
  return f(caf::meta::type_name("ballast.gpu_sample"), x.cgroup_id, x.origin_ns, x.clients,
           x.engines, x.memory);
}

// Every cgroup with GPU clients (or that had some), in one read.
struct gpu_batch {
  std::vector<gpu_sample> samples;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, gpu_batch &x) {
  return f(caf::meta::type_name("ballast.gpu_batch"), x.samples);
}

} // namespace ballast
