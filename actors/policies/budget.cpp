// budget policy (per cgroup): holds a cgroup to a memory budget with a ladder
// of responses (see budget_ladder.hpp): trace (log + metric), throttle
// (memory.high), freeze (cgroup.freeze), kill (cgroup.kill, or only the
// largest process). Thresholds come from params, or from a budget file that
// is re-read when it changes (a broken file is logged and the last good
// budgets stay). Honours dry-run through the cgroup actor.
//   params: trace, throttle, freeze, kill (sizes, null = rung off),
//           throttle_high (memory.high while throttled; default: the throttle
//           threshold), hysteresis, cooldown, kill_mode ("cgroup" or
//           "largest"), priority (default 100), file.
//   file:   {"budgets": [{"cgroups": ["/glob"], "trace": "1G", ...}, ...]};
//           the first entry whose glob matches the cgroup applies.
#include "actors/laws/budget_ladder.hpp"
#include "actors/policies/memory_sample.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

namespace ballast {

namespace {

using clock = std::chrono::steady_clock;
constexpr std::array<const char *, 4> rung_names = {"trace", "throttle", "freeze", "kill"};

struct budget_params {
  budget_settings ladder;
  std::optional<uint64_t> throttle_high;
  std::string kill_mode = "cgroup";
  int32_t priority = 100;
  std::string file;
};

// The rungs and the ladder's tuning, from params or from a budget file entry.
void read_rungs(params_reader &r, budget_params &p) {
  for (size_t i = 0; i < rung_names.size(); ++i)
    r.optional_bytes(rung_names[i], p.ladder.thresholds[i]);
  r.optional_bytes("throttle_high", p.throttle_high);
  r.number("hysteresis", p.ladder.hysteresis, 0, 0.9);
  r.duration("cooldown", p.ladder.cooldown);
  std::optional<uint64_t> last;
  for (size_t i = 0; i < rung_names.size(); ++i) {
    auto &t = p.ladder.thresholds[i];
    if (t && last && *t < *last)
      r.fail(rung_names[i], "must not be below the rung before it");
    if (t)
      last = t;
  }
}

params_result<budget_params> parse(const std::string &text, const std::string &path) {
  params_result<budget_params> out;
  params_reader r(text, path);
  read_rungs(r, out.value);
  r.choice("kill_mode", out.value.kill_mode, {"cgroup", "largest"});
  r.priority(out.value.priority);
  r.text("file", out.value.file);
  out.errors = r.finish();
  return out;
}

// The budget file's entry for `cgroup`, read over `base`; errors name the
// file and the field.
params_result<budget_params> read_budget_file(const std::string &file, const std::string &cgroup,
                                              budget_params base) {
  params_result<budget_params> out{base, {}};
  auto text = sys::read_small_file(file);
  if (!text) {
    out.errors.push_back({file, text.err().message});
    return out;
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object() || !doc.contains("budgets") || !doc["budgets"].is_array()) {
    out.errors.push_back({file, "must be an object with a \"budgets\" array"});
    return out;
  }
  auto &budgets = doc["budgets"];
  for (size_t i = 0; i < budgets.size(); ++i) {
    auto entry = budgets[i];
    auto where = file + ": budgets[" + std::to_string(i) + "]";
    if (!entry.is_object() || !entry.contains("cgroups") || !entry["cgroups"].is_array()) {
      out.errors.push_back({where, "must be an object with a \"cgroups\" array of globs"});
      continue;
    }
    bool match = false;
    for (auto &g : entry["cgroups"])
      match = match || (g.is_string() && config::glob_match(g.get<std::string>(), cgroup));
    entry.erase("cgroups");
    params_reader r(entry.dump(), where);
    budget_params p = base;
    read_rungs(r, p);
    auto errs = r.finish();
    out.errors.insert(out.errors.end(), errs.begin(), errs.end());
    if (match && errs.empty() && out.errors.empty()) {
      out.value = p;
      return out;
    }
  }
  return out;
}

struct budget_state {
  static constexpr const char *name = "budget";

