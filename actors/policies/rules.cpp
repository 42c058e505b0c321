// rules policy (per cgroup): a heuristic strategy in JSON. Each rule is
// conditions on named signals (see rule_set.hpp) combined with all or any,
// a `for` duration, and the knob values it sets on the cgroup while it is
// active; the effect ends when the rule stops holding (the claim is given
// back, and the knob's owner restores it). `step` moves a knob by `by` each
// interval from the value it had when the rule fired, to `to`. A rule
// without `set` or `step` notifies:
// its fire and end log lines reach `ballastctl watch`. Evaluated every
// interval (not on PSI triggers: the avg10 a condition reads moves every
// 2 s, so an earlier look would read the value the interval reads). With
// dry_run, what would fire and why is logged and nothing is claimed.
//   params: rules [{name, all | any: [{signal, op (> >= < <=), value}],
//           for, set: {knob: value}, step: {knob: {by, to}}}], dry_run,
//           priority.
#include "actors/laws/rule_set.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"
#include "sys/text.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace ballast {

namespace {

using json = nlohmann::json;

struct rules_params {
  std::vector<rule> rules;
  bool dry_run = false;
  int32_t priority = 0;
};

// Whether a knob holds a plain number a rule may step.
bool steppable(const knobs::knob &k) {
  using v = knobs::value_kind;
  bool number = k.value == v::weight || k.value == v::range || k.value == v::bytes_or_max ||
                k.value == v::count_or_max || k.value == v::khz;
  return number && k.scope == knobs::scope::cgroup && k.effect == knobs::effect::setting &&
         !k.per_device;
}

// One knob's step ({"by": -10, "to": 10}); what is wrong with it, or "".
std::string parse_step(const std::string &knob, const json &j, knob_step &out) {
  auto *row = knobs::find(knob);
  if (!row || !steppable(*row))
    return "not a cgroup knob of one number a rule may step (cpu.weight, memory.high, ...)";
  if (!j.is_object() || !j.contains("by") || !j["by"].is_number() || j["by"] == 0 ||
      !j.contains("to") || !j["to"].is_number() || j.size() != 2)
    return R"(must be {"by": N, "to": BOUND}, N a number other than 0)";
  out = {j["by"].get<double>(), j["to"].get<double>()};
  if (auto ok = knobs::check_value(*row, std::to_string(std::llround(out.to))); !ok)
    return "to: " + ok.err().message;
  return "";
}

// One rule's JSON; errors go to `errors` under `at` ("...params.rules[0]").
std::optional<rule> parse_rule(const json &j, const std::string &at,
                               std::vector<config::config_error> &errors) {
  auto fail = [&](const std::string &field, const std::string &why) {
    errors.push_back({at + (field.empty() ? "" : "." + field), why});
  };
  if (!j.is_object()) {
    fail("", "must be an object with name, all or any, for and set");
    return std::nullopt;
  }
  rule r;
  size_t before = errors.size();
  for (auto &[key, v] : j.items())
    if (key != "name" && key != "all" && key != "any" && key != "for" && key != "set" &&
        key != "step")
      fail(key, "unknown field (a rule has name, all or any, for, set, step)");
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
    fail("name", "must be a non-empty string");
  else
    r.name = j["name"];
  r.any = j.contains("any");
  if (j.contains("all") == j.contains("any")) {
    fail("all", "a rule has exactly one of all or any: an array of conditions");
  } else {
    auto key = r.any ? "any" : "all";
    auto &conds = j[key];
    if (!conds.is_array() || conds.empty())
      fail(key, "must be a non-empty array of {signal, op, value}");
    for (size_t i = 0; conds.is_array() && i < conds.size(); ++i) {
      auto field = std::string(key) + "[" + std::to_string(i) + "]";
      auto &c = conds[i];
      rule_condition rc;
      auto &known = rule_signals();
      if (!c.is_object() || !c.contains("signal") || !c["signal"].is_string() ||
          std::find(known.begin(), known.end(), c["signal"].get<std::string>()) == known.end()) {
        std::string all;
        for (auto &s : known)
          all += (all.empty() ? "" : ", ") + s;
        fail(field + ".signal", "must be one of " + all);
        continue;
      }
      rc.signal = c["signal"];
      static const std::map<std::string, rule_op> ops = {
          {">", rule_op::gt}, {">=", rule_op::ge}, {"<", rule_op::lt}, {"<=", rule_op::le}};
      auto op = c.contains("op") && c["op"].is_string() ? ops.find(c["op"]) : ops.end();
      if (op == ops.end())
        fail(field + ".op", R"(must be one of ">", ">=", "<", "<=")");
      else
        rc.op = op->second;
      if (!c.contains("value") || !c["value"].is_number())
        fail(field + ".value", "must be a number");
      else
        rc.value = c["value"];
      for (auto &[k, v] : c.items())
        if (k != "signal" && k != "op" && k != "value")
          fail(field + "." + k, "unknown field (a condition has signal, op, value)");
      r.conditions.push_back(rc);
    }
  }
  if (j.contains("for")) {
    auto d =
        j["for"].is_string() ? config::parse_duration(j["for"].get<std::string>()) : std::nullopt;
    if (!d)
      fail("for", R"(must be a duration like "2s")");
    else
      r.hold_for = *d;
  }
  if (!j.contains("set")) {
    // A notification: its fire and end are logged (so streamed to watchers) and counted.
  } else if (!j["set"].is_object() || j["set"].empty()) {
    fail("set", R"(must be an object of knob values, like {"cpu.weight": "10"})");
  } else {
    for (auto &[knob, v] : j["set"].items()) {
      auto value = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
      auto ok = knobs::check_write(knobs::scope::cgroup, knob, knobs::effect::setting, value);
      if (!v.is_string() && !v.is_number())
        fail("set." + knob, "must be a string or a number");
      else if (!ok)
        fail("set." + knob, ok.err().message);
      else
        r.sets[knob] = value;
    }
  }
  if (j.contains("step")) {
    auto &steps = j["step"];
    if (!steps.is_object() || steps.empty())
      fail("step",
           R"(must be an object of knob steps, like {"cpu.weight": {"by": -10, "to": 10}})");
    else
      for (auto &[knob, v] : steps.items())
        if (auto why = parse_step(knob, v, r.steps[knob]); !why.empty())
          fail("step." + knob, why);
  }
  if (errors.size() != before)
    return std::nullopt;
  return r;
}

params_result<rules_params> parse(const std::string &text, const std::string &path) {
  params_result<rules_params> out;
  params_reader r(text, path);
  std::optional<std::string> rules;
  r.raw("rules", rules);
  r.flag("dry_run", out.value.dry_run);
  r.priority(out.value.priority);
  out.errors = r.finish();
  auto doc = rules ? json::parse(*rules) : json();
  if (!doc.is_array() || doc.empty()) {
    out.errors.push_back({path + ".rules", "must be a non-empty array of rules"});
    return out;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < doc.size(); ++i) {
    auto at = path + ".rules[" + std::to_string(i) + "]";
    if (auto one = parse_rule(doc[i], at, out.errors)) {
      if (!names.insert(one->name).second)
        out.errors.push_back({at + ".name", "'" + one->name + "' names another rule too"});
      out.value.rules.push_back(std::move(*one));
    }
  }
  return out;
}

struct rules_state {
  static constexpr const char *name = "rules";

