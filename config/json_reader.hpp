// Internal to config/: the generic part of reading JSON into the IR. A
// json_reader walks a document once, field by field, and records every rule
// broken with the field's path ("policies[1].interval: must be at least
// 10ms") instead of stopping at the first. Each object is read from a table
// of {key, handler}, so the keys it accepts are listed in one place and any
// other key is an error. The agent's schema is config/schema.cpp.
#pragma once

#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballast::config {

using json = nlohmann::json;

inline constexpr std::string_view comment_key = "//";

// A JSON type the reader insists on, with the rule it reports otherwise.
struct json_kind {
  bool (json::*holds)() const noexcept;
  std::string_view rule;
};
inline constexpr json_kind object_kind{&json::is_object, "must be an object"};
inline constexpr json_kind array_kind{&json::is_array, "must be an array"};
inline constexpr json_kind string_kind{&json::is_string, "must be a string"};
inline constexpr json_kind boolean_kind{&json::is_boolean, "must be a boolean"};

inline std::string child(const std::string &path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline std::string element(const std::string &path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// Validity checks of string values: each returns the rule broken, if any.
using problem = std::optional<std::string>;

class json_reader {
public:
  std::vector<config_error> take_errors() { return std::move(errors_); }

protected:
  using handler = std::function<void(const json &, const std::string &)>;
  struct field {
    std::string_view key;
    handler read;
  };

  void fail(const std::string &path, std::string rule) {
    errors_.push_back({path, std::move(rule)});
  }

  bool expect(const json &n, const json_kind &kind, const std::string &path) {
    if ((n.*kind.holds)())
      return true;
    fail(path, std::string(kind.rule));
    return false;
  }

  // Checks that n is an object, hands each known key to its handler and
  // reports the others. Returns whether n was an object.
  bool read_object(const json &n, const std::string &path, std::initializer_list<field> fields) {
    if (!expect(n, object_kind, path))
      return false;
    for (const auto &item : n.items()) {
      const std::string at = child(path, item.key());
      const auto f = std::find_if(fields.begin(), fields.end(),
                                  [&](const field &f) { return f.key == item.key(); });
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
  template <class Reader, class Out, class T, class... Extra>
  handler assign(Out &out,
                 std::optional<T> (Reader::*read)(const json &, const std::string &, Extra...),
                 Extra... extra) {
    auto *self = static_cast<Reader *>(this);
    return [self, &out, read, extra...](const json &n, const std::string &path) {
      if (auto value = (self->*read)(n, path, extra...))
        out = std::move(*value);
    };
  }

  // Each reader below reports what is wrong and returns nullopt, or returns
  // the value.

  template <class Check>
  std::optional<std::string> text(const json &n, const std::string &path, Check check) {
    if (!expect(n, string_kind, path))
      return std::nullopt;
    auto s = n.get<std::string>();
    if (auto rule = check(s)) {
      fail(path, std::move(*rule));
      return std::nullopt;
    }
    return s;
  }

  template <problem (*Check)(const std::string &)>
  std::optional<std::string> checked(const json &n, const std::string &path) {
    return text(n, path, Check);
  }

  template <class Reader, class T>
  std::optional<std::vector<T>> list(const json &n, const std::string &path,
                                     std::optional<T> (Reader::*item)(const json &,
                                                                      const std::string &)) {
    if (!expect(n, array_kind, path))
      return std::nullopt;
    auto *self = static_cast<Reader *>(this);
    std::vector<T> out;
    for (size_t i = 0; i < n.size(); ++i)
      if (auto value = (self->*item)(n[i], element(path, i)))
        out.push_back(std::move(*value));
    return out;
  }

  std::optional<bool> boolean(const json &n, const std::string &path) {
    if (!expect(n, boolean_kind, path))
      return std::nullopt;
    return n.get<bool>();
  }

private:
  std::vector<config_error> errors_;
};

} // namespace ballast::config
