// `inspect` for the config IR, so a config crosses actor and network
// boundaries (reload from the supervisor, apply from a coordinator) as data.
#pragma once

#include "config/config.hpp"

#include <caf/meta/type_name.hpp>

namespace ballast::config {

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, selector &x) {
  return f(caf::meta::type_name("ballast.selector"), x.cgroups, x.comm, x.exe, x.uids);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, policy &x) {
  return f(caf::meta::type_name("ballast.policy"), x.name, x.type, x.interval, x.select, x.params);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, host_setting &x) {
  return f(caf::meta::type_name("ballast.host_setting"), x.knob, x.value);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, pressure_limit &x) {
  return f(caf::meta::type_name("ballast.pressure_limit"), x.resource, x.avg10);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, admission_band &x) {
  return f(caf::meta::type_name("ballast.admission_band"), x.max_priority, x.limits);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, response_rule &x) {
  return f(caf::meta::type_name("ballast.response_rule"), x.enabled, x.pressure, x.above, x.below,
           x.cooldown);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, job_response &x) {
  return f(caf::meta::type_name("ballast.job_response"), x.max_priority, x.interval, x.hold,
           x.freeze, x.kill, x.kill_hook, x.kill_hook_time, x.demote, x.demote_weight, x.io_freeze);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, agent &x) {
  return f(caf::meta::type_name("ballast.agent_config"), x.metrics_address, x.metrics_port,
           x.metrics_cgroups, x.metrics_max_cgroups, x.sched_enabled, x.sched_interval,
           x.gpu_enabled, x.gpu_interval, x.gpu_rescan, x.journal_path, x.dry_run,
           x.shutdown_deadline, x.ring_buffer_bytes, x.watch_include, x.watch_exclude, x.policies,
           x.control_address, x.control_port, x.tls_certificate, x.tls_key, x.tls_ca,
           x.control_cookie, x.control_group, x.control_open_reads, x.host_settings, x.jobs_root,
           x.jobs_dir, x.jobs_log_max, x.jobs_admission, x.jobs_response);
}

} // namespace ballast::config
