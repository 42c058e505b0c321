// cpu_weight_demotion; see cpu_weight_demotion.hpp.
#include "actors/laws/cpu_weight_demotion.hpp"

#include <algorithm>

namespace ballast {

bool cpu_weight_demotion::demoted(uint64_t id) const {
  auto it = held_.find(id);
  return it != held_.end() && it->second.weight < s_.max;
}

void cpu_weight_demotion::demote(const weight_reading &m, clock::time_point now) {
  auto &h = held_.try_emplace(m.id, held{s_.max, m.cores, now, std::nullopt}).first->second;
  if (h.up_at && now - *h.up_at < s_.hold * h.hold_factor)
    h.hold_factor = std::min(8, h.hold_factor * 2); // given back too soon
  uint32_t down = std::max(s_.min, h.weight / 2);
  if (down < h.weight || h.up_at)
    h.down_at = now; // at the floor already, its hold runs from the step that put it there
  h.weight = down;
  h.up_at.reset();
}

void cpu_weight_demotion::give_back(clock::time_point now) {
  for (auto &[id, h] : held_)
    if (h.weight < s_.max && now - h.down_at >= s_.hold * h.hold_factor) {
      h.weight = std::min(s_.max, h.weight * 2);
      h.up_at = now;
    }
}

const std::map<uint64_t, uint32_t> &
cpu_weight_demotion::step(const std::vector<weight_reading> &members, clock::time_point now) {
  bool named = std::any_of(members.begin(), members.end(), [](auto &m) { return m.protect; });
  double total = 0;
  for (auto &m : members)
    total += demoted(m.id) ? std::max(m.cores, held_.at(m.id).demand) : m.cores;
  double share = members.empty() ? 0 : total / double(members.size());
  worst_ = 0;
  bool waiting = false, demoted_busy = false;
  std::vector<const weight_reading *> candidates;
  for (auto &m : members) {
    bool candidate = named ? !m.protect : demoted(m.id) || m.cores > share;
    if (candidate && (demoted(m.id) || m.cores >= s_.min_cores)) {
      candidates.push_back(&m);
      demoted_busy = demoted_busy || (demoted(m.id) && m.cores >= s_.min_cores);
    } else if (!candidate && m.waits >= s_.min_waits) {
      worst_ = std::max(worst_, m.runq_p99_s);
      waiting = true;
    }
  }
  if (worst_ > s_.target_s) {
    calm_ = 0;
    for (auto *m : candidates)
      demote(*m, now);
  } else if (worst_ < s_.release_s && !(waiting && demoted_busy)) {
    if (++calm_ >= s_.calm)
      give_back(now);
  } else {
    calm_ = 0;
  }
  weights_.clear();
  // A member given back to the ceiling is let go, but remembered for one
  // hold: a relapse in that time doubles its hold.
  std::erase_if(held_, [&](auto &kv) {
    auto &h = kv.second;
    return h.weight >= s_.max && h.up_at && now - *h.up_at >= s_.hold * h.hold_factor;
  });
  for (auto &[id, h] : held_)
    if (h.weight < s_.max)
      weights_[id] = h.weight;
  return weights_;
}

} // namespace ballast
