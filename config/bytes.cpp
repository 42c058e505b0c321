// parse_bytes: the one size syntax of the config, "<integer>[K|M|G|T]" with
// binary units ("64M" = 64 MiB), or "max" for no limit.
#include "config/config.hpp"

#include <charconv>
#include <limits>

namespace ballast::config {

std::optional<uint64_t> parse_bytes(std::string_view text) {
  if (text == "max")
    return std::numeric_limits<uint64_t>::max();
  uint64_t count = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc{} || end == text.data())
    return std::nullopt;
  std::string_view unit = text.substr(end - text.data());
  int shift = unit.empty()  ? 0
              : unit == "K" ? 10
              : unit == "M" ? 20
              : unit == "G" ? 30
              : unit == "T" ? 40
                            : -1;
  if (shift < 0 || count > (std::numeric_limits<uint64_t>::max() >> shift))
    return std::nullopt;
  return count << shift;
}

} // namespace ballast::config
