// The claims ledger of one cgroup: which policy holds which knob at which
// value, and what each knob held before ballast first touched it. Pure logic;
// the cgroup actor does the reads, writes and journal records it asks for.
//
// Ordering: the highest priority wins; among equal priorities the latest
// claim wins. When an owner goes, each knob it held falls back to the next
// standing claim, or to its original value when none is left.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ballast {

class claims_ledger {
public:
  struct standing_claim {
    uint64_t owner = 0; // actor id of the policy
    std::string value;
    int32_t priority = 0;
    uint64_t seq = 0; // order of arrival, for ties
  };

  // What the knob must hold after a change; to_original means no claim is
  // left and the knob's entry is gone from the ledger.
  struct change {
    std::string knob;
    std::string value;
    bool to_original = false;
  };

  // True if the knob has a recorded original (it has been claimed before and
  // not fully released since).
  bool knows(const std::string &knob) const;

  // Record what the knob held before the first claim. Must precede claim().
  void set_original(const std::string &knob, std::string value);

  // Adds or replaces owner's claim on knob. Returns the new effective value
  // if it differs from the current one.
  std::optional<std::string> claim(uint64_t owner, const std::string &knob, std::string value,
                                   int32_t priority);

  // Drops owner's claim on one knob; the change to apply, if the effective
  // value moves.
  std::optional<change> release(uint64_t owner, const std::string &knob);

  // Drops every claim of owner.
  std::vector<change> release_owner(uint64_t owner);

  // Drops everything: every knob back to its original.
  std::vector<change> release_all();

  // The winning value of a knob, if it has claims.
  std::optional<std::string> effective(const std::string &knob) const;

  // The current winner of a knob.
  std::optional<standing_claim> winner(const std::string &knob) const;

  bool holds(uint64_t owner) const;

  struct knob_claims {
    std::string original;
    std::vector<standing_claim> claims;
  };
  const std::map<std::string, knob_claims> &knobs() const { return knobs_; }

private:
  std::optional<change> settle(const std::string &knob, const std::string &before);

  std::map<std::string, knob_claims> knobs_;
  uint64_t next_seq_ = 0;
};

} // namespace ballast
