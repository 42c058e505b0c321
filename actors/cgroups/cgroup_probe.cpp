// cgroup_probe; see cgroup_probe.hpp.
#include "actors/cgroups/cgroup_probe.hpp"

namespace ballast {

namespace {

constexpr std::array<sys::psi_resource, 3> resources = {
  sys::psi_resource::cpu, sys::psi_resource::memory, sys::psi_resource::io};

std::string_view pressure_file(sys::psi_resource r) {
  switch (r) {
    case sys::psi_resource::cpu: return sys::files::cpu_pressure;
    case sys::psi_resource::memory: return sys::files::memory_pressure;
    case sys::psi_resource::io: return sys::files::io_pressure;
  }
  return {};
}

} // namespace

cgroup_probe::cgroup_probe(sys::cgroup_dir dir, std::shared_ptr<agent_metrics> metrics)
  : dir_(std::move(dir)), path_(dir_.path()), metrics_(std::move(metrics)) {}

cgroup_probe::~cgroup_probe() {
  for (auto& s : series_) {
    metrics_->remove_series(metrics_->cgroup_pressure(), s.some);
    metrics_->remove_series(metrics_->cgroup_pressure(), s.full);
  }
}

void cgroup_probe::export_pressure(std::chrono::steady_clock::duration period) {
  std::lock_guard guard{mutex_};
  auto now = std::chrono::steady_clock::now();
  // 90%: callers tick on a grid, a sample from the last tick is a little
  // less than one period old.
  if (sampled_ && now - *sampled_ < period * 9 / 10)
    return;
  sampled_ = now;
  auto& fam = metrics_->cgroup_pressure();
  for (size_t i = 0; i < resources.size(); ++i) {
    auto text = dir_.read(pressure_file(resources[i]));
    auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
    if (!psi)
      continue;  // the cgroup is going, or the kernel lacks this file
    // The first sample adds the whole total: the series starts at the
    // kernel's count, as a counter read from the kernel should.
    auto advance = [&](prometheus::Counter*& c, uint64_t& seen, uint64_t total, const char* kind) {
      if (!c)
        c = &fam.Add({{"cgroup", path_}, {"resource", std::string(to_string(resources[i]))},
                      {"kind", kind}});
      if (total > seen)
        c->Increment(double(total - seen) / 1e6);
      seen = total;
    };
    advance(series_[i].some, series_[i].some_us, psi->some.total_us, "some");
    if (psi->full)
      advance(series_[i].full, series_[i].full_us, psi->full->total_us, "full");
  }
}

} // namespace ballast
