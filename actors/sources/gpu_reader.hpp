// The GPU source's reading, without actors: which processes hold GPU
// clients and what those clients used, per cgroup. A client is an open DRM
// file; its /proc/PID/fdinfo/FD says its device, client id, busy time per
// engine and resident memory per region (the kernel's drm-usage-stats,
// driver-independent, 5.19+). Several fds of one client (dup, fork) count
// once. Engine time is cumulative since the reader started: clients found by
// the first scan count from then, clients found later count whole (they
// opened after).
//
// NVIDIA devices are read through NVML instead where libnvidia-ml is there
// (their fdinfo has no engine times): see nvml_clients.hpp.
//
// discover() walks every /proc/PID/fd for links to /dev/dri/* (seconds
// apart: it readlinks every open fd on the host); read() re-reads only the
// fds found (every interval). Roots are injectable: tests run it on fixture
// trees.
#pragma once

#include "actors/sources/nvml_clients.hpp"
#include "messages/samples.hpp"
#include "sys/drm_fdinfo.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ballast {

class gpu_reader {
public:
  struct roots {
    std::string proc = "/proc";
    std::string sys = "/sys"; // devices under class/drm
    std::string cgroup = "/sys/fs/cgroup";
    std::string nvml = "libnvidia-ml.so.1"; // the library, as dlopen finds it
  };

  gpu_reader(roots r, uint64_t origin_ns);

  // DRM devices under /sys/class/drm (card*, renderD*), or NVML's.
  bool devices_present() const;

  // The devices read through NVML (PCI addresses); none where NVML is not
  // there, and then nvml_absent() says why.
  std::vector<std::string> nvml_devices() const;
  const std::string &nvml_absent() const { return nvml_absent_; }

  // A walk of every process's fds: the DRM clients' fds from now on, and the
  // cgroup of each process that holds one (processes move). Cgroups gone
  // from the tree are forgotten.
  void discover();

  struct gpu_read {
    gpu_sample host;                 // every client's (cgroup_id 0)
    std::vector<gpu_sample> cgroups; // each cgroup with clients, or that had some
    std::vector<std::string> errors; // what could not be read this time
  };
  // The known fds read now. now_ns: CLOCK_MONOTONIC (turns cycle counts
  // into time).
  gpu_read read(uint64_t now_ns);

private:
  using key = std::pair<std::string, std::string>; // (device, engine or region)

  struct client_state {
    std::map<std::string, sys::drm_engine_time> engines; // as last read
    uint64_t read_ns = 0;
    bool seen = false; // by this read
  };
  struct usage {
    std::string path;                  // of a cgroup
    std::map<key, uint64_t> engine_ns; // cumulative
    std::map<key, uint64_t> memory;    // now
    uint32_t clients = 0;
  };

  uint64_t cgroup_of(int pid);
  // The cgroup of a process as of the last walk (read now if it was not seen then).
  uint64_t cgroup_of_known(int pid);
  bool read_by_nvml(const std::string &device) const;
  gpu_sample sample_of(uint64_t cgroup_id, const usage &u) const;
  // A client's counts now: their growth into its cgroup's engine times and
  // the host's, its memory into theirs.
  void credit(const sys::drm_client &c, uint64_t cgroup_id, uint64_t now_ns);

  roots roots_;
  uint64_t origin_ns_;
  std::optional<nvml_clients> nvml_;
  std::string nvml_absent_;
  bool first_read_ = true;
  std::map<int, std::set<int>> drm_fds_;             // pid -> fds that were DRM files
  std::unordered_map<int, uint64_t> process_cgroup_; // pid -> cgroup id, as of the last walk
  std::map<std::pair<std::string, uint64_t>, client_state> clients_; // (device, client id)
  std::unordered_map<uint64_t, usage> cgroups_;
  usage host_;
  std::unordered_map<std::string, uint64_t> cgroup_ids_; // path -> id
};

} // namespace ballast
