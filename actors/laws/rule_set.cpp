#include "actors/laws/rule_set.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ballast {

const std::vector<std::string> &rule_signals() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (auto scope : {"host", "cgroup"})
      for (auto resource : {"cpu", "memory", "io"})
        for (auto kind : {"some", "full"})
          out.push_back(std::string(scope) + "." + resource + "." + kind + ".avg10");
    for (auto wait : {"runq", "futex", "io"})
      for (auto window : {"p50_ms", "p99_ms", "p99_median_ms", "burst"})
        out.push_back(std::string("cgroup.") + wait + "." + window);
    out.insert(out.end(), {"cgroup.cpu.cores", "cgroup.cpu.cores_ewma", "cgroup.memory.current"});
    return out;
  }();
  return names;
}

namespace {

const char *symbol(rule_op op) {
  switch (op) {
  case rule_op::gt:
    return ">";
  case rule_op::ge:
    return ">=";
  case rule_op::lt:
    return "<";
  case rule_op::le:
    return "<=";
  }
  return "?";
}

bool holds(const rule_condition &c, std::optional<double> v) {
  if (!v)
    return false;
  switch (c.op) {
  case rule_op::gt:
    return *v > c.value;
  case rule_op::ge:
    return *v >= c.value;
  case rule_op::lt:
    return *v < c.value;
  case rule_op::le:
    return *v <= c.value;
  }
  return false;
}

} // namespace

// Whole numbers (bytes) in full, others to four significant digits.
std::string number(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string describe(const rule_condition &c, std::optional<double> value) {
  return c.signal + " " + (value ? number(*value) : "(no value)") + " " + symbol(c.op) + " " +
         number(c.value);
}

rule_set::rule_set(std::vector<rule> rules) : rules_(std::move(rules)), state_(rules_.size()) {}

void rule_set::step(const std::map<std::string, double> &values, clock::time_point now,
                    const std::map<std::string, double> &knob_values) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    auto &r = rules_[i];
    auto &st = state_[i];
    bool all = true, some = false;
    st.why.clear();
    for (auto &c : r.conditions) {
      auto it = values.find(c.signal);
      auto v = it == values.end() ? std::nullopt : std::optional<double>(it->second);
      bool h = holds(c, v);
      all = all && h;
      some = some || h;
      st.why += (st.why.empty() ? "" : r.any ? " or " : " and ") + describe(c, v);
    }
    if (!(r.any ? some : all)) {
      st.holding_since.reset();
      st.active = false;
      continue;
    }
    if (!st.holding_since)
      st.holding_since = now;
    st.active = now - *st.holding_since >= r.hold_for;
  }
  // Each stepped knob moves once, by the first active rule that steps it.
  std::map<std::string, double> moved;
  for (size_t i = 0; i < rules_.size(); ++i)
    for (auto &[knob, by] : rules_[i].steps) {
      if (!state_[i].active || moved.count(knob))
        continue;
      auto from = stepped_.find(knob);
      auto start = knob_values.find(knob);
      if (from == stepped_.end() && start == knob_values.end())
        continue;
      double v = (from != stepped_.end() ? from->second : start->second) + by.by;
      moved[knob] = by.by < 0 ? std::max(v, by.to) : std::min(v, by.to);
    }
  stepped_ = std::move(moved);
}

std::map<std::string, rule_set::effect> rule_set::effects() const {
  std::map<std::string, effect> out;
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (!state_[i].active)
      continue;
    for (auto &[knob, value] : rules_[i].sets)
      out.try_emplace(knob, effect{value, rules_[i].name});
    for (auto &[knob, by] : rules_[i].steps)
      if (auto v = stepped_.find(knob); v != stepped_.end())
        out.try_emplace(knob, effect{number(std::round(v->second)), rules_[i].name});
  }
  return out;
}

} // namespace ballast
