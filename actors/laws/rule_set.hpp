// The law of the rules policy: thresholded rules over named signals, each
// with a `for` duration and the knob values it sets while it holds. A rule
// holds while all (or, with `any`, one) of its conditions hold; a condition
// on a signal with no value this interval does not hold. A rule becomes
// active once it has held for its `for` without a break, and stops being
// active at the first interval it does not hold. The effects in force are
// the knob values of the active rules, set or stepped (a step a interval
// from the knob's value when the rule fired, to its bound), the first rule
// in order winning a knob two of them name. Pure logic: the policy reads the signals and makes
// the claims.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ballast {

enum class rule_op { gt, ge, lt, le };

struct rule_condition {
  std::string signal; // one of rule_signals()
  rule_op op = rule_op::gt;
  double value = 0;
};

// A knob moved by `by` each interval its rule is active, from the value it
// had when the rule fired, never past `to`.
struct knob_step {
  double by = 0;
  double to = 0;
};

struct rule {
  std::string name;
  bool any = false; // conditions combined with any instead of all
  std::vector<rule_condition> conditions;
  std::chrono::milliseconds hold_for{0};   // `for`
  std::map<std::string, std::string> sets; // knob -> value
  std::map<std::string, knob_step> steps;  // knob -> step
};

// The signals a condition may name: host.R.K.avg10 and cgroup.R.K.avg10 (R
// cpu, memory or io; K some or full; % of time stalled); from the sched
// source's windows, while fresh, cgroup.W.p50_ms, .p99_ms (the last
// interval), .p99_median_ms (over the window) and .burst (1 in a burst, else
// 0) for W runq, futex and io, cgroup.cpu.cores and cgroup.cpu.cores_ewma;
// and cgroup.memory.current (bytes).
const std::vector<std::string> &rule_signals();

// "host.cpu.some.avg10 31.2 > 20": a condition with the value it was read at.
std::string describe(const rule_condition &c, std::optional<double> value);

class rule_set {
public:
  using clock = std::chrono::steady_clock;
  struct effect {
    std::string value;
    std::string rule;
  };

  explicit rule_set(std::vector<rule> rules);

  // One interval: the signals' values (an absent one has none), and the
  // values the stepped knobs have now (used where a step starts: a knob
  // without one, "max" say, is not stepped).
  void step(const std::map<std::string, double> &values, clock::time_point now,
            const std::map<std::string, double> &knob_values = {});

  const std::vector<rule> &rules() const { return rules_; }
  bool active(size_t i) const { return state_[i].active; }
  // The conditions of rule i as last read, for the log.
  const std::string &why(size_t i) const { return state_[i].why; }
  // Knob -> the value in force and the rule that sets it.
  std::map<std::string, effect> effects() const;

private:
  struct rule_state {
    std::optional<clock::time_point> holding_since;
    bool active = false;
    std::string why;
  };
  std::vector<rule> rules_;
  std::vector<rule_state> state_;
  std::map<std::string, double> stepped_; // knob -> its stepped value
};

} // namespace ballast
