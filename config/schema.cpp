// The agent's schema: which keys each object of the config takes and the
// rules of each value, read into the IR on a json_reader (json_reader.hpp).
// config/ballast.schema.json says the same for editors and users. A key "//"
// with a string value is a comment and is accepted, and dropped, in every
// object (params included).
#include "config/schema.hpp"

#include "config/json_reader.hpp"
#include "sys/knobs.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <regex>

namespace ballast::config {
namespace {

using namespace std::chrono_literals;

struct duration_range {
  milliseconds min, max;
};
constexpr duration_range shutdown_range{10ms, 60s};
constexpr duration_range interval_range{10ms, 1h};
constexpr duration_range sched_interval_range{100ms, 60s};
constexpr duration_range gpu_interval_range{1s, 10min};
constexpr duration_range gpu_rescan_range{1s, 1h};
constexpr duration_range response_interval_range{100ms, 1min};
constexpr duration_range response_hold_range{0ms, 1h};
constexpr duration_range cooldown_range{0ms, 1h};
constexpr duration_range kill_hook_range{0ms, 10min};
constexpr uint64_t max_series_cgroups = 100'000;

constexpr uint64_t ring_min = 4096, ring_max = uint64_t{1} << 30;

enum class emptiness { allowed, forbidden };

struct endpoint {
  std::string address;
  uint16_t port;
};

// A bound as an operator would write it: "10ms", "60s", "60m".
std::string format_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms > 60'000 && ms % 60'000 == 0)
    return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// JSON has only numbers: 4096 and 4096.0 (or 4.096e3) are the same integer.
std::optional<uint64_t> as_unsigned(const json &n) {
  if (n.is_number_unsigned())
    return n.get<uint64_t>();
  if (!n.is_number_float())
    return std::nullopt;
  const double d = n.get<double>();
  if (d < 0 || d >= 0x1p64 || d != std::floor(d))
    return std::nullopt;
  return static_cast<uint64_t>(d);
}

problem absolute_path_problem(const std::string &s) {
  if (s.empty() || s.front() != '/')
    return "must be an absolute path";
  return std::nullopt;
}

// A cgroup path for the job root: clean, absolute, not the root itself.
problem job_root_problem(const std::string &s) {
  static const std::regex clean("(/[A-Za-z0-9_.@:-]+)+");
  if (!std::regex_match(s, clean) || s.find("/.") != std::string::npos)
    return "must be a cgroup path below the root, like \"/ballast-jobs\"";
  return std::nullopt;
}

bool is_pressure_resource(const std::string &s) {
  for (auto r : {"memory.some", "memory.full", "cpu.some", "io.some", "io.full"})
    if (s == r)
      return true;
  return false;
}

problem pressure_problem(const std::string &s) {
  if (is_pressure_resource(s))
    return std::nullopt;
  return "must be a pressure: memory.some, memory.full, cpu.some, io.some, io.full";
}

// A shell command: any text ("" is none).
problem any_text(const std::string &) {
  return std::nullopt;
}

problem name_problem(const std::string &s) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  if (s.empty() || !std::all_of(s.begin(), s.end(), allowed))
    return "must match [a-z0-9_-]+";
  return std::nullopt;
}

problem glob_problem(const std::string &s) {
  if (s.empty() || s.front() != '/')
    return "must start with '/'";
  if ((s + "/").find("/../") != std::string::npos)
    return R"(must not contain a ".." component)";
  return std::nullopt;
}

problem regex_problem(const std::string &s) {
  try {
    std::regex{s, std::regex::ECMAScript};
  } catch (const std::regex_error &e) {
    return std::string("invalid regex: ") + e.what();
  }
  return std::nullopt;
}

