// cgroup_probe; see cgroup_probe.hpp.
#include "actors/probe/cgroup_probe.hpp"

#include "sys/log.hpp"
#include "sys/psi.hpp"
#include "sys/text.hpp"

#include <array>

namespace ballast {

namespace {

constexpr std::array<sys::psi_resource, 3> resources = {
    sys::psi_resource::cpu, sys::psi_resource::memory, sys::psi_resource::io};

std::string_view pressure_file(sys::psi_resource r) {
  switch (r) {
  case sys::psi_resource::cpu:
    return sys::files::cpu_pressure;
  case sys::psi_resource::memory:
    return sys::files::memory_pressure;
  case sys::psi_resource::io:
    return sys::files::io_pressure;
  }
  return {};
}

} // namespace

cgroup_probe::cgroup_probe(sys::cgroup_dir dir, std::shared_ptr<agent_metrics> metrics)
    : dir_(std::move(dir)), path_(dir_.path()), metrics_(std::move(metrics)) {}

cgroup_probe::~cgroup_probe() {
  for (auto &[_, c] : pressure_)
    metrics_->remove_series(metrics_->cgroup_pressure(), c.series);
  for (auto &[_, c] : memory_events_)
    metrics_->remove_series(metrics_->cgroup_memory_events(), c.series);
  metrics_->remove_series(metrics_->cgroup_cpu(), cpu_.series);
  metrics_->remove_series(metrics_->cgroup_memory(), memory_);
}

result<std::string> cgroup_probe::read(std::string_view file) {
  std::lock_guard guard{mutex_};
  return dir_.read(file);
}

void cgroup_probe::export_stats(std::chrono::steady_clock::duration period,
                                std::chrono::steady_clock::time_point now) {
  std::lock_guard guard{mutex_};
  // 90%: callers tick on a grid, a sample from the last tick is a little
  // less than one period old.
  if (sampled_ && now - *sampled_ < period * 9 / 10)
    return;
  sampled_ = now;
  export_pressure();
  export_cpu();
  export_memory(now);
}

// A file that cannot be read is skipped: the cgroup is going, or its
// controller is not enabled here (memory.* on a hybrid host).
void cgroup_probe::export_pressure() {
  for (auto r : resources) {
    auto text = dir_.read(pressure_file(r));
    auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
    if (!psi)
      continue;
    auto resource = std::string(to_string(r));
    auto advance = [&](const char *kind, uint64_t total_us) {
      pressure_[resource + "/" + kind].advance(
          *metrics_, metrics_->cgroup_pressure(),
          {{"cgroup", path_}, {"resource", resource}, {"kind", kind}}, total_us, 1e-6);
    };
    advance("some", psi->some.total_us);
    if (psi->full)
      advance("full", psi->full->total_us);
  }
}

void cgroup_probe::export_cpu() {
  auto text = dir_.read(sys::files::cpu_stat);
  if (!text)
    return;
  for (auto &[key, value] : sys::parse_flat_keyed(*text))
    if (key == "usage_usec")
      cpu_.advance(*metrics_, metrics_->cgroup_cpu(), {{"cgroup", path_}}, value, 1e-6);
}

void cgroup_probe::export_memory(std::chrono::steady_clock::time_point now) {
  using namespace std::chrono_literals;
  if (memory_absent_ && now - *memory_absent_ < 60s)
    return;
  auto text = dir_.read(sys::files::memory_current);
  if (!text) {
    memory_absent_ = now;
    return;
  }
  memory_absent_.reset();
  if (auto bytes = sys::text::parse_number<uint64_t>(sys::text::trim(*text))) {
    if (!memory_)
      memory_ = &metrics_->add_series(metrics_->cgroup_memory(), {{"cgroup", path_}});
    memory_->Set(double(*bytes));
  }
  export_memory_events();
}

void cgroup_probe::memory_events_changed() {
  std::lock_guard guard{mutex_};
  export_memory_events();
}

void cgroup_probe::export_memory_events() {
  auto events = dir_.read(sys::files::memory_events);
  if (!events)
    return;
  for (auto &[event, count] : sys::parse_flat_keyed(*events)) {
    bool seen_before = memory_events_.count(event) > 0; // kills before we watched are not news
    auto grown = memory_events_[event].advance(*metrics_, metrics_->cgroup_memory_events(),
                                               {{"cgroup", path_}, {"event", event}}, count, 1);
    if (event == "oom_kill" && grown > 0 && seen_before)
      log::warn("cgroup", path_, ": ", grown, " oom kill(s) by the kernel (memory.events)");
  }
}

} // namespace ballast
