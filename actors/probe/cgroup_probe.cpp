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

cgroup_probe::cgroup_probe(sys::cgroup_dir dir, std::shared_ptr<agent_metrics> metrics,
                           std::shared_ptr<const sched_heartbeat> sched, bool series)
    : series_(series), dir_(std::move(dir)), path_(dir_.path()), metrics_(std::move(metrics)),
      heartbeat_(std::move(sched)) {}

cgroup_probe::~cgroup_probe() {
  auto &sched = metrics_->sched();
  metrics_->remove_series(sched.cgroup_oncpu, oncpu_.series);
  metrics_->remove_series(sched.cgroup_oncpu, oncpu_weighted_.series);
  for (size_t i = 0; i < wait_series_.size(); ++i)
    metrics_->remove_series(i < 2   ? sched.cgroup_runq
                            : i < 4 ? sched.cgroup_futex
                                    : sched.cgroup_io,
                            wait_series_[i]);
  for (auto &[_, c] : pressure_)
    metrics_->remove_series(metrics_->cgroup_pressure(), c.series);
  for (auto &[_, c] : memory_events_)
    metrics_->remove_series(metrics_->cgroup_memory_events(), c.series);
  metrics_->remove_series(metrics_->cgroup_cpu(), cpu_.series);
  metrics_->remove_series(metrics_->cgroup_memory(), memory_);
  gpu_.remove(*metrics_, metrics_->gpu().cgroup_engine, metrics_->gpu().cgroup_memory);
}

result<std::string> cgroup_probe::read(std::string_view file) {
  std::lock_guard guard{mutex_};
  return dir_.read(file);
}

void cgroup_probe::export_stats(std::chrono::steady_clock::duration period,
                                std::chrono::steady_clock::time_point now) {
  if (!series_)
    return;
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
          metrics_.get(), metrics_->cgroup_pressure(),
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
      cpu_.advance(metrics_.get(), metrics_->cgroup_cpu(), {{"cgroup", path_}}, value, 1e-6);
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
    if (!memory_ && series_)
      memory_ = &metrics_->add_series(metrics_->cgroup_memory(), {{"cgroup", path_}});
    if (memory_)
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
    auto grown = memory_events_[event].advance(series_ ? metrics_.get() : nullptr,
                                               metrics_->cgroup_memory_events(),
                                               {{"cgroup", path_}, {"event", event}}, count, 1);
    if (event == "oom_kill" && grown > 0 && seen_before)
      log::warn("cgroup", path_, ": ", grown, " oom kill(s) by the kernel (memory.events)");
  }
}

void cgroup_probe::add_sched_sample(const sched_sample &s,
                                    std::chrono::steady_clock::time_point now) {
  std::lock_guard guard{mutex_};
  bool first = !sched_ || s.loaded_ns != sched_loaded_ns_; // the source (re)started
  if (first) {
    sched_.emplace();
    oncpu_.restart();
    oncpu_weighted_.restart();
    sched_loaded_ns_ = s.loaded_ns;
  }
  auto *m = series_ ? metrics_.get() : nullptr;
  auto &sched = metrics_->sched();
  uint64_t ran = oncpu_.advance(m, sched.cgroup_oncpu, {{"cgroup", path_}, {"scale", "raw"}},
                                s.oncpu_ns, 1e-9);
  oncpu_weighted_.advance(m, sched.cgroup_oncpu, {{"cgroup", path_}, {"scale", "frequency"}},
                          s.weighted_ns, 1e-9);
  log2_histogram runq, futex, io;
  runq.add_slots(s.runq);
  futex.add_slots(s.futex);
  io.add_slots(s.io);
  // The first sample's on-CPU time covers everything since the source
  // started, not one interval: it sets the baseline only.
  sched_->add(now, first ? 0 : ran, first ? 0 : s.interval_ns, runq, futex, io);
  fed_.beat(s.loaded_ns, std::chrono::nanoseconds(s.interval_ns), now);
  if (first)
    process_oncpu_ns_.clear(); // counts of the source before: another origin
  for (auto &p : s.processes)
    process_oncpu_ns_[p.pid] = p.oncpu_ns;
  export_waits();
}

void cgroup_probe::export_waits() {
  auto &sched = metrics_->sched();
  if (!series_)
    return;
  if (wait_series_.empty())
    for (auto *family : {&sched.cgroup_runq, &sched.cgroup_futex, &sched.cgroup_io})
      for (auto *q : {"0.5", "0.99"})
        wait_series_.push_back(
            &metrics_->add_series(*family, {{"cgroup", path_}, {"quantile", q}}));
  auto &v = sched_->view();
  size_t i = 0;
  for (auto *w : {&v.runq, &v.futex, &v.io}) {
    wait_series_[i++]->Set(w->p50.value_or(0));
    wait_series_[i++]->Set(w->p99.value_or(0));
  }
}

std::optional<sched_view> cgroup_probe::sched(std::chrono::steady_clock::time_point now) const {
  std::lock_guard guard{mutex_};
  if (!sched_ || !fed_.alive(now))
    return std::nullopt;
  return sched_->view();
}

std::optional<cgroup_probe::process_oncpu>
cgroup_probe::sched_process(int32_t pid, std::chrono::steady_clock::time_point now) const {
  std::lock_guard guard{mutex_};
  if (!fed_.alive(now)) {
    // No sample of its own: none of its tasks ran since the source loaded.
    if (auto loaded = heartbeat_ ? heartbeat_->alive(now) : std::nullopt)
      return process_oncpu{*loaded, std::nullopt};
    return std::nullopt;
  }
  process_oncpu p{sched_loaded_ns_, std::nullopt};
  if (auto it = process_oncpu_ns_.find(pid); it != process_oncpu_ns_.end())
    p.oncpu_ns = it->second;
  return p;
}

void cgroup_probe::add_gpu_sample(const gpu_sample &s) {
  std::lock_guard guard{mutex_};
  auto &gpu = metrics_->gpu();
  gpu_.update(series_ ? metrics_.get() : nullptr, gpu.cgroup_engine, gpu.cgroup_memory,
              {{"cgroup", path_}}, s);
}

void cgroup_probe::forget_process(int32_t pid) {
  std::lock_guard guard{mutex_};
  process_oncpu_ns_.erase(pid);
}

} // namespace ballast
