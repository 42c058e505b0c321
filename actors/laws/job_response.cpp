// See job_response.hpp.
#include "actors/laws/job_response.hpp"

#include <algorithm>
#include <cstdio>

namespace ballast::laws {

namespace {

const response_job *first(const std::vector<const response_job *> &jobs, auto before) {
  auto it =
      std::min_element(jobs.begin(), jobs.end(), [&](auto *a, auto *b) { return before(*a, *b); });
  return it == jobs.end() ? nullptr : *it;
}

// The order jobs are given up in: lowest priority, then largest memory.
bool give_up_first(const response_job &a, const response_job &b) {
  return a.priority != b.priority ? a.priority < b.priority : a.memory > b.memory;
}

// The order they come back in: highest priority, then smallest memory.
bool bring_back_first(const response_job &a, const response_job &b) {
  return a.priority != b.priority ? a.priority > b.priority : a.memory < b.memory;
}

double share_of(const response_reading &r, const std::string &pressure) {
  auto it = r.share.find(pressure);
  return it == r.share.end() ? 0 : it->second;
}

} // namespace

std::vector<std::pair<std::string, const config::response_rule *>>
response_rules(const config::job_response &r) {
  return {
      {"freeze", &r.freeze}, {"kill", &r.kill}, {"demote", &r.demote}, {"io_freeze", &r.io_freeze}};
}

std::string percent_text(double v) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f %%", v);
  return s;
}

bool job_response_law::may(clock::time_point now, clock::time_point last,
                           std::chrono::milliseconds cooldown) const {
  return last == clock::time_point{} || now - last >= cooldown;
}

std::chrono::milliseconds job_response_law::hold_of(const rule_clock &c) const {
  return cfg_.hold * (1 << std::min(c.relapses, 4));
}

void job_response_law::acted(clock::time_point now, const std::string &name) {
  auto &c = clocks_[name];
  bool relapse = c.undone != clock::time_point{} && now - c.undone < hold_of(c);
  c.relapses = relapse ? c.relapses + 1 : 0;
  c.acted = now;
}

void job_response_law::watch(clock::time_point now, const std::string &name,
                             const config::response_rule &rule, const response_reading &r) {
  auto &c = clocks_[name];
  double share = share_of(r, rule.pressure);
  bool over = rule.enabled && (share >= rule.above || r.triggered.count(name));
  if (over && !c.over)
    rose_.push_back(name);
  c.over = over;
  if (share >= rule.below || over)
    c.calm_since = {};
  else if (c.calm_since == clock::time_point{})
    c.calm_since = now;
}

std::string job_response_law::over_reason(const config::response_rule &rule,
                                          const response_reading &r) const {
  double share = share_of(r, rule.pressure);
  if (share >= rule.above)
    return rule.pressure + " " + percent_text(share) + " is above " + percent_text(rule.above);
  return rule.pressure + " trigger: above " + percent_text(rule.above) + " of its window";
}

std::string job_response_law::calm_reason(const std::string &name,
                                          const config::response_rule &rule,
                                          const response_reading &r) {
  if (!rule.enabled)
    return "the rule is off";
  return rule.pressure + " " + percent_text(share_of(r, rule.pressure)) + " has stayed below " +
         percent_text(rule.below) + " for " + std::to_string(hold_of(clocks_[name]).count()) +
         " ms";
}

