// The canonical form of the IR and its hash: equal configs hash equal
// whatever their source's key order, spacing, comments or omitted defaults.
#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace ballast::config {
namespace {

using json = nlohmann::json;

// The IR as JSON with a fixed shape and sorted keys: equal IRs give equal
// text whatever the source's order, spacing, comments or omitted defaults.
json canonical(const selector &s) {
  const auto regex_or_null = [](const std::optional<std::string> &r) {
    return r ? json(*r) : json(nullptr);
  };
  return {{"cgroups", s.cgroups},
          {"comm", regex_or_null(s.comm)},
          {"exe", regex_or_null(s.exe)},
          {"uids", s.uids}};
}

json canonical(const policy &p) {
  return {{"name", p.name},
          {"type", p.type},
          {"interval_ms", p.interval.count()},
          {"select", canonical(p.select)},
          {"params", p.params}};
}

json canonical(const agent &a) {
  json policies = json::array();
  for (const auto &p : a.policies)
    policies.push_back(canonical(p));
  json host_settings = json::object();
  for (const auto &h : a.host_settings)
    host_settings[h.knob] = h.value;
  json admission = json::array();
  for (const auto &b : a.jobs_admission) {
    json limits = json::object();
    for (const auto &l : b.limits)
      limits[l.resource] = l.avg10;
    admission.push_back({{"max_priority", b.max_priority}, {"limits", limits}});
  }
  auto rule = [](const response_rule &r) -> json {
    if (!r.enabled)
      return false;
    return {{"pressure", r.pressure},
            {"above", r.above},
            {"below", r.below},
            {"cooldown_ms", r.cooldown.count()}};
  };
  const auto &r = a.jobs_response;
  json response = {{"max_priority", r.max_priority},
                   {"interval_ms", r.interval.count()},
                   {"hold_ms", r.hold.count()},
                   {"freeze", rule(r.freeze)},
                   {"kill", rule(r.kill)},
                   {"kill_hook", r.kill_hook},
                   {"kill_hook_time_ms", r.kill_hook_time.count()},
                   {"demote", rule(r.demote)},
                   {"demote_weight", r.demote_weight},
                   {"io_freeze", rule(r.io_freeze)}};
  return {{"metrics_address", a.metrics_address},
          {"metrics_port", a.metrics_port},
          {"metrics_cgroups", a.metrics_cgroups},
          {"metrics_max_cgroups", a.metrics_max_cgroups},
          {"sched_enabled", a.sched_enabled},
          {"sched_interval_ms", a.sched_interval.count()},
          {"gpu_enabled", a.gpu_enabled},
          {"gpu_interval_ms", a.gpu_interval.count()},
          {"gpu_rescan_ms", a.gpu_rescan.count()},
          {"journal_path", a.journal_path},
          {"dry_run", a.dry_run},
          {"shutdown_deadline_ms", a.shutdown_deadline.count()},
          {"ring_buffer_bytes", a.ring_buffer_bytes},
          {"watch_include", a.watch_include},
          {"watch_exclude", a.watch_exclude},
          {"policies", std::move(policies)},
          {"control_address", a.control_address},
          {"control_port", a.control_port},
          {"tls", {a.tls_certificate, a.tls_key, a.tls_ca}},
          {"control_cookie", a.control_cookie},
          {"control_group", a.control_group},
          {"control_open_reads", a.control_open_reads},
          {"host_settings", host_settings},
          {"jobs_root", a.jobs_root},
          {"jobs_dir", a.jobs_dir},
          {"jobs_log_max", a.jobs_log_max},
          {"jobs_admission", std::move(admission)},
          {"jobs_response", std::move(response)}};
}

// 64-bit FNV-1a: tiny, and the same on every build and run (std::hash is not).
uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325;
  for (const unsigned char c : bytes)
    h = (h ^ c) * 0x100000001b3;
  return h;
}

} // namespace

std::string config_hash(const agent &a) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a(canonical(a).dump())));
  return hex;
}

} // namespace ballast::config
