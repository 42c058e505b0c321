// NVIDIA GPUs' clients, from NVML, in the shape of DRM fdinfo clients so the
// GPU reader counts them as it counts any other: a process with a context on
// a device is one client (NVML has no client ids; the pid is the id), its
// memory is what NVML says it uses (region "vram"), and its engine times
// ("sm", "enc", "dec") are cumulative since it was first seen, built from the
// driver's utilization samples.
//
// The driver samples every process on a device at the same instants and
// leaves out the ones that were idle; so a process's busy share between two
// reads is the sum of its percentages over the number of distinct sampling
// instants on the device, and its growth is that share of the time between
// the reads. The first read only sets the baseline (the samples before it
// are from before the agent).
#pragma once

#include "sys/drm_fdinfo.hpp"
#include "sys/nvml.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ballast {

class nvml_clients {
public:
  explicit nvml_clients(sys::nvml library);

  const std::vector<std::string> &devices() const { return library_.devices(); }

  struct client {
    int pid = 0;
    sys::drm_client usage; // driver "nvidia", pdev the device, id the pid
  };
  struct clients_read {
    std::vector<client> clients;
    std::vector<std::string> errors; // a device NVML could not read this time
  };
  clients_read read(uint64_t now_ns);

private:
  sys::nvml library_;
  std::vector<uint64_t> last_sample_us_; // per device: the newest sample read
  std::map<std::pair<size_t, uint32_t>, std::map<std::string, uint64_t>>
      engine_ns_; // (device, pid) -> engine -> cumulative
  uint64_t read_ns_ = 0;
};

} // namespace ballast
