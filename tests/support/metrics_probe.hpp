// Reads one value out of a prometheus-cpp registry, as a scrape would see it:
// tests assert on what an operator's Prometheus gets.
#pragma once

#include <prometheus/registry.h>

#include <map>
#include <optional>
#include <string>

namespace ballast::test {

// The value of the series `name` whose labels include all of `labels`
// (counter, gauge, or for a histogram its sample count). nullopt if absent.
std::optional<double> metric_value(prometheus::Registry &reg, const std::string &name,
                                   const std::map<std::string, std::string> &labels = {});

} // namespace ballast::test