  config::policy cfg;
  policy_target target;
  policy_env env;
  rules_params params;
  std::unique_ptr<rule_set> law;
  std::set<std::string> signals; // those the rules name
  std::unique_ptr<policy_series> series;
  std::unique_ptr<policy_presence> presence;
  std::vector<bool> was_active;
  std::map<std::string, std::string> held; // knob -> the value claimed
};

using rules_actor = policy_actor::stateful_pointer<rules_state>;

std::optional<double> psi_avg10(const result<std::string> &text, const std::string &kind) {
  auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
  if (!psi)
    return std::nullopt;
  if (kind == "some")
    return psi->some.avg10;
  return psi->full ? std::optional(psi->full->avg10) : std::nullopt;
}

// A sched window's signal (p50_ms, p99_ms, p99_median_ms, burst).
std::optional<double> wait_signal(const wait_view &w, const std::string &window) {
  auto ms = [](std::optional<double> s) { return s ? std::optional(*s * 1e3) : std::nullopt; };
  if (window == "burst")
    return w.burst ? 1.0 : 0.0;
  return ms(window == "p50_ms" ? w.p50 : window == "p99_ms" ? w.p99 : w.p99_median);
}

// The value of each signal the rules name that can be read now.
std::map<std::string, double> read_signals(rules_actor self) {
  auto &st = self->state;
  std::map<std::string, double> out;
  auto sched = st.env.probe->sched(self->clock().now());
  for (auto &s : st.signals) {
    std::optional<double> v;
    auto dot = s.find('.'), dot2 = s.find('.', dot + 1), dot3 = s.find('.', dot2 + 1);
    auto resource = s.substr(dot + 1, dot2 - dot - 1), kind = s.substr(dot2 + 1, dot3 - dot2 - 1);
    if (s.ends_with(".avg10") && s.starts_with("host."))
      v = psi_avg10(sys::read_small_file(st.env.proc_root + "/pressure/" + resource), kind);
    else if (s.ends_with(".avg10"))
      v = psi_avg10(st.env.probe->read(resource + ".pressure"), kind);
    else if (s.starts_with("cgroup.cpu.") && sched)
      v = s == "cgroup.cpu.cores" ? sched->cpu_cores : sched->cpu_cores_ewma;
    else if (sched && (resource == "runq" || resource == "futex" || resource == "io"))
      v = wait_signal(resource == "runq"    ? sched->runq
                      : resource == "futex" ? sched->futex
                                            : sched->io,
                      kind);
    else if (s == "cgroup.memory.current")
      if (auto text = st.env.probe->read(sys::files::memory_current))
        if (auto n = sys::text::parse_number<uint64_t>(sys::text::trim(*text)))
          v = double(*n);
    if (v)
      out[s] = *v;
  }
  return out;
}

void claim(rules_actor self, const std::string &knob, const std::optional<std::string> &value,
           const std::string &why) {
  auto &st = self->state;
  if (!value) {
    st.held.erase(knob);
    self->send(st.env.cgroup, atom::unclaim_v, knob);
    return;
  }
  st.held[knob] = *value;
  self->request(st.env.cgroup, caf::infinite, claim_request{knob, *value, st.params.priority, why})
      .then([](claim_reply &) {},
            [=](caf::error &e) {
              log::warn(self->state.cfg.name, self->state.target.cgroup_path, ": ", knob,
                        " claim refused: ", to_string(e));
            });
}

// The value each knob a rule steps has now, where it is a number.
std::map<std::string, double> read_stepped_knobs(rules_actor self) {
  std::map<std::string, double> out;
  for (auto &r : self->state.params.rules)
    for (auto &[knob, by] : r.steps)
      if (auto text = self->state.env.probe->read(knob))
        if (auto n = sys::text::parse_number<double>(sys::text::trim(*text)))
          out[knob] = *n;
  return out;
}

void step(rules_actor self) {
  auto &st = self->state;
  st.law->step(read_signals(self), self->clock().now(), read_stepped_knobs(self));
  auto &rules = st.law->rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    if (st.law->active(i) == st.was_active[i])
      continue;
    st.was_active[i] = st.law->active(i);
    st.series->decision(st.was_active[i] ? "fire" : "end");
    log::info(st.cfg.name, st.target.cgroup_path, ": rule ", rules[i].name,
              st.was_active[i] ? " fires" : " ends", st.params.dry_run ? " (dry run)" : "", ": ",
              st.law->why(i));
  }
  if (st.params.dry_run)
    return;
  auto effects = st.law->effects();
  for (auto &[knob, e] : effects)
    if (auto h = st.held.find(knob); h == st.held.end() || h->second != e.value)
      claim(self, knob, e.value, st.cfg.name + ": rule " + e.rule);
  for (auto h = st.held.begin(); h != st.held.end();) {
    auto knob = (h++)->first; // claim() erases it
    if (!effects.count(knob))
      claim(self, knob, std::nullopt, "");
  }
}

policy_actor::behavior_type rules_policy_behavior(rules_actor self, config::policy cfg,
                                                  policy_target target, policy_env env) {
  auto &st = self->state;
  st.params = settings_of<rules_params>(cfg);
  st.law = std::make_unique<rule_set>(st.params.rules);
  for (auto &r : st.params.rules)
    for (auto &c : r.conditions)
      st.signals.insert(c.signal);
  st.was_active.assign(st.params.rules.size(), false);
  st.series = std::make_unique<policy_series>(env.metrics, cfg.name, target.cgroup_path);
  st.presence = std::make_unique<policy_presence>(env.metrics, cfg.name);
  st.cfg = std::move(cfg);
  st.target = std::move(target);
  st.env = std::move(env);
  return step_on_interval(self, st.cfg.interval, step);
}

} // namespace

extern const policy_type rules_policy = {
    "rules",
    "thresholded rules over named signals (PSI, run-queue delay, on-CPU cores, memory): knob "
    "values held on the cgroup while a rule holds, given back when it stops",
    policy_scope::cgroup, compile_params<parse>, spawn_policy<rules_policy_behavior>};

} // namespace ballast
