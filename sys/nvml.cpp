// nvml; see nvml.hpp.
#include "sys/nvml.hpp"
#include "sys/nvml_abi.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>

namespace ballast::sys {

namespace {

using namespace nvml_abi;
using nvml_return = return_code;
using device_t = device;

// The PCI address as the kernel writes drm-pdev (NVML has no function
// number: a GPU is function 0).
std::string pci_label(const pci_info &p) {
  char label[32];
  std::snprintf(label, sizeof label, "%04x:%02x:%02x.0", p.domain, p.bus, p.device);
  return label;
}

} // namespace

struct nvml::api {
  void *library = nullptr;
  bool initialized = false;
  nvml_return (*init)() = nullptr;
  nvml_return (*shutdown)() = nullptr;
  const char *(*error_string)(nvml_return) = nullptr;
  nvml_return (*count)(unsigned *) = nullptr;
  nvml_return (*handle)(unsigned, device_t *) = nullptr;
  nvml_return (*pci)(device_t, pci_info *) = nullptr;
  nvml_return (*compute)(device_t, unsigned *, process_info *) = nullptr;
  nvml_return (*graphics)(device_t, unsigned *, process_info *) = nullptr;
  nvml_return (*utilization)(device_t, utilization_sample *, unsigned *,
                             unsigned long long) = nullptr;

  ~api() {
    if (initialized)
      shutdown();
    if (library)
      ::dlclose(library);
  }

  error failure(const char *call, nvml_return r) const {
    return error{0, std::string(call) + ": " + error_string(r)};
  }

  // A list NVML fills in: asked for its size first, then again while it
  // grows in between.
  template <class T, class Call> result<std::vector<T>> list(const char *what, Call call) const {
    std::vector<T> items;
    unsigned count = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
      items.resize(count);
      auto r = call(items.empty() ? nullptr : items.data(), &count);
      if (r == success) {
        items.resize(std::min<size_t>(count, items.size()));
        return items;
      }
      if (r == not_found)
        return std::vector<T>{};
      if (r != insufficient_size)
        return failure(what, r);
    }
    return error{0, std::string(what) + ": the list kept growing"};
  }
};

nvml::nvml(std::unique_ptr<api> a) : api_(std::move(a)) {}
nvml::nvml(nvml &&) noexcept = default;
nvml &nvml::operator=(nvml &&) noexcept = default;
nvml::~nvml() = default;

result<nvml> nvml::open(const std::string &library) {
  if (library.empty()) // dlopen would hand back the program itself
    return error{0, "no NVML library named"};
  auto a = std::make_unique<api>();
  a->library = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!a->library)
    return error{0, ::dlerror()};
  std::string missing;
  auto bind = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(a->library, name));
    if (!fn && missing.empty())
      missing = name;
  };
  bind(a->init, "nvmlInit_v2");
  bind(a->shutdown, "nvmlShutdown");
  bind(a->error_string, "nvmlErrorString");
  bind(a->count, "nvmlDeviceGetCount_v2");
  bind(a->handle, "nvmlDeviceGetHandleByIndex_v2");
  bind(a->pci, "nvmlDeviceGetPciInfo_v3");
  bind(a->compute, "nvmlDeviceGetComputeRunningProcesses_v3");
  bind(a->graphics, "nvmlDeviceGetGraphicsRunningProcesses_v3");
  bind(a->utilization, "nvmlDeviceGetProcessUtilization");
  if (!missing.empty())
    return error{0, library + " has no " + missing};
  if (auto r = a->init(); r != success)
    return a->failure("nvmlInit", r);
  a->initialized = true;
  nvml n(std::move(a));
  unsigned count = 0;
  if (auto r = n.api_->count(&count); r != success)
    return n.api_->failure("nvmlDeviceGetCount", r);
  for (unsigned i = 0; i < count; ++i) {
    device_t device = nullptr;
    pci_info pci{};
    if (auto r = n.api_->handle(i, &device); r != success)
      return n.api_->failure("nvmlDeviceGetHandleByIndex", r);
    if (auto r = n.api_->pci(device, &pci); r != success)
      return n.api_->failure("nvmlDeviceGetPciInfo", r);
    n.handles_.push_back(device);
    n.devices_.push_back(pci_label(pci));
  }
  return n;
}

result<std::vector<nvml_process>> nvml::processes(size_t device) const {
  auto handle = handles_.at(device);
  std::vector<nvml_process> out;
  for (auto list : {std::pair{"nvmlDeviceGetComputeRunningProcesses", api_->compute},
                    std::pair{"nvmlDeviceGetGraphicsRunningProcesses", api_->graphics}}) {
    auto call = list.second; // clang 14 cannot capture a structured binding
    auto infos = api_->list<process_info>(list.first, [&](process_info *items, unsigned *count) {
      return call(handle, count, items);
    });
    if (!infos)
      return infos.err();
    for (auto &info : *infos) {
      uint64_t memory = info.used_gpu_memory == not_available ? 0 : info.used_gpu_memory;
      auto known = std::find_if(out.begin(), out.end(),
                                [&](const nvml_process &p) { return p.pid == info.pid; });
      if (known == out.end())
        out.push_back({info.pid, memory});
      else // a process with both kinds of context: one figure for both
        known->memory = std::max(known->memory, memory);
    }
  }
  return out;
}

result<std::vector<nvml_utilization>> nvml::utilization(size_t device, uint64_t since_us) const {
  auto handle = handles_.at(device);
  auto samples = api_->list<utilization_sample>(
      "nvmlDeviceGetProcessUtilization", [&](utilization_sample *items, unsigned *count) {
        return api_->utilization(handle, items, count, since_us);
      });
  if (!samples)
    return samples.err();
  std::vector<nvml_utilization> out;
  for (auto &s : *samples)
    out.push_back({s.pid, s.timestamp, s.sm, s.mem, s.enc, s.dec});
  return out;
}

} // namespace ballast::sys
