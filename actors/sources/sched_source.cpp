// sched source actor; see sched_source.hpp.
#include "actors/sources/sched_source.hpp"

#include "actors/metrics/kernel_counter.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

namespace ballast {

namespace {

std::vector<uint64_t> slots(const log2_histogram &h) {
  auto &c = h.counts();
  size_t n = c.size();
  while (n > 0 && c[n - 1] == 0)
    --n;
  return {c.begin(), c.begin() + long(n)};
}

struct sched_source_state {
  static constexpr const char *name = "sched-source";

  std::shared_ptr<agent_metrics> metrics;
  std::unique_ptr<sched_reader> reader;
  sched_totals last;
  std::vector<kernel_counter> busy; // by CPU
  caf::actor_clock::time_point next_tick;

  ~sched_source_state() {
    reader.reset();
    if (metrics)
      metrics->actor_stopped(actor_type::source);
  }

  void export_host(const sched_totals &now, const sched_batch &batch) {
    auto &m = metrics->sched();
    busy.resize(now.cpu_busy_ns.size());
    for (size_t cpu = 0; cpu < busy.size(); ++cpu)
      busy[cpu].advance(metrics.get(), m.cpu_busy, {{"cpu", std::to_string(cpu)}},
                        now.cpu_busy_ns[cpu], 1e-9);
    log2_histogram runq, futex, io;
    for (auto &s : batch.samples) {
      runq.add_slots(s.runq);
      futex.add_slots(s.futex);
      io.add_slots(s.io);
    }
    observe_log2(m.runq_delay, runq);
    observe_log2(m.futex_wait, futex);
    observe_log2(m.io_latency, io);
  }
};

using sched_source_self = sense_actor::stateful_pointer<sched_source_state>;

sense_actor::behavior_type sched_source(sched_source_self self, registry_actor registry,
                                        std::chrono::milliseconds interval,
                                        sched_reader::limits limits,
                                        std::shared_ptr<agent_metrics> metrics) {
  auto &st = self->state;
  st.metrics = metrics;
  metrics->actor_started(actor_type::source);
  auto reader = sched_reader::open(limits);
  if (!reader) {
    self->quit(caf::make_error(caf::sec::runtime_error, reader.err().message));
    return sense_actor::behavior_type::make_empty_behavior();
  }
  st.reader = std::move(*reader);
  metrics->sched().frequency_weighted.Set(st.reader->frequency_weighted() ? 1 : 0);
  log::info("sched", "BPF programs attached; maps read every ", interval.count(), " ms");
  st.next_tick = self->clock().now() + interval;
  self->scheduled_send(self, st.next_tick, atom::tick_v);
  return {
      [=](atom::tick) {
        auto &st = self->state;
        auto now = st.reader->read();
        if (!now) {
          log::error("sched", now.err().message);
          self->quit(caf::make_error(caf::sec::runtime_error, now.err().message));
          return;
        }
        auto batch = sched_difference(*now, st.last);
        st.export_host(*now, batch);
        st.last = sched_held(std::move(*now), st.last);
        self->send(registry, std::move(batch));
        st.next_tick += interval;
        self->scheduled_send(self, st.next_tick, atom::tick_v);
      },
  };
}

} // namespace

sched_batch sched_difference(const sched_totals &now, const sched_totals &before) {
  sched_batch batch;
  std::unordered_map<uint64_t, size_t> index; // cgroup id -> position in batch
  uint64_t interval =
      before.ktime_ns && now.ktime_ns > before.ktime_ns ? now.ktime_ns - before.ktime_ns : 0;
  batch.loaded_ns = now.loaded_ns;
  batch.interval_ns = interval;
  static const sched_cgroup_totals none;
  for (auto &[id, c] : now.cgroups) {
    auto prev = before.cgroups.find(id);
    auto &p = prev == before.cgroups.end() ? none : prev->second;
    sched_sample s;
    s.cgroup_id = id;
    s.ktime_ns = now.ktime_ns;
    s.interval_ns = interval;
    s.loaded_ns = now.loaded_ns;
    s.oncpu_ns = c.oncpu_ns;
    s.weighted_ns = c.weighted_ns;
    s.runq = slots(c.runq.since(p.runq));
    s.futex = slots(c.futex.since(p.futex));
    s.io = slots(c.io.since(p.io));
    index[id] = batch.samples.size();
    batch.samples.push_back(std::move(s));
  }
  for (auto &[pid, p] : now.processes) {
    auto prev = before.processes.find(pid);
    if (prev != before.processes.end() && prev->second.oncpu_ns == p.oncpu_ns)
      continue; // did not run
    auto at = index.find(p.cgroup_id);
    if (at != index.end())
      batch.samples[at->second].processes.push_back({pid, p.oncpu_ns});
  }
  return batch;
}

sched_totals sched_held(sched_totals now, const sched_totals &before) {
  for (auto &[id, c] : now.cgroups) {
    auto prev = before.cgroups.find(id);
    if (prev == before.cgroups.end())
      continue;
    c.runq = c.runq.at_least(prev->second.runq);
    c.futex = c.futex.at_least(prev->second.futex);
    c.io = c.io.at_least(prev->second.io);
  }
  return now;
}

sense_actor spawn_sched_source(caf::actor_system &sys, registry_actor registry,
                               std::chrono::milliseconds interval, sched_reader::limits limits,
                               std::shared_ptr<agent_metrics> metrics) {
  return sys.spawn(sched_source, std::move(registry), interval, limits, std::move(metrics));
}

} // namespace ballast
