// See gpu_series.hpp.
#include "actors/metrics/gpu_series.hpp"

namespace ballast {

using namespace prometheus;

void gpu_series::update(agent_metrics *metrics, Family<Counter> &engine, Family<Gauge> &memory,
                        const Labels &base, const gpu_sample &s) {
  if (s.origin_ns != origin_ns_) { // the source (re)started: its times count from 0
    origin_ns_ = s.origin_ns;
    for (auto &[_, c] : engines_)
      c.restart();
  }
  auto labels = [&](const char *name, const std::string &device, const std::string &value) {
    auto l = base;
    l["device"] = device;
    l[name] = value;
    return l;
  };
  for (auto &e : s.engines)
    engines_[{e.device, e.engine}].advance(metrics, engine, labels("engine", e.device, e.engine),
                                           e.ns, 1e-9);
  if (!metrics)
    return;
  for (auto &m : s.memory) {
    auto &g = memory_[{m.device, m.region}];
    if (!g)
      g = &metrics->add_series(memory, labels("region", m.device, m.region));
    g->Set(double(m.bytes));
  }
}

void gpu_series::remove(agent_metrics &metrics, Family<Counter> &engine, Family<Gauge> &memory) {
  for (auto &[_, c] : engines_)
    metrics.remove_series(engine, c.series);
  for (auto &[_, g] : memory_)
    metrics.remove_series(memory, g);
  engines_.clear();
  memory_.clear();
}

} // namespace ballast
