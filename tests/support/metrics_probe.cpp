// metric_value; see metrics_probe.hpp.
#include "tests/support/metrics_probe.hpp"

namespace ballast::test {

namespace {

bool has_labels(const prometheus::ClientMetric &m, const std::map<std::string, std::string> &want) {
  for (auto &[k, v] : want) {
    bool found = false;
    for (auto &l : m.label)
      found = found || (l.name == k && l.value == v);
    if (!found)
      return false;
  }
  return true;
}

} // namespace

std::optional<double> metric_value(prometheus::Registry &reg, const std::string &name,
                                   const std::map<std::string, std::string> &labels) {
  for (auto &fam : reg.Collect()) {
    if (fam.name != name)
      continue;
    for (auto &m : fam.metric) {
      if (!has_labels(m, labels))
        continue;
      switch (fam.type) {
      case prometheus::MetricType::Counter:
        return m.counter.value;
      case prometheus::MetricType::Gauge:
        return m.gauge.value;
      case prometheus::MetricType::Histogram:
        return double(m.histogram.sample_count);
      default:
        return m.untyped.value;
      }
    }
  }
  return std::nullopt;
}

} // namespace ballast::test
