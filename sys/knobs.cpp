#include "sys/knobs.hpp"

#include "sys/cpu_topology.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <vector>

namespace ballast::knobs {

namespace {

constexpr std::array rows = {memory_high,
                             memory_max,
                             memory_low,
                             memory_min,
                             memory_swap_max,
                             pids_max,
                             memory_reclaim,
                             cgroup_freeze,
                             cgroup_kill,
                             kill_member,
                             cgroup_max_descendants,
                             cgroup_max_depth,
                             cpu_weight,
                             cpu_max,
                             cpuset_cpus,
                             cpuset_mems,
                             io_max,
                             io_weight,
                             vm_swappiness,
                             vm_watermark_scale_factor,
                             cpufreq_min,
                             cpufreq_max};

using sys::text::parse_number;

bool is_count(std::string_view v) {
  return parse_number<uint64_t>(v).has_value();
}

bool in_range(std::string_view v, int64_t lo, int64_t hi) {
  auto n = parse_number<int64_t>(v);
  return n && *n >= lo && *n <= hi;
}

// "QUOTA [PERIOD]" as cpu.max takes it.
bool is_cpu_max(std::string_view v) {
  std::vector<std::string_view> words;
  sys::text::split_words(v, words);
  if (words.empty() || words.size() > 2)
    return false;
  if (words[0] != "max" && !in_range(words[0], 1000, INT64_MAX))
    return false;
  return words.size() == 1 || in_range(words[1], 1000, 1000000);
}

// "rbps=N wbps=N riops=N wiops=N" as io.max takes it: each at most once.
bool is_io_max(std::string_view v) {
  std::vector<std::string_view> words;
  sys::text::split_words(v, words);
  std::vector<std::string_view> seen;
  for (auto w : words) {
    auto eq = w.find('=');
    auto key = w.substr(0, eq);
    bool known = key == "rbps" || key == "wbps" || key == "riops" || key == "wiops";
    if (eq == std::string_view::npos || !known ||
        std::find(seen.begin(), seen.end(), key) != seen.end())
      return false;
    auto n = w.substr(eq + 1);
    if (n != "max" && !in_range(n, 1, INT64_MAX))
      return false;
    seen.push_back(key);
  }
  return !words.empty();
}

std::string expected(const knob &k) {
  switch (k.value) {
  case value_kind::bytes_or_max:
    return "\"max\" or a byte count";
  case value_kind::count_or_max:
    return "\"max\" or a count";
  case value_kind::flag:
    return "0 or 1";
  case value_kind::bytes:
    return "a byte count";
  case value_kind::weight:
    return "a weight 1..10000";
  case value_kind::cpu_max:
    return "\"QUOTA [PERIOD]\" (QUOTA max or >= 1000 us, PERIOD 1000..1000000 us)";
  case value_kind::cpu_list:
    return "a CPU list such as 0-3,5 (or empty)";
  case value_kind::range:
    return "an integer " + std::to_string(k.min) + ".." + std::to_string(k.max);
  case value_kind::khz:
    return "a frequency in kHz";
  case value_kind::pid:
    return "a process id";
  case value_kind::io_max:
    return "\"rbps=N wbps=N riops=N wiops=N\" (any of them, N a count or max)";
  case value_kind::io_weight:
    return "a weight 1..10000 or \"default\"";
  }
  return "?";
}

bool accepts(const knob &k, std::string_view v) {
  switch (k.value) {
  case value_kind::bytes_or_max:
  case value_kind::count_or_max:
    return v == "max" || is_count(v);
  case value_kind::flag:
    return v == "0" || v == "1";
  case value_kind::bytes:
    return is_count(v);
  case value_kind::weight:
    return in_range(v, 1, 10000);
  case value_kind::cpu_max:
    return is_cpu_max(v);
  case value_kind::cpu_list:
    return sys::parse_cpu_list(v).has_value();
  case value_kind::range:
    return in_range(v, k.min, k.max);
  case value_kind::khz:
    return in_range(v, 1, INT64_MAX);
  case value_kind::pid:
    return in_range(v, 1, INT32_MAX);
  case value_kind::io_max:
    return is_io_max(v);
  case value_kind::io_weight:
    return v == "default" || in_range(v, 1, 10000);
  }
  return false;
}

} // namespace

std::span<const knob> table() {
  return rows;
}

const knob *find(std::string_view name) {
  for (auto &k : rows)
    if (k.name == name)
      return &k;
  return nullptr;
}

status check_value(const knob &k, std::string_view value) {
  if (accepts(k, value))
    return success();
  return error{EINVAL,
               std::string(k.name) + ": '" + std::string(value) + "' is not " + expected(k)};
}

result<instance> find_instance(std::string_view name) {
  auto colon = name.find(':'); // a device key has one of its own
  instance in{find(name.substr(0, colon)), std::nullopt, ""};
  if (!in.row)
    return error{EINVAL, "not a knob ballast writes: " + std::string(name)};
  auto suffix = colon == std::string_view::npos ? "" : name.substr(colon + 1);
  if (in.row->per_device) {
    bool named_default = suffix == "default" && in.row->value == value_kind::io_weight;
    if (!is_device(suffix) && !named_default)
      return error{EINVAL, std::string(in.row->name) + " is claimed per block device, as \"" +
                               std::string(in.row->name) + ":MAJ:MIN\": not '" + std::string(name) +
                               "'"};
    in.key = suffix;
    return in;
  }
  if (colon != std::string_view::npos) {
    in.n = parse_number<unsigned>(suffix);
    if (!in.n)
      return error{EINVAL, "bad knob number in '" + std::string(name) + "'"};
  }
  if (in.row->scope == scope::system) {
    if (auto p = system_path(*in.row, in.n); !p)
      return p.err();
  } else if (in.n) {
    return error{EINVAL, std::string(in.row->name) + " takes no number"};
  }
  return in;
}

status check_write(enum scope s, std::string_view name, effect e, std::string_view value) {
  auto in = find_instance(name);
  if (!in || in->row->scope != s || in->row->effect != e) {
    auto what = e == effect::action  ? "unknown action: "
                : s == scope::cgroup ? "not a cgroup knob ballast claims: "
                                     : "not a system knob ballast claims: ";
    return error{EINVAL, what + std::string(name) + (in ? "" : " (" + in.err().message + ")")};
  }
  return check_value(*in->row, value);
}

result<std::string> system_path(const knob &k, std::optional<unsigned> n) {
  if (k.scope != scope::system)
    return error{EINVAL, std::string(k.name) + " is a cgroup file, not a system one"};
  std::string path(k.path);
  auto hole = path.find("{}");
  if ((hole == std::string::npos) != !n)
    return error{EINVAL, std::string(k.name) + (n ? " takes no number" : " needs a number")};
  if (n)
    path.replace(hole, 2, std::to_string(*n));
  return path;
}

result<std::string> system_path(std::string_view name) {
  auto in = find_instance(name);
  if (!in)
    return in.err();
  return system_path(*in->row, in->n);
}

bool is_device(std::string_view key) {
  auto colon = key.find(':');
  return colon != std::string_view::npos && is_count(key.substr(0, colon)) &&
         is_count(key.substr(colon + 1));
}

std::string device_value(const knob &k, std::string_view file, std::string_view key) {
  while (!file.empty()) {
    auto end = file.find('\n');
    auto line = file.substr(0, end);
    file = end == std::string_view::npos ? "" : file.substr(end + 1);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ')
      return std::string(sys::text::trim(line.substr(key.size() + 1)));
  }
  return std::string(k.unset);
}

bool write_may_block(std::string_view name) {
  auto *k = find(name);
  return k && k->may_block;
}

} // namespace ballast::knobs