// Decimal 1..65535 without sign or leading zeros.
std::optional<uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  const char *end = s.data() + s.size();
  const auto [stop, ec] = std::from_chars(s.data(), end, value);
  if (s.empty() || s.front() == '0' || ec != std::errc{} || stop != end || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

bool is_ipv4(const std::string &host) {
  in_addr unused;
  return inet_pton(AF_INET, host.c_str(), &unused) == 1;
}

class agent_reader : public json_reader {
public:
  explicit agent_reader(const std::vector<std::string> &known_types) : known_types_(known_types) {}

  agent read(const json &root) {
    agent a;
    if (!root.is_object()) {
      fail("", "the top level must be an object");
      return a;
    }
    read_object(
        root, "",
        {
            {"dry_run", assign(a.dry_run, &agent_reader::boolean)},
            {"gpu", [&](const json &n, const std::string &p) { read_gpu(n, p, a); }},
            {"host", [&](const json &n, const std::string &p) { read_host(n, p, a); }},
            {"jobs", [&](const json &n, const std::string &p) { read_jobs(n, p, a); }},
            {"journal", assign(a.journal_path, &agent_reader::checked<absolute_path_problem>)},
            {"control", [&](const json &n, const std::string &p) { read_control(n, p, a); }},
            {"metrics", [&](const json &n, const std::string &p) { read_metrics(n, p, a); }},
            {"policies", assign(a.policies, &agent_reader::policies)},
            {"ring_buffer_bytes", assign(a.ring_buffer_bytes, &agent_reader::ring_size)},
            {"sched", [&](const json &n, const std::string &p) { read_sched(n, p, a); }},
            {"shutdown_deadline",
             assign(a.shutdown_deadline, &agent_reader::duration, shutdown_range)},
            {"watch", [&](const json &n, const std::string &p) { read_watch(n, p, a); }},
        });
    return a;
  }

private:
  std::optional<std::string> policy_type(const json &n, const std::string &path) {
    return text(n, path, [this](const std::string &s) -> problem {
      if (std::find(known_types_.begin(), known_types_.end(), s) != known_types_.end())
        return std::nullopt;
      std::string known;
      for (const auto &t : known_types_)
        known += (known.empty() ? "" : ", ") + t;
      return "unknown policy type \"" + s + "\" (known: " + known + ")";
    });
  }

  std::optional<milliseconds> duration(const json &n, const std::string &path,
                                       duration_range range) {
    const auto d = n.is_string() ? parse_duration(n.get_ref<const std::string &>()) : std::nullopt;
    if (!d)
      fail(path, R"(must be a duration string like "250ms" or "5s")");
    else if (*d < range.min)
      fail(path, "must be at least " + format_duration(range.min));
    else if (*d > range.max)
      fail(path, "must be at most " + format_duration(range.max));
    else
      return d;
    return std::nullopt;
  }

  std::optional<uint32_t> ring_size(const json &n, const std::string &path) {
    const auto v = as_unsigned(n);
    if (!v || *v < ring_min || *v > ring_max || !std::has_single_bit(*v)) {
      fail(path, "must be a power of two from " + std::to_string(ring_min) + " to " +
                     std::to_string(ring_max));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  std::optional<uint32_t> uid(const json &n, const std::string &path) {
    const auto v = as_unsigned(n);
    if (!v || *v > UINT32_MAX) {
      fail(path, "must be an integer from 0 to " + std::to_string(UINT32_MAX));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  std::optional<std::vector<uint32_t>> uids(const json &n, const std::string &path) {
    return list(n, path, &agent_reader::uid);
  }

  std::optional<std::vector<std::string>> globs(const json &n, const std::string &path,
                                                emptiness empty) {
    if (empty == emptiness::forbidden && n.is_array() && n.empty()) {
      fail(path, "must not be empty");
      return std::nullopt;
    }
    return list(n, path, &agent_reader::checked<glob_problem>);
  }

  // "host:port", host an IPv4 literal or "localhost" (stored as 127.0.0.1
  // so the HTTP server never needs name resolution).
  std::optional<endpoint> listen(const json &n, const std::string &path) {
    if (!expect(n, string_kind, path))
      return std::nullopt;
    const auto &s = n.get_ref<const std::string &>();
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos) {
      fail(path, R"(must be "host:port")");
      return std::nullopt;
    }
    const std::string host = s.substr(0, colon);
    const auto port = parse_port(std::string_view(s).substr(colon + 1));
    const bool host_ok = host == "localhost" || is_ipv4(host);
    if (!host_ok)
      fail(path, R"(host must be an IPv4 address or "localhost")");
    if (!port)
      fail(path, "port must be an integer from 1 to 65535");
    if (!host_ok || !port)
      return std::nullopt;
    return endpoint{host == "localhost" ? "127.0.0.1" : host, *port};
  }

  // Params stay opaque here, but must be an object; comments are checked and
  // dropped at every depth so policies never see them.
  std::optional<std::string> params(const json &n, const std::string &path) {
    if (!expect(n, object_kind, path))
      return std::nullopt;
    json copy = n;
    strip_comments(copy, path);
    return copy.dump();
  }

  void strip_comments(json &n, const std::string &path) {
    if (n.is_array()) {
      for (size_t i = 0; i < n.size(); ++i)
        strip_comments(n[i], element(path, i));
      return;
    }
    if (!n.is_object())
      return;
    if (const auto it = n.find(comment_key); it != n.end()) {
      expect(*it, string_kind, child(path, comment_key));
      n.erase(it);
    }
    for (auto &item : n.items())
      strip_comments(item.value(), child(path, item.key()));
  }

  void read_metrics(const json &n, const std::string &path, agent &a) {
    read_object(
        n, path,
        {
            {"cgroups", assign(a.metrics_cgroups, &agent_reader::globs, emptiness::allowed)},
            {"listen",
             [&](const json &v, const std::string &p) {
               if (auto e = listen(v, p)) {
                 a.metrics_address = std::move(e->address);
                 a.metrics_port = e->port;
               }
             }},
            {"max_cgroups", assign(a.metrics_max_cgroups, &agent_reader::series_cap)},
        });
  }

  std::optional<uint32_t> series_cap(const json &n, const std::string &path) {
    const auto v = as_unsigned(n);
    if (!v || *v > max_series_cgroups) {
      fail(path, "must be an integer from 0 to " + std::to_string(max_series_cgroups));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  // "sched": {"enabled": BOOL, "interval": DURATION}.
  void read_sched(const json &n, const std::string &path, agent &a) {
    read_object(
        n, path,
        {
            {"enabled", assign(a.sched_enabled, &agent_reader::boolean)},
            {"interval", assign(a.sched_interval, &agent_reader::duration, sched_interval_range)},
        });
  }

  // "gpu": {"enabled": BOOL, "interval": DURATION, "rescan": DURATION}.
  void read_gpu(const json &n, const std::string &path, agent &a) {
    read_object(
        n, path,
        {
            {"enabled", assign(a.gpu_enabled, &agent_reader::boolean)},
            {"interval", assign(a.gpu_interval, &agent_reader::duration, gpu_interval_range)},
            {"rescan", assign(a.gpu_rescan, &agent_reader::duration, gpu_rescan_range)},
        });
  }

  // "jobs": {"root": CGROUP, "dir": DIR, "log_max": BYTES, "admission":
  // [{"max_priority": N, "memory.some": AVG10, ...}]}.
  void read_jobs(const json &n, const std::string &path, agent &a) {
    read_object(
        n, path,
        {
            {"admission", assign(a.jobs_admission, &agent_reader::admission)},
            {"dir", assign(a.jobs_dir, &agent_reader::checked<absolute_path_problem>)},
            {"log_max", assign(a.jobs_log_max, &agent_reader::log_size)},
            {"response",
             [&](const json &v, const std::string &p) { read_response(v, p, a.jobs_response); }},
            {"root", assign(a.jobs_root, &agent_reader::checked<job_root_problem>)},
        });
  }

  // "response": {"max_priority": N, "interval": D, "hold": D, "freeze": RULE,
  // "kill": RULE, "kill_hook": CMD, "kill_hook_time": D, "demote": RULE,
  // "demote_weight": N, "io_freeze": RULE}.
  void read_response(const json &n, const std::string &path, job_response &r) {
    auto rule = [&](response_rule &to) {
      return [&](const json &v, const std::string &p) { read_response_rule(v, p, to); };
    };
    read_object(
        n, path,
        {
            {"demote", rule(r.demote)},
            {"demote_weight", assign(r.demote_weight, &agent_reader::weight)},
            {"freeze", rule(r.freeze)},
            {"hold", assign(r.hold, &agent_reader::duration, response_hold_range)},
            {"interval", assign(r.interval, &agent_reader::duration, response_interval_range)},
            {"io_freeze", rule(r.io_freeze)},
            {"kill", rule(r.kill)},
            {"kill_hook", assign(r.kill_hook, &agent_reader::checked<any_text>)},
            {"kill_hook_time", assign(r.kill_hook_time, &agent_reader::duration, kill_hook_range)},
            {"max_priority", assign(r.max_priority, &agent_reader::priority)},
        });
  }

  // RULE: false (off), or {"pressure": P, "above": %, "below": %, "cooldown": D}.
  void read_response_rule(const json &n, const std::string &path, response_rule &r) {
    if (n.is_boolean()) {
      r.enabled = n.get<bool>();
      return;
    }
    if (!read_object(n, path,
                     {
                         {"above", assign(r.above, &agent_reader::percentage)},
                         {"below", assign(r.below, &agent_reader::percentage)},
                         {"cooldown", assign(r.cooldown, &agent_reader::duration, cooldown_range)},
                         {"pressure", assign(r.pressure, &agent_reader::checked<pressure_problem>)},
                     }))
      return;
    r.enabled = true;
    if (r.above <= 0)
      fail(child(path, "above"), "must be above 0 (false switches the rule off)");
    if (r.below > r.above)
      fail(child(path, "below"), "must be at most above");
  }

  std::optional<int32_t> priority(const json &n, const std::string &path) {
    auto v = as_unsigned(n);
    if (!v || *v > 100) {
      fail(path, "must be an integer 0..100");
      return std::nullopt;
    }
    return static_cast<int32_t>(*v);
  }

  std::optional<uint32_t> weight(const json &n, const std::string &path) {
    auto v = as_unsigned(n);
    if (!v || *v < 1 || *v > 10000) {
      fail(path, "must be a cpu.weight 1..10000");
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  // 0..100; not below 0.01 (but 0): PSI reports hundredths, and CAF 0.17
  // garbles a subnormal double on the wire to a coordinator's agents.
  std::optional<double> percentage(const json &n, const std::string &path) {
    if (!n.is_number() || n.get<double>() < 0 || n.get<double>() > 100 ||
        (n.get<double>() > 0 && n.get<double>() < 0.01)) {
      fail(path, "must be a percentage 0..100 (0, or at least 0.01)");
      return std::nullopt;
    }
    return n.get<double>();
  }

  std::optional<uint64_t> log_size(const json &n, const std::string &path) {
    auto b = n.is_string() ? parse_bytes(n.get<std::string>()) : std::nullopt;
    if (!b || *b == std::numeric_limits<uint64_t>::max() || *b > (uint64_t{1} << 40)) {
      fail(path, R"(must be a size like "8M" (0 keeps no log))");
      return std::nullopt;
    }
    return b;
  }

  std::optional<std::vector<admission_band>> admission(const json &n, const std::string &path) {
    if (!expect(n, array_kind, path))
      return std::nullopt;
    std::vector<admission_band> out;
    for (size_t i = 0; i < n.size(); ++i) {
      auto p = element(path, i);
      if (!expect(n[i], object_kind, p))
        continue;
      admission_band band;
      for (const auto &item : n[i].items()) {
        auto at = child(p, item.key());
        if (item.key() == "//")
          continue;
        if (item.key() == "max_priority") {
          if (auto v = priority(item.value(), at))
            band.max_priority = *v;
        } else if (!is_pressure_resource(item.key())) {
          fail(at, "is not max_priority or a pressure: memory.some, memory.full, cpu.some, "
                   "io.some, io.full");
        } else if (auto v = percentage(item.value(), at)) {
          band.limits.push_back({item.key(), *v});
        }
      }
      out.push_back(std::move(band));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](auto &x, auto &y) { return x.max_priority < y.max_priority; });
    return out;
  }

  // "control": {"listen": "host:port", "tls": {"certificate", "key", "ca"},
  // "cookie": FILE, "group": NAME, "open_reads": BOOL}. Only loopback may go
  // without TLS: the control interface changes knobs.
  void read_control(const json &n, const std::string &path, agent &a) {
    read_object(
        n, path,
        {
            {"cookie", assign(a.control_cookie, &agent_reader::checked<absolute_path_problem>)},
            {"group", assign(a.control_group, &agent_reader::checked<name_problem>)},
            {"open_reads", assign(a.control_open_reads, &agent_reader::boolean)},
            {"listen",
             [&](const json &v, const std::string &p) {
               if (auto e = listen(v, p)) {
                 a.control_address = std::move(e->address);
                 a.control_port = e->port;
               }
             }},
            {"tls",
             [&](const json &v, const std::string &p) {
               read_object(
                   v, p,
                   {
                       {"ca", assign(a.tls_ca, &agent_reader::checked<absolute_path_problem>)},
                       {"certificate",
                        assign(a.tls_certificate, &agent_reader::checked<absolute_path_problem>)},
                       {"key", assign(a.tls_key, &agent_reader::checked<absolute_path_problem>)},
                   });
               if (v.is_object() &&
                   !(v.contains("ca") && v.contains("certificate") && v.contains("key")))
                 fail(p, "needs certificate, key and ca together");
             }},
        });
    if (a.control_address.rfind("127.", 0) != 0 && !(n.is_object() && n.contains("tls")))
      fail(child(path, "tls"), "is required to listen on " + a.control_address +
                                   " (certificate, key and ca): only loopback goes without TLS");
  }

  // "host": {"settings": {KNOB: VALUE}}: system knobs of the knob table,
  // each value a string or a non-negative integer its row accepts.
  void read_host(const json &n, const std::string &path, agent &a) {
    read_object(n, path,
                {{"settings", [&](const json &v, const std::string &p) {
                    if (!expect(v, object_kind, p))
                      return;
                    for (const auto &item : v.items())
                      if (auto s = host_setting_of(item.key(), item.value(), child(p, item.key())))
                        a.host_settings.push_back(std::move(*s));
                  }}});
  }

  std::optional<host_setting> host_setting_of(const std::string &knob, const json &v,
                                              const std::string &path) {
    if (!v.is_string() && !v.is_number_unsigned()) {
      fail(path, "must be a string or a non-negative integer");
      return std::nullopt;
    }
    auto value = v.is_string() ? v.get<std::string>() : std::to_string(v.get<uint64_t>());
    if (auto s = knobs::check_write(knobs::scope::system, knob, knobs::effect::setting, value);
        !s) {
      fail(path, s.err().message);
      return std::nullopt;
    }
    return host_setting{knob, value};
  }

  void read_watch(const json &n, const std::string &path, agent &a) {
    read_object(
        n, path,
        {
            {"exclude", assign(a.watch_exclude, &agent_reader::globs, emptiness::allowed)},
            {"include", assign(a.watch_include, &agent_reader::globs, emptiness::forbidden)},
        });
  }

  std::optional<selector> select(const json &n, const std::string &path) {
    selector s;
    const bool is_object =
        read_object(n, path,
                    {
                        {"cgroups", assign(s.cgroups, &agent_reader::globs, emptiness::forbidden)},
                        {"comm", assign(s.comm, &agent_reader::checked<regex_problem>)},
                        {"exe", assign(s.exe, &agent_reader::checked<regex_problem>)},
                        {"uids", assign(s.uids, &agent_reader::uids)},
                    });
    if (!is_object)
      return std::nullopt;
    return s;
  }

  policy read_policy(const json &n, const std::string &path) {
    policy p;
    const bool is_object =
        read_object(n, path,
                    {
                        {"interval", assign(p.interval, &agent_reader::duration, interval_range)},
                        {"name", assign(p.name, &agent_reader::checked<name_problem>)},
                        {"params", assign(p.params, &agent_reader::params)},
                        {"select", assign(p.select, &agent_reader::select)},
                        {"type", assign(p.type, &agent_reader::policy_type)},
                    });
    for (const std::string_view key : {"name", "type"})
      if (is_object && !n.contains(key))
        fail(child(path, key), "is required");
    return p;
  }

  std::optional<std::vector<policy>> policies(const json &n, const std::string &path) {
    if (!expect(n, array_kind, path))
      return std::nullopt;
    std::vector<policy> out;
    std::map<std::string, size_t> first_use;
    for (size_t i = 0; i < n.size(); ++i) {
      out.push_back(read_policy(n[i], element(path, i)));
      const std::string &name = out.back().name;
      if (name.empty())
        continue; // missing or invalid, already reported
      const auto [first, fresh] = first_use.try_emplace(name, i);
      if (!fresh)
        fail(child(element(path, i), "name"),
             "duplicate of " + child(element(path, first->second), "name"));
    }
    return out;
  }

  const std::vector<std::string> &known_types_;
};

} // namespace

agent read_agent(const json &root, const std::vector<std::string> &known_policy_types,
                 std::vector<config_error> &errors) {
  agent_reader r(known_policy_types);
  agent a = r.read(root);
  for (auto &e : r.take_errors())
    errors.push_back(std::move(e));
  return a;
}

} // namespace ballast::config
