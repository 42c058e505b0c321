#include "actors/policies/params.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace ballast {

using json = nlohmann::json;

struct params_reader::impl {
  json doc;
  std::string path;
  std::set<std::string> read;
  std::vector<config::config_error> errors;

  const json *find(const char *key) {
    read.insert(key);
    if (!doc.is_object())
      return nullptr;
    auto it = doc.find(key);
    return it == doc.end() ? nullptr : &*it;
  }
  std::string field(const std::string &key) const { return path + "." + key; }
};

params_reader::params_reader(const std::string &text, std::string path)
    : impl_(std::make_unique<impl>()) {
  impl_->path = std::move(path);
  impl_->doc = json::parse(text, nullptr, false);
  if (!impl_->doc.is_object())
    impl_->errors.push_back({impl_->path, "must be an object"});
}

params_reader::~params_reader() = default;

void params_reader::fail(const std::string &key, const std::string &rule) {
  impl_->errors.push_back({key.empty() ? impl_->path : impl_->field(key), rule});
}

void params_reader::bytes(const char *key, uint64_t &out) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  if (v->is_number_unsigned()) {
    out = v->get<uint64_t>();
  } else if (auto b = v->is_string() ? config::parse_bytes(v->get<std::string>()) : std::nullopt) {
    out = *b;
  } else {
    fail(key, R"(must be a size in bytes like 4096, "64M" or "max")");
  }
}

void params_reader::optional_bytes(const char *key, std::optional<uint64_t> &out) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  if (v->is_null()) {
    out.reset();
    return;
  }
  uint64_t b = 0;
  bytes(key, b);
  out = b;
}

void params_reader::duration(const char *key, std::chrono::milliseconds &out) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  auto d = v->is_string() ? config::parse_duration(v->get<std::string>()) : std::nullopt;
  if (d)
    out = *d;
  else
    fail(key, R"(must be a duration like "250ms", "5s" or "2m")");
}

void params_reader::number(const char *key, double &out, double min, double max) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  if (!v->is_number() || v->get<double>() < min || v->get<double>() > max) {
    auto text = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v);
      return std::string(buf);
    };
    fail(key, "must be a number from " + text(min) + " to " + text(max));
    return;
  }
  out = v->get<double>();
}

void params_reader::priority(int32_t &out) {
  double value = out;
  number("priority", value, -1000, 1000);
  out = int32_t(value);
}

void params_reader::flag(const char *key, bool &out) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  if (v->is_boolean())
    out = v->get<bool>();
  else
    fail(key, "must be true or false");
}

void params_reader::choice(const char *key, std::string &out,
                           const std::vector<std::string> &allowed) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  if (v->is_string()) {
    for (auto &a : allowed)
      if (a == v->get<std::string>()) {
        out = a;
        return;
      }
  }
  std::string list;
  for (auto &a : allowed)
    list += (list.empty() ? "\"" : ", \"") + a + "\"";
  fail(key, "must be one of " + list);
}

void params_reader::text(const char *key, std::string &out) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  if (v->is_string())
    out = v->get<std::string>();
  else
    fail(key, "must be a string");
}

void params_reader::texts(const char *key, std::vector<std::string> &out) {
  const json *v = impl_->find(key);
  if (!v)
    return;
  bool strings = v->is_array();
  for (auto &item : *v)
    strings = strings && item.is_string();
  if (!strings) {
    fail(key, "must be an array of strings");
    return;
  }
  out = v->get<std::vector<std::string>>();
}

void params_reader::raw(const char *key, std::optional<std::string> &out) {
  if (const json *v = impl_->find(key))
    out = v->dump();
}

std::vector<config::config_error> params_reader::finish() {
  if (impl_->doc.is_object())
    for (auto &item : impl_->doc.items())
      if (!impl_->read.count(item.key()))
        fail(item.key(), "unknown field");
  return std::move(impl_->errors);
}

} // namespace ballast
