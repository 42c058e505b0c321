// GPU source actor; see gpu_source.hpp.
#include "actors/sources/gpu_source.hpp"

#include "actors/metrics/gpu_series.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

namespace ballast {

namespace {

struct gpu_source_state {
  static constexpr const char *name = "gpu-source";

  std::shared_ptr<agent_metrics> metrics;
  std::optional<gpu_reader> reader;
  gpu_series host;
  caf::actor_clock::time_point next_tick, next_rescan;
  std::optional<bool> devices;     // present at the last look
  std::vector<std::string> errors; // of the last read

  ~gpu_source_state() {
    if (!metrics)
      return;
    auto &m = metrics->gpu();
    host.remove(*metrics, m.engine, m.memory);
    m.clients.Set(0);
    metrics->actor_stopped(actor_type::source);
  }
};

using gpu_source_self = sense_actor::stateful_pointer<gpu_source_state>;

uint64_t ns(caf::actor_clock::time_point t) {
  return uint64_t(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// Which devices NVML reads, or why it reads none: once, at the start.
void log_nvml(const gpu_reader &reader) {
  auto devices = reader.nvml_devices();
  if (devices.empty()) {
    log::info("gpu", "NVML not used (", reader.nvml_absent(),
              "): NVIDIA GPUs, if any, are seen only as DRM fdinfo gives them");
    return;
  }
  std::string list;
  for (auto &d : devices)
    list += (list.empty() ? "" : ", ") + d;
  log::info("gpu", "NVML reads ", devices.size(), " NVIDIA device(s): ", list,
            " (engine time from utilization samples, memory per process)");
}

// Looks for devices (saying so at the first look and on a change) and,
// where there are some, walks the fds of every process for clients.
void rescan(gpu_source_self self, const gpu_source_options &opts) {
  auto &st = self->state;
  bool present = st.reader->devices_present();
  if (st.devices != present) {
    if (present)
      log::info("gpu", "DRM devices found: GPU clients' fdinfo read every ", opts.interval.count(),
                " ms, new clients looked for every ", opts.rescan.count(), " ms");
    else
      log::info("gpu",
                "no DRM device (/sys/class/drm): the GPU source is idle, looking again "
                "every ",
                opts.rescan.count(), " ms");
  }
  st.devices = present;
  if (present)
    st.reader->discover();
}

sense_actor::behavior_type gpu_source(gpu_source_self self, registry_actor registry,
                                      gpu_source_options opts,
                                      std::shared_ptr<agent_metrics> metrics) {
  auto &st = self->state;
  st.metrics = metrics;
  metrics->actor_started(actor_type::source);
  auto now = self->clock().now();
  st.reader.emplace(opts.roots, ns(now));
  log_nvml(*st.reader);
  rescan(self, opts);
  st.next_rescan = now + opts.rescan;
  st.next_tick = now + opts.interval;
  self->scheduled_send(self, st.next_tick, atom::tick_v);
  return {
      [=](atom::tick) {
        auto &st = self->state;
        auto now = self->clock().now();
        if (now >= st.next_rescan) {
          rescan(self, opts);
          st.next_rescan += opts.rescan;
        }
        if (*st.devices) {
          auto read = st.reader->read(ns(now));
          auto &m = st.metrics->gpu();
          st.host.update(st.metrics.get(), m.engine, m.memory, {}, read.host);
          m.clients.Set(double(read.host.clients));
          if (read.errors != st.errors)
            for (auto &e : read.errors)
              log::warn("gpu", "NVML could not read ", e);
          st.errors = std::move(read.errors);
          self->send(registry, gpu_batch{std::move(read.cgroups)});
        }
        st.next_tick += opts.interval;
        self->scheduled_send(self, st.next_tick, atom::tick_v);
      },
  };
}

} // namespace

sense_actor spawn_gpu_source(caf::actor_system &sys, registry_actor registry,
                             gpu_source_options opts, std::shared_ptr<agent_metrics> metrics) {
  return sys.spawn(gpu_source, std::move(registry), std::move(opts), std::move(metrics));
}

} // namespace ballast
