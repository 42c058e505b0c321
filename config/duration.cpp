// parse_duration: the one duration syntax of the config, "<integer><unit>"
// with unit ms, s or m ("250ms", "5s", "2m"). Whole numbers only, so every
// value is exact in milliseconds; no signs, spaces or compound forms.
#include <charconv>
#include <cstdint>
#include <limits>

#include "config/config.hpp"

namespace ballast::config {
namespace {

// Milliseconds per unit, or 0 for an unknown unit.
uint64_t unit_ms(std::string_view unit) {
  if (unit == "ms")
    return 1;
  if (unit == "s")
    return 1000;
  if (unit == "m")
    return 60'000;
  return 0;
}

} // namespace

std::optional<milliseconds> parse_duration(std::string_view text) {
  uint64_t count = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc{} || end == text.data())
    return std::nullopt;
  const uint64_t scale = unit_ms(text.substr(end - text.data()));
  const auto max = static_cast<uint64_t>(std::numeric_limits<milliseconds::rep>::max());
  if (scale == 0 || count > max / scale)
    return std::nullopt;
  return milliseconds(static_cast<milliseconds::rep>(count * scale));
}

} // namespace ballast::config
