// A read-only view of one cgroup's files, shared by the cgroup actor and the
// policies it spawns. Policies that sample the same cgroup read its files
// once per period, through one set of cached fds, whatever the number of
// processes enrolled. It also owns the cgroup's pressure series: they exist
// while anyone holds the probe, and are removed when the last holder — the
// cgroup actor or one of its policies — is gone.
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/psi.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace ballast {

class cgroup_probe {
public:
  cgroup_probe(sys::cgroup_dir dir, std::shared_ptr<agent_metrics> metrics);
  ~cgroup_probe();
  cgroup_probe(const cgroup_probe&) = delete;
  cgroup_probe& operator=(const cgroup_probe&) = delete;

  const std::string& path() const { return path_; }

  // Reads {cpu,memory,io}.pressure unless the last sample is younger than
  // most of `period`, and exports the stall totals as
  // ballast_cgroup_pressure_stall_seconds_total. Thread-safe.
  void export_pressure(std::chrono::steady_clock::duration period);

private:
  struct series {
    prometheus::Counter* some = nullptr;
    prometheus::Counter* full = nullptr;
    uint64_t some_us = 0;  // the kernel's totals at the last sample
    uint64_t full_us = 0;
  };

  std::mutex mutex_;
  sys::cgroup_dir dir_;
  std::string path_;
  std::shared_ptr<agent_metrics> metrics_;
  std::array<series, 3> series_{};  // cpu, memory, io; created on first export
  std::optional<std::chrono::steady_clock::time_point> sampled_;
};

} // namespace ballast
