// NVML's ABI as nvml.h declares it (the _v2/_v3 entry points, driver 450
// and later): the structs and return codes the GPU source uses, shared by
// the loader (nvml.cpp) and the tests' fake library.
#pragma once

namespace ballast::sys::nvml_abi {

using return_code = int;
using device = void *;
constexpr return_code success = 0;
constexpr return_code invalid_argument = 2;
constexpr return_code not_found = 6;
constexpr return_code insufficient_size = 7;
constexpr unsigned long long not_available = ~0ULL;

struct pci_info {
  char bus_id_legacy[16];
  unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
  char bus_id[32];
};
struct process_info {
  unsigned pid;
  unsigned long long used_gpu_memory;
  unsigned gpu_instance_id, compute_instance_id;
};
struct utilization_sample {
  unsigned pid;
  unsigned long long timestamp;
  unsigned sm, mem, enc, dec;
};

} // namespace ballast::sys::nvml_abi
