#include "actors/signals/log2_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ballast {

size_t log2_histogram::slot_of(uint64_t value) {
  return value < 2 ? 0 : size_t(std::bit_width(value) - 1);
}

log2_histogram log2_histogram::since(const log2_histogram &before) const {
  log2_histogram out;
  for (size_t i = 0; i < slots; ++i)
    out.counts_[i] = counts_[i] > before.counts_[i] ? counts_[i] - before.counts_[i] : 0;
  return out;
}

log2_histogram log2_histogram::at_least(const log2_histogram &other) const {
  log2_histogram out;
  for (size_t i = 0; i < slots; ++i)
    out.counts_[i] = std::max(counts_[i], other.counts_[i]);
  return out;
}

uint64_t log2_histogram::total() const {
  uint64_t n = 0;
  for (auto c : counts_)
    n += c;
  return n;
}

std::optional<double> log2_histogram::quantile(double q) const {
  auto n = total();
  if (n == 0)
    return std::nullopt;
  double want = std::clamp(q, 0.0, 1.0) * double(n);
  double seen = 0;
  for (size_t i = 0; i < slots; ++i) {
    if (counts_[i] == 0)
      continue;
    if (seen + double(counts_[i]) >= want) {
      double lo = i == 0 ? 0 : std::ldexp(1.0, int(i));
      double hi = std::ldexp(1.0, int(i) + 1);
      return lo + (hi - lo) * (want - seen) / double(counts_[i]);
    }
    seen += double(counts_[i]);
  }
  return std::ldexp(1.0, int(slots)); // not reached: want <= n
}

void log2_histogram::add_slots(const std::vector<uint64_t> &counts) {
  for (size_t i = 0; i < counts.size() && i < slots; ++i)
    counts_[i] += counts[i];
}

} // namespace ballast
