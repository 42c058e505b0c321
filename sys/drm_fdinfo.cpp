// DRM fdinfo parser; see drm_fdinfo.hpp.
#include "sys/drm_fdinfo.hpp"

#include "sys/text.hpp"

#include <vector>

namespace ballast::sys {

namespace {

bool consume(std::string_view &s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix)
    return false;
  s.remove_prefix(prefix.size());
  return !s.empty();
}

// "123", "123 KiB", "4 MiB", "1 GiB" as bytes.
std::optional<uint64_t> parse_bytes(const std::vector<std::string_view> &words) {
  if (words.empty() || words.size() > 2)
    return std::nullopt;
  auto n = text::parse_number<uint64_t>(words[0]);
  if (!n)
    return std::nullopt;
  if (words.size() == 1)
    return n;
  if (words[1] == "KiB")
    return *n << 10;
  if (words[1] == "MiB")
    return *n << 20;
  if (words[1] == "GiB")
    return *n << 30;
  return std::nullopt;
}

} // namespace

std::optional<drm_client> parse_drm_fdinfo(std::string_view fdinfo) {
  drm_client c;
  bool has_driver = false, has_id = false;
  std::map<std::string, uint64_t> legacy_memory; // drm-memory-<region>
  std::vector<std::string_view> words;
  text::for_each_line(fdinfo, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return;
    auto key = line.substr(0, colon);
    auto value = text::trim(line.substr(colon + 1));
    if (!consume(key, "drm-"))
      return;
    text::split_words(value, words);
    if (key == "driver") {
      c.driver = std::string(value);
      has_driver = !value.empty();
    } else if (key == "pdev") {
      c.pdev = std::string(value);
    } else if (key == "client-id") {
      auto id = text::parse_number<uint64_t>(value);
      has_id = id.has_value();
      c.id = id.value_or(0);
    } else if (consume(key, "engine-")) {
      if (key.substr(0, 9) == "capacity-") // how many engines of a kind: not a time
        return;
      if (words.size() == 2 && words[1] == "ns")
        if (auto ns = text::parse_number<uint64_t>(words[0]))
          c.engines[std::string(key)].ns = *ns;
    } else if (consume(key, "cycles-")) {
      if (auto n = text::parse_number<uint64_t>(value)) {
        auto &e = c.engines[std::string(key)];
        e.cycles = *n;
        e.in_cycles = true;
      }
    } else if (consume(key, "total-cycles-")) {
      if (auto n = text::parse_number<uint64_t>(value)) {
        auto &e = c.engines[std::string(key)];
        e.total_cycles = *n;
        e.in_cycles = true;
      }
    } else if (consume(key, "resident-")) {
      if (auto bytes = parse_bytes(words))
        c.memory[std::string(key)] = *bytes;
    } else if (consume(key, "memory-")) {
      if (auto bytes = parse_bytes(words))
        legacy_memory[std::string(key)] = *bytes;
    }
  });
  if (!has_driver || !has_id)
    return std::nullopt;
  for (auto &[region, bytes] : legacy_memory)
    c.memory.emplace(region, bytes); // only where drm-resident-<region> was not given
  return c;
}

} // namespace ballast::sys
