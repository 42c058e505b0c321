// A histogram as BPF programs keep one: slot i counts values in
// [2^i, 2^(i+1)) (slot 0 also holds 0), cumulative since the program was
// loaded. The source reads the kernel's counts each interval; the difference
// of two reads is the interval's histogram, and its quantiles are
// interpolated within a slot as PromQL's histogram_quantile does within a
// bucket, so a quantile is never more precise than a factor of two.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace ballast {

class log2_histogram {
public:
  static constexpr size_t slots = 64;

  log2_histogram() = default;
  explicit log2_histogram(const std::array<uint64_t, slots> &counts) : counts_(counts) {}

  // The slot a value falls in (what the BPF side computes).
  static size_t slot_of(uint64_t value);

  void add(uint64_t value, uint64_t n = 1) { counts_[slot_of(value)] += n; }

  // Adds slot counts as a sched_sample carries them (slot i at index i;
  // slots past the last are ignored).
  void add_slots(const std::vector<uint64_t> &counts);

  // What was added since `before` (an earlier read of the same counters). A
  // slot below its count in `before` adds nothing: a read that raced the
  // kernel moving counts between maps dips for a moment (keep the larger of
  // two reads with at_least, or the regrowth counts twice). A program that
  // is reloaded starts a new series, not a smaller count.
  log2_histogram since(const log2_histogram &before) const;

  // Each slot's larger count of this and `other`.
  log2_histogram at_least(const log2_histogram &other) const;

  uint64_t total() const;

  // The q-quantile (0..1) of the values counted; nullopt when none were.
  std::optional<double> quantile(double q) const;

  const std::array<uint64_t, slots> &counts() const { return counts_; }

private:
  std::array<uint64_t, slots> counts_{};
};

} // namespace ballast
