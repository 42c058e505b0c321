// Claim ordering and fall-back for one cgroup's knobs.
#include "actors/effector/claims_ledger.hpp"

#include <algorithm>

namespace ballast {

namespace {

// Highest priority, then latest.
const claims_ledger::standing_claim *best(const std::vector<claims_ledger::standing_claim> &cs) {
  auto it = std::max_element(cs.begin(), cs.end(), [](const auto &a, const auto &b) {
    return a.priority != b.priority ? a.priority < b.priority : a.seq < b.seq;
  });
  return it == cs.end() ? nullptr : &*it;
}

} // namespace

bool claims_ledger::knows(const std::string &knob) const {
  return knobs_.count(knob) > 0;
}

void claims_ledger::set_original(const std::string &knob, std::string value) {
  knobs_[knob].original = std::move(value);
}

std::optional<std::string> claims_ledger::effective(const std::string &knob) const {
  auto w = winner(knob);
  return w ? std::optional{w->value} : std::nullopt;
}

std::optional<claims_ledger::standing_claim> claims_ledger::winner(const std::string &knob) const {
  auto it = knobs_.find(knob);
  if (it == knobs_.end())
    return std::nullopt;
  auto *c = best(it->second.claims);
  return c ? std::optional{*c} : std::nullopt;
}

std::optional<std::string> claims_ledger::claim(uint64_t owner, const std::string &knob,
                                                std::string value, int32_t priority) {
  auto &k = knobs_[knob];
  auto before = effective(knob).value_or(k.original);
  std::erase_if(k.claims, [&](const auto &c) { return c.owner == owner; });
  k.claims.push_back({owner, std::move(value), priority, next_seq_++});
  auto now = *effective(knob);
  return now != before ? std::optional{now} : std::nullopt;
}

std::optional<claims_ledger::change> claims_ledger::settle(const std::string &knob,
                                                           const std::string &before) {
  auto it = knobs_.find(knob);
  if (it->second.claims.empty()) {
    change c{knob, it->second.original, true};
    knobs_.erase(it);
    // Going back to the original is always reported, even if a claim had the
    // same value: it closes the knob's journal entry.
    return c;
  }
  auto now = *effective(knob);
  return now != before ? std::optional<change>{{knob, now, false}} : std::nullopt;
}

std::optional<claims_ledger::change> claims_ledger::release(uint64_t owner,
                                                            const std::string &knob) {
  auto it = knobs_.find(knob);
  if (it == knobs_.end())
    return std::nullopt;
  auto before = *effective(knob);
  auto n = std::erase_if(it->second.claims, [&](const auto &c) { return c.owner == owner; });
  return n == 0 ? std::nullopt : settle(knob, before);
}

std::vector<claims_ledger::change> claims_ledger::release_owner(uint64_t owner) {
  std::vector<std::string> held;
  for (auto &[knob, k] : knobs_)
    if (std::any_of(k.claims.begin(), k.claims.end(), [&](auto &c) { return c.owner == owner; }))
      held.push_back(knob);
  std::vector<change> out;
  for (auto &knob : held)
    if (auto c = release(owner, knob))
      out.push_back(std::move(*c));
  return out;
}

std::vector<claims_ledger::change> claims_ledger::release_all() {
  std::vector<change> out;
  for (auto &[knob, k] : knobs_)
    out.push_back({knob, k.original, true});
  knobs_.clear();
  return out;
}

bool claims_ledger::holds(uint64_t owner) const {
  for (auto &[knob, k] : knobs_)
    for (auto &c : k.claims)
      if (c.owner == owner)
        return true;
  return false;
}

} // namespace ballast
