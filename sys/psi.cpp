// Parsing of pressure stall information (Documentation/accounting/psi.rst).
// /proc/pressure/* and a cgroup's *.pressure share one format, so one parser
// serves both. Fields are found by key, not position, and unknown keys or
// lines are ignored, so a kernel that adds one does not break the agent; a
// missing or malformed known field is an error naming it. An average is a
// percentage: "inf", "nan" or a negative one is malformed (CAF 0.17 cannot
// even serialize infinity, and these values reach the network as status).
#include "sys/psi.hpp"

#include "sys/text.hpp"

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

namespace ballast::sys {
namespace {

using words = std::vector<std::string_view>;

// The value of key among the "k=v" words of a line.
std::optional<std::string_view> field_value(const words &fields, std::string_view key) {
  for (std::string_view field : fields) {
    if (field.size() > key.size() && field.starts_with(key) && field[key.size()] == '=')
      return field.substr(key.size() + 1);
  }
  return std::nullopt;
}

template <class T>
status parse_field(std::string_view kind, const words &fields, std::string_view key, T &out) {
  const auto value = field_value(fields, key);
  if (!value)
    return error{0, "psi: '" + std::string(kind) + "' line: " + std::string(key) + " missing"};
  auto number = text::parse_number<T>(*value);
  if constexpr (std::is_floating_point_v<T>) {
    if (number && (!std::isfinite(*number) || *number < 0))
      number.reset();
  }
  if (!number)
    return error{0, "psi: bad value for " + std::string(key) + ": '" + std::string(*value) + "'"};
  out = *number;
  return success();
}

result<psi_line> parse_line(std::string_view kind, const words &fields) {
  psi_line line;
  const status parsed[] = {parse_field(kind, fields, "avg10", line.avg10),
                           parse_field(kind, fields, "avg60", line.avg60),
                           parse_field(kind, fields, "avg300", line.avg300),
                           parse_field(kind, fields, "total", line.total_us)};
  for (const status &s : parsed) {
    if (!s)
      return s.err();
  }
  return line;
}

} // namespace

std::string_view to_string(psi_resource r) {
  switch (r) {
  case psi_resource::cpu:
    return "cpu";
  case psi_resource::memory:
    return "memory";
  case psi_resource::io:
    return "io";
  }
  return "unknown";
}

result<psi_reading> parse_psi(std::string_view content) {
  std::optional<psi_line> some;
  std::optional<psi_line> full;
  std::optional<error> failed;
  words fields;
  text::for_each_line(content, [&](std::string_view line) {
    text::split_words(line, fields);
    if (failed || fields.empty() || (fields[0] != "some" && fields[0] != "full"))
      return;
    const std::string_view kind = fields[0];
    fields.erase(fields.begin());
    auto parsed = parse_line(kind, fields);
    if (!parsed)
      failed = parsed.err();
    else
      (kind == "some" ? some : full) = *parsed;
  });
  if (failed)
    return *failed;
  if (!some)
    return error{0, "psi: 'some' line missing"};
  return psi_reading{*some, full};
}

} // namespace ballast::sys