std::vector<response_action> job_response_law::step(clock::time_point now,
                                                    const response_reading &r,
                                                    const std::vector<response_job> &jobs) {
  rose_.clear();
  std::vector<response_action> out;
  for (auto &[name, rule] : response_rules(cfg_))
    watch(now, name, *rule, r);

  // IO in the last interval, by job.
  std::map<std::string, uint64_t> io_now, io_delta;
  for (auto &j : jobs) {
    io_now[j.id] = j.io_bytes;
    auto seen = io_seen_.find(j.id);
    if (seen != io_seen_.end() && j.io_bytes > seen->second)
      io_delta[j.id] = j.io_bytes - seen->second;
  }
  io_seen_ = std::move(io_now);

  std::vector<const response_job *> running, eligible, thawed;
  for (auto &j : jobs) {
    bool ours = j.frozen_by == "freeze" || j.frozen_by == "io_freeze";
    if (!j.running) {
      // An ended job is let go at once: a frozen one could not be removed.
      if (ours)
        out.push_back({"thaw", j.id, j.frozen_by, "the job has ended"});
      if (j.demoted)
        out.push_back({"restore", j.id, "demote", "the job has ended"});
      continue;
    }
    running.push_back(&j);
    if (j.priority <= cfg_.max_priority) {
      eligible.push_back(&j);
      if (j.frozen_by.empty())
        thawed.push_back(&j);
    }
  }

  auto act = [&](const std::string &name, const config::response_rule &rule) {
    auto &c = clocks_[name];
    return c.over && may(now, c.acted, rule.cooldown);
  };
  // A rule switched off lets its jobs go at once.
  auto undo = [&](const std::string &name, const config::response_rule &rule) {
    auto &c = clocks_[name];
    return !rule.enabled || (c.calm_since != clock::time_point{} &&
                             now - c.calm_since >= hold_of(c) && may(now, c.undone, rule.cooldown));
  };

  // Kill first: a job that is killed needs no freeze, nor another one this step.
  bool killed = false;
  if (act("kill", cfg_.kill))
    if (auto *j = first(eligible, give_up_first)) {
      out.push_back({"kill", j->id, "kill", over_reason(cfg_.kill, r)});
      acted(now, "kill");
      killed = true;
    }
  std::string frozen_now;
  if (!killed && act("freeze", cfg_.freeze))
    if (auto *j = first(thawed, give_up_first)) {
      out.push_back({"freeze", j->id, "freeze", over_reason(cfg_.freeze, r)});
      acted(now, "freeze");
      frozen_now = j->id;
    }
  if (!killed && act("io_freeze", cfg_.io_freeze)) {
    std::vector<const response_job *> busy;
    for (auto *j : thawed)
      if (j->id != frozen_now && io_delta.count(j->id))
        busy.push_back(j);
    auto heaviest = [&](const response_job &a, const response_job &b) {
      auto da = io_delta[a.id], db = io_delta[b.id];
      return da != db ? da > db : a.priority < b.priority;
    };
    if (auto *j = first(busy, heaviest)) {
      out.push_back({"freeze", j->id, "io_freeze",
                     over_reason(cfg_.io_freeze, r) + "; " + std::to_string(io_delta[j->id]) +
                         " bytes of IO in the last interval"});
      acted(now, "io_freeze");
    }
  }
  const std::pair<std::string, const config::response_rule *> freezes[] = {
      {"freeze", &cfg_.freeze}, {"io_freeze", &cfg_.io_freeze}};
  for (auto &[name, rule] : freezes) {
    if (!undo(name, *rule))
      continue;
    std::vector<const response_job *> ours;
    for (auto *j : running)
      if (j->frozen_by == name)
        ours.push_back(j);
    if (auto *j = first(ours, bring_back_first)) {
      out.push_back({"thaw", j->id, name, calm_reason(name, *rule, r)});
      clocks_[name].undone = now;
    }
  }

  auto before = out.size();
  if (act("demote", cfg_.demote)) {
    for (auto *j : eligible)
      if (!j->demoted)
        out.push_back({"demote", j->id, "demote", over_reason(cfg_.demote, r)});
    if (out.size() > before)
      acted(now, "demote");
  } else if (undo("demote", cfg_.demote)) {
    for (auto *j : running)
      if (j->demoted)
        out.push_back({"restore", j->id, "demote", calm_reason("demote", cfg_.demote, r)});
    if (out.size() > before)
      clocks_["demote"].undone = now;
  }
  return out;
}

} // namespace ballast::laws
