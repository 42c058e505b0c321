// JSON text -> validated IR (config.hpp). A reader walks the document once,
// field by field, and records every rule broken with the field's path
// ("policies[1].interval: must be at least 10ms") instead of stopping at the
// first; the IR is handed out only when nothing was wrong. Each object is
// read from a table of {key, handler}, so the keys it accepts are listed in
// one place and any other key is an error. A key "//" with a string value is
// a comment and is accepted, and dropped, in every object (params included).
#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "config/strict_json.hpp"
#include "sys/knobs.hpp"

namespace ballast::config {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view comment_key = "//";

struct duration_range {
  milliseconds min, max;
};
constexpr duration_range shutdown_range{10ms, 60s};
constexpr duration_range interval_range{10ms, 1h};

constexpr uint64_t ring_min = 4096, ring_max = uint64_t{1} << 30;

// A JSON type the reader insists on, with the rule it reports otherwise.
struct json_kind {
  bool (json::*holds)() const noexcept;
  std::string_view rule;
};
constexpr json_kind object_kind{&json::is_object, "must be an object"};
constexpr json_kind array_kind{&json::is_array, "must be an array"};
constexpr json_kind string_kind{&json::is_string, "must be a string"};
constexpr json_kind boolean_kind{&json::is_boolean, "must be a boolean"};

enum class emptiness { allowed, forbidden };

struct endpoint {
  std::string address;
  uint16_t port;
};

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string element(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// A bound as an operator would write it: "10ms", "60s", "60m".
std::string format_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms > 60'000 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// JSON has only numbers: 4096 and 4096.0 (or 4.096e3) are the same integer.
std::optional<uint64_t> as_unsigned(const json& n) {
  if (n.is_number_unsigned()) return n.get<uint64_t>();
  if (!n.is_number_float()) return std::nullopt;
  const double d = n.get<double>();
  if (d < 0 || d >= 0x1p64 || d != std::floor(d)) return std::nullopt;
  return static_cast<uint64_t>(d);
}

// Validity checks of string values: each returns the rule broken, if any.
using problem = std::optional<std::string>;

problem absolute_path_problem(const std::string& s) {
  if (s.empty() || s.front() != '/') return "must be an absolute path";
  return std::nullopt;
}

problem name_problem(const std::string& s) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  if (s.empty() || !std::all_of(s.begin(), s.end(), allowed)) return "must match [a-z0-9_-]+";
  return std::nullopt;
}

problem glob_problem(const std::string& s) {
  if (s.empty() || s.front() != '/') return "must start with '/'";
  if ((s + "/").find("/../") != std::string::npos) return R"(must not contain a ".." component)";
  return std::nullopt;
}

problem regex_problem(const std::string& s) {
  try {
    std::regex{s, std::regex::ECMAScript};
  } catch (const std::regex_error& e) {
    return std::string("invalid regex: ") + e.what();
  }
  return std::nullopt;
}

// Decimal 1..65535 without sign or leading zeros.
std::optional<uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  const char* end = s.data() + s.size();
  const auto [stop, ec] = std::from_chars(s.data(), end, value);
  if (s.empty() || s.front() == '0' || ec != std::errc{} || stop != end || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

bool is_ipv4(const std::string& host) {
  in_addr unused;
  return inet_pton(AF_INET, host.c_str(), &unused) == 1;
}

class reader {
public:
  explicit reader(const std::vector<std::string>& known_types) : known_types_(known_types) {}

  agent read(const json& root) {
    agent a;
    if (!root.is_object()) {
      fail("", "the top level must be an object");
      return a;
    }
    read_object(root, "", {
        {"dry_run", assign(a.dry_run, &reader::boolean)},
        {"host", [&](const json& n, const std::string& p) { read_host(n, p, a); }},
        {"journal", assign(a.journal_path, &reader::checked<absolute_path_problem>)},
        {"control", [&](const json& n, const std::string& p) { read_control(n, p, a); }},
        {"metrics", [&](const json& n, const std::string& p) { read_metrics(n, p, a); }},
        {"policies", assign(a.policies, &reader::policies)},
        {"ring_buffer_bytes", assign(a.ring_buffer_bytes, &reader::ring_size)},
        {"shutdown_deadline", assign(a.shutdown_deadline, &reader::duration, shutdown_range)},
        {"watch", [&](const json& n, const std::string& p) { read_watch(n, p, a); }},
    });
    return a;
  }

  std::vector<config_error> take_errors() { return std::move(errors_); }

private:
  using handler = std::function<void(const json&, const std::string&)>;
  struct field {
    std::string_view key;
    handler read;
  };

  void fail(const std::string& path, std::string rule) { errors_.push_back({path, std::move(rule)}); }

  bool expect(const json& n, const json_kind& kind, const std::string& path) {
    if ((n.*kind.holds)()) return true;
    fail(path, std::string(kind.rule));
    return false;
  }

  // Checks that n is an object, hands each known key to its handler and
  // reports the others. Returns whether n was an object.
  bool read_object(const json& n, const std::string& path, std::initializer_list<field> fields) {
    if (!expect(n, object_kind, path)) return false;
    for (const auto& item : n.items()) {
      const std::string at = child(path, item.key());
      const auto f = std::find_if(fields.begin(), fields.end(),
                                  [&](const field& f) { return f.key == item.key(); });
      if (item.key() == comment_key)
        expect(item.value(), string_kind, at);
      else if (f == fields.end())
        fail(at, "unknown key");
      else
        f->read(item.value(), at);
    }
    return true;
  }

  // A handler that stores what `read` returns, if it returns anything.
  template <class Out, class T, class... Extra>
  handler assign(Out& out, std::optional<T> (reader::*read)(const json&, const std::string&, Extra...),
                 Extra... extra) {
    return [this, &out, read, extra...](const json& n, const std::string& path) {
      if (auto value = (this->*read)(n, path, extra...)) out = std::move(*value);
    };
  }

  // Each reader below reports what is wrong and returns nullopt, or returns
  // the value.

  template <class Check>
  std::optional<std::string> text(const json& n, const std::string& path, Check check) {
    if (!expect(n, string_kind, path)) return std::nullopt;
    auto s = n.get<std::string>();
    if (auto rule = check(s)) {
      fail(path, std::move(*rule));
      return std::nullopt;
    }
    return s;
  }

  template <problem (*Check)(const std::string&)>
  std::optional<std::string> checked(const json& n, const std::string& path) {
    return text(n, path, Check);
  }

  template <class T>
  std::optional<std::vector<T>> list(const json& n, const std::string& path,
                                     std::optional<T> (reader::*item)(const json&, const std::string&)) {
    if (!expect(n, array_kind, path)) return std::nullopt;
    std::vector<T> out;
    for (size_t i = 0; i < n.size(); ++i)
      if (auto value = (this->*item)(n[i], element(path, i))) out.push_back(std::move(*value));
    return out;
  }

  std::optional<bool> boolean(const json& n, const std::string& path) {
    if (!expect(n, boolean_kind, path)) return std::nullopt;
    return n.get<bool>();
  }

  std::optional<std::string> policy_type(const json& n, const std::string& path) {
    return text(n, path, [this](const std::string& s) -> problem {
      if (std::find(known_types_.begin(), known_types_.end(), s) != known_types_.end()) return std::nullopt;
      std::string known;
      for (const auto& t : known_types_) known += (known.empty() ? "" : ", ") + t;
      return "unknown policy type \"" + s + "\" (known: " + known + ")";
    });
  }

  std::optional<milliseconds> duration(const json& n, const std::string& path, duration_range range) {
    const auto d = n.is_string() ? parse_duration(n.get_ref<const std::string&>()) : std::nullopt;
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

  std::optional<uint32_t> ring_size(const json& n, const std::string& path) {
    const auto v = as_unsigned(n);
    if (!v || *v < ring_min || *v > ring_max || !std::has_single_bit(*v)) {
      fail(path, "must be a power of two from " + std::to_string(ring_min) + " to " + std::to_string(ring_max));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  std::optional<uint32_t> uid(const json& n, const std::string& path) {
    const auto v = as_unsigned(n);
    if (!v || *v > UINT32_MAX) {
      fail(path, "must be an integer from 0 to " + std::to_string(UINT32_MAX));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  std::optional<std::vector<uint32_t>> uids(const json& n, const std::string& path) {
    return list(n, path, &reader::uid);
  }

  std::optional<std::vector<std::string>> globs(const json& n, const std::string& path, emptiness empty) {
    if (empty == emptiness::forbidden && n.is_array() && n.empty()) {
      fail(path, "must not be empty");
      return std::nullopt;
    }
    return list(n, path, &reader::checked<glob_problem>);
  }

  // "host:port", host an IPv4 literal or "localhost" (stored as 127.0.0.1
  // so the HTTP server never needs name resolution).
  std::optional<endpoint> listen(const json& n, const std::string& path) {
    if (!expect(n, string_kind, path)) return std::nullopt;
    const auto& s = n.get_ref<const std::string&>();
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos) {
      fail(path, R"(must be "host:port")");
      return std::nullopt;
    }
    const std::string host = s.substr(0, colon);
    const auto port = parse_port(std::string_view(s).substr(colon + 1));
    const bool host_ok = host == "localhost" || is_ipv4(host);
    if (!host_ok) fail(path, R"(host must be an IPv4 address or "localhost")");
    if (!port) fail(path, "port must be an integer from 1 to 65535");
    if (!host_ok || !port) return std::nullopt;
    return endpoint{host == "localhost" ? "127.0.0.1" : host, *port};
  }

  // Params stay opaque here, but must be an object; comments are checked and
  // dropped at every depth so policies never see them.
  std::optional<std::string> params(const json& n, const std::string& path) {
    if (!expect(n, object_kind, path)) return std::nullopt;
    json copy = n;
    strip_comments(copy, path);
    return copy.dump();
  }

  void strip_comments(json& n, const std::string& path) {
    if (n.is_array()) {
      for (size_t i = 0; i < n.size(); ++i) strip_comments(n[i], element(path, i));
      return;
    }
    if (!n.is_object()) return;
    if (const auto it = n.find(comment_key); it != n.end()) {
      expect(*it, string_kind, child(path, comment_key));
      n.erase(it);
    }
    for (auto& item : n.items()) strip_comments(item.value(), child(path, item.key()));
  }

  void read_metrics(const json& n, const std::string& path, agent& a) {
    read_object(n, path, {{"listen", [&](const json& v, const std::string& p) {
                             if (auto e = listen(v, p)) {
                               a.metrics_address = std::move(e->address);
                               a.metrics_port = e->port;
                             }
                           }}});
  }

  // "control": {"listen": "host:port", "tls": {"certificate", "key", "ca"},
  // "cookie": FILE, "group": NAME, "open_reads": BOOL}. Only loopback may go
  // without TLS: the control interface changes knobs.
  void read_control(const json& n, const std::string& path, agent& a) {
    read_object(n, path, {
        {"cookie", assign(a.control_cookie, &reader::checked<absolute_path_problem>)},
        {"group", assign(a.control_group, &reader::checked<name_problem>)},
        {"open_reads", assign(a.control_open_reads, &reader::boolean)},
        {"listen", [&](const json& v, const std::string& p) {
           if (auto e = listen(v, p)) {
             a.control_address = std::move(e->address);
             a.control_port = e->port;
           }
         }},
        {"tls", [&](const json& v, const std::string& p) {
           read_object(v, p, {
               {"ca", assign(a.tls_ca, &reader::checked<absolute_path_problem>)},
               {"certificate", assign(a.tls_certificate, &reader::checked<absolute_path_problem>)},
               {"key", assign(a.tls_key, &reader::checked<absolute_path_problem>)},
           });
           if (v.is_object() && !(v.contains("ca") && v.contains("certificate") && v.contains("key")))
             fail(p, "needs certificate, key and ca together");
         }},
    });
    if (a.control_address.rfind("127.", 0) != 0 && !(n.is_object() && n.contains("tls")))
      fail(child(path, "tls"), "is required to listen on " + a.control_address +
                                   " (certificate, key and ca): only loopback goes without TLS");
  }

  // "host": {"settings": {KNOB: VALUE}}: system knobs of the knob table,
  // each value a string or a non-negative integer its row accepts.
  void read_host(const json& n, const std::string& path, agent& a) {
    read_object(n, path, {{"settings", [&](const json& v, const std::string& p) {
                             if (!expect(v, object_kind, p)) return;
                             for (const auto& item : v.items())
                               if (auto s = host_setting_of(item.key(), item.value(), child(p, item.key())))
                                 a.host_settings.push_back(std::move(*s));
                           }}});
  }

  std::optional<host_setting> host_setting_of(const std::string& knob, const json& v, const std::string& path) {
    if (!v.is_string() && !v.is_number_unsigned()) {
      fail(path, "must be a string or a non-negative integer");
      return std::nullopt;
    }
    auto value = v.is_string() ? v.get<std::string>() : std::to_string(v.get<uint64_t>());
    if (auto s = knobs::check_write(knobs::scope::system, knob, knobs::effect::setting, value); !s) {
      fail(path, s.err().message);
      return std::nullopt;
    }
    return host_setting{knob, value};
  }

  void read_watch(const json& n, const std::string& path, agent& a) {
    read_object(n, path, {
        {"exclude", assign(a.watch_exclude, &reader::globs, emptiness::allowed)},
        {"include", assign(a.watch_include, &reader::globs, emptiness::forbidden)},
    });
  }

  std::optional<selector> select(const json& n, const std::string& path) {
    selector s;
    const bool is_object = read_object(n, path, {
        {"cgroups", assign(s.cgroups, &reader::globs, emptiness::forbidden)},
        {"comm", assign(s.comm, &reader::checked<regex_problem>)},
        {"exe", assign(s.exe, &reader::checked<regex_problem>)},
        {"uids", assign(s.uids, &reader::uids)},
    });
    if (!is_object) return std::nullopt;
    return s;
  }

  policy read_policy(const json& n, const std::string& path) {
    policy p;
    const bool is_object = read_object(n, path, {
        {"interval", assign(p.interval, &reader::duration, interval_range)},
        {"name", assign(p.name, &reader::checked<name_problem>)},
        {"params", assign(p.params, &reader::params)},
        {"select", assign(p.select, &reader::select)},
        {"type", assign(p.type, &reader::policy_type)},
    });
    for (const std::string_view key : {"name", "type"})
      if (is_object && !n.contains(key)) fail(child(path, key), "is required");
    return p;
  }

  std::optional<std::vector<policy>> policies(const json& n, const std::string& path) {
    if (!expect(n, array_kind, path)) return std::nullopt;
    std::vector<policy> out;
    std::map<std::string, size_t> first_use;
    for (size_t i = 0; i < n.size(); ++i) {
      out.push_back(read_policy(n[i], element(path, i)));
      const std::string& name = out.back().name;
      if (name.empty()) continue;  // missing or invalid, already reported
      const auto [first, fresh] = first_use.try_emplace(name, i);
      if (!fresh)
        fail(child(element(path, i), "name"), "duplicate of " + child(element(path, first->second), "name"));
    }
    return out;
  }

  const std::vector<std::string>& known_types_;
  std::vector<config_error> errors_;
};

// nlohmann's message without its "[json.exception.parse_error.101] " tag;
// it keeps the position ("at line 3, column 7") and what was expected. Any
// json::exception: a number too large for a double is out_of_range (406).
std::string invalid_json_rule(const json::exception& e) {
  const std::string_view what = e.what();
  const size_t tag_end = what.find("] ");
  return "invalid JSON: " + std::string(tag_end == what.npos ? what : what.substr(tag_end + 2));
}

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads the whole file into text; returns 0 or the errno of the failed call.
int read_all(const std::string& file, std::string& text) {
  const std::unique_ptr<std::FILE, file_closer> f(std::fopen(file.c_str(), "rb"));
  if (!f) return errno;
  char buffer[65536];
  while (const size_t n = std::fread(buffer, 1, sizeof buffer, f.get())) text.append(buffer, n);
  return std::ferror(f.get()) ? errno : 0;
}

// The IR as JSON with a fixed shape and sorted keys: equal IRs give equal
// text whatever the source's order, spacing, comments or omitted defaults.
json canonical(const selector& s) {
  const auto regex_or_null = [](const std::optional<std::string>& r) { return r ? json(*r) : json(nullptr); };
  return {{"cgroups", s.cgroups}, {"comm", regex_or_null(s.comm)}, {"exe", regex_or_null(s.exe)}, {"uids", s.uids}};
}

json canonical(const policy& p) {
  return {{"name", p.name},
          {"type", p.type},
          {"interval_ms", p.interval.count()},
          {"select", canonical(p.select)},
          {"params", p.params}};
}

json canonical(const agent& a) {
  json policies = json::array();
  for (const auto& p : a.policies) policies.push_back(canonical(p));
  json host_settings = json::object();
  for (const auto& h : a.host_settings) host_settings[h.knob] = h.value;
  return {{"metrics_address", a.metrics_address},
          {"metrics_port", a.metrics_port},
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
          {"host_settings", host_settings}};
}

// 64-bit FNV-1a: tiny, and the same on every build and run (std::hash is not).
uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325;
  for (const unsigned char c : bytes) h = (h ^ c) * 0x100000001b3;
  return h;
}

} // namespace

parse_result parse(std::string_view json_text, const std::vector<std::string>& known_policy_types) {
  json root;
  std::vector<config_error> duplicates;
  try {
    root = parse_strict(json_text, duplicates);
  } catch (const json::exception& e) {
    return {std::nullopt, {{"", invalid_json_rule(e)}}};
  }
  reader r(known_policy_types);
  agent a = r.read(root);
  auto errors = std::move(duplicates);
  for (auto& e : r.take_errors()) errors.push_back(std::move(e));
  if (!errors.empty()) return {std::nullopt, std::move(errors)};
  return {std::move(a), {}};
}

parse_result parse_file(const std::string& file, const std::vector<std::string>& known_policy_types) {
  std::string text;
  if (const int err = read_all(file, text))
    return {std::nullopt, {{"", "cannot read " + file + ": " + std::strerror(err)}}};
  return parse(text, known_policy_types);
}

std::string config_hash(const agent& a) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(canonical(a).dump())));
  return hex;
}

} // namespace ballast::config
