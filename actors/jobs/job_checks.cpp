// See job_checks.hpp.
#include "actors/jobs/job_checks.hpp"

#include "sys/knobs.hpp"

#include <algorithm>
#include <regex>

namespace ballast::jobs {

namespace {

// io.max and io.weight: "MAJ:MIN VALUE" (io.weight also just "VALUE").
std::string check_device_limit(const job_limit &l, const knobs::knob &k) {
  auto space = l.value.find(' ');
  std::string_view key =
      space == std::string::npos ? "" : std::string_view(l.value).substr(0, space);
  std::string_view rest = space == std::string::npos ? std::string_view(l.value)
                                                     : std::string_view(l.value).substr(space + 1);
  if (key.empty() && k.value != knobs::value_kind::io_weight)
    return "needs a device first: 'MAJ:MIN " + std::string(k.unset) + "'";
  if (!key.empty() && !knobs::is_device(key))
    return "'" + std::string(key) + "' is not a block device MAJ:MIN";
  if (auto ok = knobs::check_value(k, rest); !ok)
    return ok.err().message;
  return "";
}

} // namespace

const std::vector<std::string_view> &limit_knobs() {
  static const std::vector<std::string_view> all = {
      knobs::memory_max.name, knobs::memory_high.name,     knobs::memory_low.name,
      knobs::memory_min.name, knobs::memory_swap_max.name, knobs::cpu_max.name,
      knobs::cpu_weight.name, knobs::io_weight.name,       knobs::io_max.name,
      knobs::pids_max.name,   knobs::cpuset_cpus.name,     knobs::cpuset_mems.name};
  return all;
}

std::string option_of(std::string_view knob) {
  std::string o = "--" + std::string(knob);
  std::replace(o.begin() + 2, o.end(), '.', '-');
  return o;
}

std::string controller_of(std::string_view knob) {
  return std::string(knob.substr(0, knob.find('.')));
}

std::string file_value(const job_limit &l) {
  if (l.knob == knobs::io_weight.name && l.value.find(' ') == std::string::npos)
    return "default " + l.value;
  return l.value;
}

std::vector<std::string> check_request(const job_request &r) {
  std::vector<std::string> errors;
  static const std::regex id_pattern("[A-Za-z0-9_.-]{1,64}");
  if (!std::regex_match(r.id, id_pattern) || r.id == "." || r.id == "..")
    errors.push_back("--id: '" + r.id + "' must match [A-Za-z0-9_.-]{1,64}");
  if (r.argv.empty() || r.argv.front().empty())
    errors.push_back("command: nothing to run (give it after --)");
  if (r.priority < 0 || r.priority > 100)
    errors.push_back("--priority: " + std::to_string(r.priority) + " is not within 0..100");
  if (!r.cwd.empty() && r.cwd.front() != '/')
    errors.push_back("--cwd: '" + r.cwd + "' must be an absolute path");
  for (auto &e : r.env)
    if (e.find('=') == std::string::npos || e.front() == '=')
      errors.push_back("--env: '" + e + "' must be KEY=VALUE");
  for (auto &p : r.require_paths)
    if (p.empty() || p.front() != '/')
      errors.push_back("--require-path: '" + p + "' must be an absolute path");
  if (r.queue_timeout_ms < 0)
    errors.push_back("--queue-timeout: must not be negative");
  std::vector<std::string_view> seen;
  for (auto &l : r.limits) {
    auto allowed = std::find(limit_knobs().begin(), limit_knobs().end(), l.knob);
    if (allowed == limit_knobs().end()) {
      errors.push_back("'" + l.knob + "' is not a limit a job takes");
      continue;
    }
    auto option = option_of(l.knob);
    if (std::find(seen.begin(), seen.end(), l.knob) != seen.end() && l.knob != knobs::io_max.name &&
        l.knob != knobs::io_weight.name)
      errors.push_back(option + ": given twice");
    seen.push_back(*allowed);
    const auto &k = *knobs::find(l.knob);
    std::string problem;
    if (k.per_device)
      problem = check_device_limit(l, k);
    else if (auto ok = knobs::check_value(k, l.value); !ok)
      problem = ok.err().message;
    if (!problem.empty())
      errors.push_back(option + ": " + problem);
  }
  return errors;
}

} // namespace ballast::jobs
