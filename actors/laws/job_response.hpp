// The jobs' host-wide response to pressure, as a law: given the pressure of
// the last interval and the jobs as they are, which job to freeze, thaw,
// kill, demote or restore now (config::job_response says the rules). Pure
// logic; the response actor (actors/jobs/job_response.cpp) reads the
// pressure and the jobs and carries the actions out through the job actors.
//
// The jobs carry their own state (who froze them, whether they are
// demoted): the law keeps only its clocks (each action's last time, when
// each rule last went calm) and each job's IO bytes at the last step.
// A rule that has to act again within a hold of its undo (the thawed job
// brought the pressure back) doubles its hold, up to 16 times, so a hog
// is not thawed every few seconds; an act after a full hold resets it.
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ballast::laws {

struct response_job {
  std::string id;
  int32_t priority = 0;
  bool running = false;
  uint64_t memory = 0;   // memory.current
  uint64_t io_bytes = 0; // read + written since the job started (io.stat)
  std::string frozen_by; // "": not frozen; "operator"; or the rule: "freeze", "io_freeze"
  bool demoted = false;  // its cpu.weight is the response's
};

struct response_action {
  std::string verb; // freeze, thaw, kill, demote, restore
  std::string id;
  std::string rule; // freeze, io_freeze, kill, demote
  std::string reason;
};

// What the host's pressure was: the share of the last interval stalled (%)
// by resource ("memory.some"), and the rules whose PSI trigger fired since
// the last step (a trigger is armed at the rule's `above`).
struct response_reading {
  std::map<std::string, double> share;
  std::set<std::string> triggered;
};

// The four rules by name: freeze, kill, demote, io_freeze.
std::vector<std::pair<std::string, const config::response_rule *>>
response_rules(const config::job_response &r);

// A percentage as reasons and events write it: "31.2 %".
std::string percent_text(double percent);

class job_response_law {
public:
  using clock = std::chrono::steady_clock;

  explicit job_response_law(config::job_response cfg) : cfg_(std::move(cfg)) {}
  // New rules; the clocks stay.
  void configure(config::job_response cfg) { cfg_ = std::move(cfg); }
  const config::job_response &config() const { return cfg_; }

  std::vector<response_action> step(clock::time_point now, const response_reading &r,
                                    const std::vector<response_job> &jobs);

  // Rules that went above since the previous step (for a "pressure" event).
  const std::vector<std::string> &rose() const { return rose_; }

private:
  struct rule_clock {
    clock::time_point acted{};      // its last action (freeze, kill, demote)
    clock::time_point undone{};     // its last undo (thaw, restore)
    clock::time_point calm_since{}; // below `below` since; epoch: not calm
    bool over = false;
    int relapses = 0; // acts within a hold of an undo, in a row: each doubles the hold
  };

  bool may(clock::time_point now, clock::time_point last, std::chrono::milliseconds cooldown) const;
  std::chrono::milliseconds hold_of(const rule_clock &c) const;
  void acted(clock::time_point now, const std::string &name);
  void watch(clock::time_point now, const std::string &name, const config::response_rule &rule,
             const response_reading &r);
  std::string over_reason(const config::response_rule &rule, const response_reading &r) const;
  std::string calm_reason(const std::string &name, const config::response_rule &rule,
                          const response_reading &r);

  config::job_response cfg_;
  std::map<std::string, rule_clock> clocks_;
  std::map<std::string, uint64_t> io_seen_; // job → io_bytes at the last step
  std::vector<std::string> rose_;
};

} // namespace ballast::laws
