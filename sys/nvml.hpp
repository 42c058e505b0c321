// NVIDIA's management library, loaded at run time: libnvidia-ml.so.1 is
// there on hosts with the NVIDIA driver and nowhere else, so it is never a
// build dependency. Only what the GPU source needs: the devices (by PCI
// address, spelled as drm-pdev spells it), the processes holding memory on
// each, and the per-process engine utilization samples the driver keeps.
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ballast::sys {

struct nvml_process {
  uint32_t pid = 0;
  uint64_t memory = 0; // bytes on the device; 0 where the driver does not say
};

// One of the driver's samples of a process's use, in percent of the device
// over the sample's period (a driver-chosen fraction of a second).
struct nvml_utilization {
  uint32_t pid = 0;
  uint64_t timestamp_us = 0; // CPU time of the sample, as the driver gives it
  uint32_t sm = 0, memory = 0, encoder = 0, decoder = 0;
};

class nvml {
public:
  // Loads the library and initializes it; an error says why not (no such
  // library, a symbol missing, nvmlInit failed).
  static result<nvml> open(const std::string &library);

  nvml(nvml &&) noexcept;
  nvml &operator=(nvml &&) noexcept;
  ~nvml(); // nvmlShutdown, then unloads the library

  // PCI address of each device ("0000:01:00.0"), in NVML's index order.
  const std::vector<std::string> &devices() const { return devices_; }

  // Processes with compute or graphics contexts on a device (once each).
  result<std::vector<nvml_process>> processes(size_t device) const;

  // Samples newer than since_us (0: every sample the driver still has);
  // none when there is nothing new.
  result<std::vector<nvml_utilization>> utilization(size_t device, uint64_t since_us) const;

private:
  struct api;
  explicit nvml(std::unique_ptr<api> a);

  std::unique_ptr<api> api_;
  std::vector<void *> handles_; // nvmlDevice_t, by index
  std::vector<std::string> devices_;
};

} // namespace ballast::sys