  config::policy cfg;
  policy_target target;
  policy_env env;
  budget_params base;   // from params
  budget_params params; // in force (the budget file's entry, if any)
  std::optional<budget_ladder> ladder;
  std::unique_ptr<policy_series> series;
  std::unique_ptr<policy_presence> presence;
  std::optional<timespec> file_mtime;
  bool holds_high = false;
  bool holds_freeze = false;
  bool refused = false;
  std::optional<clock::time_point> killed_at; // the last kill, for the cool-down
};

using budget_actor = policy_actor::stateful_pointer<budget_state>;

// Re-reads the budget file when its mtime moved.
void refresh_budgets(budget_actor self) {
  auto &st = self->state;
  if (st.base.file.empty())
    return;
  struct stat sb {};
  if (::stat(st.base.file.c_str(), &sb) != 0) {
    if (st.file_mtime)
      log::warn(st.cfg.name, "budget file ", st.base.file, " is gone: keeping the last budgets");
    st.file_mtime.reset();
    return;
  }
  if (st.file_mtime && st.file_mtime->tv_sec == sb.st_mtim.tv_sec &&
      st.file_mtime->tv_nsec == sb.st_mtim.tv_nsec)
    return;
  st.file_mtime = sb.st_mtim;
  auto r = read_budget_file(st.base.file, st.target.cgroup_path, st.base);
  if (!r.errors.empty()) {
    for (auto &e : r.errors)
      log::error(st.cfg.name, "budget file refused: ", e.to_string());
    log::warn(st.cfg.name, "keeping the budgets in force for ", st.target.cgroup_path);
    st.series->refused("budget_file_invalid");
    return;
  }
  st.params = r.value;
  st.ladder->settings(st.params.ladder);
  log::info(st.cfg.name, "budgets for ", st.target.cgroup_path, " read from ", st.base.file);
}

void claim(budget_actor self, const std::string &knob, const std::string &value,
           const std::string &why) {
  self->request(self->state.env.cgroup, caf::infinite,
                claim_request{knob, value, self->state.params.priority, why})
      .then([](claim_reply &) {},
            [=](caf::error &e) {
              log::warn(self->state.cfg.name, knob, " claim in ", self->state.target.cgroup_path,
                        " refused: ", to_string(e));
            });
}

void release(budget_actor self, const std::string &knob) {
  self->send(self->state.env.cgroup, atom::unclaim_v, knob);
}

// The member with the largest resident set, or 0.
int32_t largest_member(budget_actor self) {
  auto &st = self->state;
  auto procs = st.env.probe->read(sys::files::procs);
  if (!procs)
    return 0;
  int32_t best = 0;
  uint64_t best_rss = 0;
  for (auto pid : sys::parse_pid_list(*procs)) {
    auto statm = sys::pid_file::open(st.env.proc_root, pid, "statm");
    auto rss = statm ? statm->read(sys::parse_statm_resident_pages) : result<uint64_t>(statm.err());
    if (rss && *rss >= best_rss) {
      best = pid;
      best_rss = *rss;
    }
  }
  return best;
}

void kill(budget_actor self, const std::string &why) {
  auto &st = self->state;
  st.killed_at = self->clock().now();
  action_request req{std::string(knobs::cgroup_kill.name), "1", why};
  if (st.params.kill_mode == "largest") {
    auto pid = largest_member(self);
    if (!pid)
      return;
    req = {std::string(knobs::kill_member.name), std::to_string(pid),
           why + ", largest process " + std::to_string(pid)};
  }
  self->request(st.env.cgroup, caf::infinite, req)
      .then([](bool) {},
            [=](caf::error &e) {
              log::warn(self->state.cfg.name, "kill in ", self->state.target.cgroup_path,
                        " failed: ", to_string(e));
            });
}

// Makes the claims match the level.
void enforce(budget_actor self, budget_level level, const memory_sample &s,
             const std::string &why) {
  auto &st = self->state;
  bool want_high =
      level >= budget_level::throttle && st.params.ladder.thresholds[1] && s.reclaimable();
  if (want_high && !st.holds_high) {
    uint64_t high = st.params.throttle_high.value_or(*st.params.ladder.thresholds[1]);
    claim(self, std::string(knobs::memory_high.name), limit_text(high), why);
    st.series->output(double(high));
  } else if (!want_high && st.holds_high) {
    release(self, std::string(knobs::memory_high.name));
    st.series->output(0);
  }
  st.holds_high = want_high;
  bool want_freeze = level >= budget_level::freeze;
  if (want_freeze && !st.holds_freeze)
    claim(self, std::string(knobs::cgroup_freeze.name), "1", why);
  else if (!want_freeze && st.holds_freeze)
    release(self, std::string(knobs::cgroup_freeze.name));
  st.holds_freeze = want_freeze;
  if (level == budget_level::kill &&
      (!st.killed_at || self->clock().now() - *st.killed_at >= st.params.ladder.cooldown))
    kill(self, why);
}

void step(budget_actor self) {
  auto &st = self->state;
  refresh_budgets(self);
  auto s = read_memory_sample(*st.env.probe, st.env.proc_root);
  if (!s)
    return; // logged by the probe's owner; the cgroup is going or has no memory controller
  std::optional<budget_level> skip;
  if (!s->reclaimable() && st.params.ladder.thresholds[1]) {
    skip = budget_level::throttle;
    if (!st.refused)
      log::warn(st.cfg.name, st.target.cgroup_path, ": throttling would not help (no swap, ",
                s->anon, " of ", s->current, " bytes anonymous): skipping the throttle rung");
    if (s->current >= *st.params.ladder.thresholds[1])
      st.series->refused("not_reclaimable");
  }
  st.refused = skip.has_value();
  auto before = st.ladder->level();
  auto level = st.ladder->step(s->current, self->clock().now(), skip);
  st.series->measured(double(s->current));
  st.series->level(double(level));
  auto next = level == budget_level::kill ? level : budget_level(int(level) + 1);
  if (auto t = st.params.ladder.threshold(next))
    st.series->setpoint(double(*t));
  std::string why =
      st.cfg.name + ": usage " + std::to_string(s->current) + ", level " + to_string(level);
  if (level != before) {
    log::info(st.cfg.name, st.target.cgroup_path, ": ", to_string(before), " -> ", to_string(level),
              " at ", s->current, " bytes");
    st.series->decision(level > before ? std::string("up_") + to_string(level)
                                       : std::string("down_") + to_string(level));
  }
  enforce(self, level, *s, why);
}

policy_actor::behavior_type budget(budget_actor self, config::policy cfg, policy_target target,
                                   policy_env env) {
  auto &st = self->state;
  st.series = std::make_unique<policy_series>(env.metrics, cfg.name, target.cgroup_path);
  st.presence = std::make_unique<policy_presence>(env.metrics, cfg.name);
  st.base = st.params = settings_of<budget_params>(cfg);
  st.ladder.emplace(st.params.ladder);
  if (auto first =
          std::find_if(st.params.ladder.thresholds.begin(), st.params.ladder.thresholds.end(),
                       [](auto &t) { return t.has_value(); });
      first != st.params.ladder.thresholds.end())
    st.series->setpoint(double(**first)); // known before the first sample
  st.cfg = std::move(cfg);
  st.target = std::move(target);
  st.env = std::move(env);
  return step_on_interval(self, self->state.cfg.interval, step);
}

compiled_params compile(const config::policy &p, const std::string &path) {
  auto r = parse(p.params, path);
  if (r.errors.empty() && r.value.file.empty() &&
      std::none_of(r.value.ladder.thresholds.begin(), r.value.ladder.thresholds.end(),
                   [](auto &t) { return t.has_value(); }))
    r.errors.push_back({path, "needs at least one of trace, throttle, freeze, kill, or a file"});
  return compiled(std::move(r));
}

} // namespace

extern const policy_type budget_policy = {
    "budget", "a memory budget with a ladder: trace, throttle (memory.high), freeze, kill",
    policy_scope::cgroup, compile, spawn_policy<budget>};

} // namespace ballast
