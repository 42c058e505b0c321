// JSON text -> validated IR (config.hpp): strict JSON (duplicate keys are
// errors), then the schema (schema.cpp); the IR is handed out only when
// nothing was wrong, with every error found otherwise.
#include "config/config.hpp"
#include "config/schema.hpp"
#include "config/strict_json.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace ballast::config {
namespace {

using json = nlohmann::json;

// nlohmann's message without its "[json.exception.parse_error.101] " tag;
// it keeps the position ("at line 3, column 7") and what was expected. Any
// json::exception: a number too large for a double is out_of_range (406).
std::string invalid_json_rule(const json::exception &e) {
  const std::string_view what = e.what();
  const size_t tag_end = what.find("] ");
  return "invalid JSON: " + std::string(tag_end == what.npos ? what : what.substr(tag_end + 2));
}

struct file_closer {
  void operator()(std::FILE *f) const { std::fclose(f); }
};

// Reads the whole file into text; returns 0 or the errno of the failed call.
int read_all(const std::string &file, std::string &text) {
  const std::unique_ptr<std::FILE, file_closer> f(std::fopen(file.c_str(), "rb"));
  if (!f)
    return errno;
  char buffer[65536];
  while (const size_t n = std::fread(buffer, 1, sizeof buffer, f.get()))
    text.append(buffer, n);
  return std::ferror(f.get()) ? errno : 0;
}

} // namespace

parse_result parse(std::string_view json_text, const std::vector<std::string> &known_policy_types) {
  json root;
  std::vector<config_error> duplicates;
  try {
    root = parse_strict(json_text, duplicates);
  } catch (const json::exception &e) {
    return {std::nullopt, {{"", invalid_json_rule(e)}}};
  }
  auto errors = std::move(duplicates);
  agent a = read_agent(root, known_policy_types, errors);
  if (!errors.empty())
    return {std::nullopt, std::move(errors)};
  return {std::move(a), {}};
}

parse_result parse_file(const std::string &file,
                        const std::vector<std::string> &known_policy_types) {
  std::string text;
  if (const int err = read_all(file, text))
    return {std::nullopt, {{"", "cannot read " + file + ": " + std::strerror(err)}}};
  return parse(text, known_policy_types);
}

} // namespace ballast::config
