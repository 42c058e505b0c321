// Reading a policy's params (canonical JSON text) into its settings, with
// every error naming the field: "policies[2].params.limit_min: must be a
// size like \"64M\"". A field that is absent keeps its default; a field no
// reader asked for is an error, so a typo is never silently ignored.
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ballast {

class params_reader {
public:
  params_reader(const std::string &text, std::string path);
  ~params_reader();

  // Sizes: an integer or "64M"-style string ("max" = no limit).
  void bytes(const char *key, uint64_t &out);
  void optional_bytes(const char *key, std::optional<uint64_t> &out); // null = off
  void duration(const char *key, std::chrono::milliseconds &out);
  void number(const char *key, double &out, double min, double max);
  // A claim's priority: a number from -1000 to 1000, its whole part kept.
  void priority(int32_t &out);
  void flag(const char *key, bool &out);
  void choice(const char *key, std::string &out, const std::vector<std::string> &allowed);
  void text(const char *key, std::string &out);
  void texts(const char *key, std::vector<std::string> &out); // an array of strings
  // The field as JSON text, for a type that reads a nested structure itself.
  void raw(const char *key, std::optional<std::string> &out);

  // An error about the params as a whole or a field of them.
  void fail(const std::string &key, const std::string &rule);

  // Every error, including fields nobody read.
  std::vector<config::config_error> finish();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The parse of one policy type's params: settings, or the errors.
template <class Settings> struct params_result {
  Settings value{};
  std::vector<config::config_error> errors;
};

} // namespace ballast
