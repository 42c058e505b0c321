// The fake NVML; see fake_nvml.hpp.
#include "tests/support/fake_nvml.hpp"

#include "sys/nvml_abi.hpp"

#include <cstddef>
#include <vector>

namespace {

using namespace ballast::sys::nvml_abi;

struct fake_device {
  unsigned domain, bus, slot;
  std::vector<process_info> compute, graphics;
  std::vector<utilization_sample> samples;
};

int init_result = 0;
bool shut_down = false;
std::vector<fake_device> devices;

// NVML's protocol for a list: the count, and the items when they fit.
template <class T> int fill(const std::vector<T> &items, unsigned *count, T *out) {
  if (*count < items.size() || !out) {
    bool none = items.empty();
    *count = unsigned(items.size());
    return none ? success : insufficient_size;
  }
  *count = unsigned(items.size());
  for (std::size_t i = 0; i < items.size(); ++i)
    out[i] = items[i];
  return success;
}

fake_device *at(void *handle) {
  return static_cast<fake_device *>(handle);
}

} // namespace

extern "C" {

void fake_nvml_reset(int result) {
  init_result = result;
  shut_down = false;
  devices.clear();
  devices.reserve(16); // handles are pointers into it
}
void fake_nvml_add_device(unsigned domain, unsigned bus, unsigned slot) {
  devices.push_back({domain, bus, slot, {}, {}, {}});
}
void fake_nvml_add_process(unsigned d, unsigned pid, unsigned long long memory, int graphics) {
  (graphics ? devices[d].graphics : devices[d].compute).push_back({pid, memory, 0, 0});
}
void fake_nvml_clear_processes(unsigned d) {
  devices[d].compute.clear();
  devices[d].graphics.clear();
}
void fake_nvml_add_sample(unsigned d, unsigned pid, unsigned long long ts, unsigned sm,
                          unsigned enc, unsigned dec) {
  devices[d].samples.push_back({pid, ts, sm, 0, enc, dec});
}
int fake_nvml_shut_down() {
  return shut_down;
}

int nvmlInit_v2() {
  shut_down = false;
  return init_result;
}
int nvmlShutdown() {
  shut_down = true;
  return success;
}
const char *nvmlErrorString(int r) {
  return r == 9 ? "Driver Not Loaded" : "Unknown Error";
}
int nvmlDeviceGetCount_v2(unsigned *count) {
  *count = unsigned(devices.size());
  return success;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **handle) {
  if (i >= devices.size())
    return invalid_argument;
  *handle = &devices[i];
  return success;
}
int nvmlDeviceGetPciInfo_v3(void *handle, pci_info *pci) {
  *pci = {};
  pci->domain = at(handle)->domain;
  pci->bus = at(handle)->bus;
  pci->device = at(handle)->slot;
  return success;
}
int nvmlDeviceGetComputeRunningProcesses_v3(void *handle, unsigned *count, process_info *out) {
  return fill(at(handle)->compute, count, out);
}
int nvmlDeviceGetGraphicsRunningProcesses_v3(void *handle, unsigned *count, process_info *out) {
  return fill(at(handle)->graphics, count, out);
}
int nvmlDeviceGetProcessUtilization(void *handle, utilization_sample *out, unsigned *count,
                                    unsigned long long since) {
  std::vector<utilization_sample> newer;
  for (auto &s : at(handle)->samples)
    if (s.timestamp > since)
      newer.push_back(s);
  if (newer.empty())
    return not_found;
  return fill(newer, count, out);
}
}
