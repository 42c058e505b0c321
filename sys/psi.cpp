// Parsing of pressure stall information (Documentation/accounting/psi.rst).
// /proc/pressure/* and a cgroup's *.pressure share one format, so one parser
// serves both. Fields are found by key, not position, and unknown keys or
// lines are ignored, so a kernel that adds one does not break the agent; a
// missing or malformed known field is an error naming it.
#include "sys/psi.hpp"

#include <charconv>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace ballast::sys {
namespace {

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// The "k=v" fields of one line, after its "some"/"full" word.
using field_list = std::vector<std::string>;

// The value of key in fields.
std::optional<std::string_view> field_value(const field_list& fields, std::string_view key) {
  for (const std::string& field : fields) {
    if (field.size() > key.size() && field.starts_with(key) && field[key.size()] == '=')
      return std::string_view(field).substr(key.size() + 1);
  }
  return std::nullopt;
}

template <class T>
status parse_field(std::string_view kind, const field_list& fields, std::string_view key, T& out) {
  const auto value = field_value(fields, key);
  if (!value)
    return error{0, "psi: '" + std::string(kind) + "' line: " + std::string(key) + " missing"};
  const auto number = parse_number<T>(*value);
  if (!number)
    return error{0, "psi: bad value for " + std::string(key) + ": '" + std::string(*value) + "'"};
  out = *number;
  return success();
}

result<psi_line> parse_line(std::string_view kind, const field_list& fields) {
  psi_line line;
  const status parsed[] = {parse_field(kind, fields, "avg10", line.avg10),
                           parse_field(kind, fields, "avg60", line.avg60),
                           parse_field(kind, fields, "avg300", line.avg300),
                           parse_field(kind, fields, "total", line.total_us)};
  for (const status& s : parsed) {
    if (!s) return s.err();
  }
  return line;
}

} // namespace

std::string_view to_string(psi_resource r) {
  switch (r) {
  case psi_resource::cpu: return "cpu";
  case psi_resource::memory: return "memory";
  case psi_resource::io: return "io";
  }
  return "unknown";
}

result<psi_reading> parse_psi(std::string_view text) {
  std::optional<psi_line> some;
  std::optional<psi_line> full;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind != "some" && kind != "full") continue;
    auto parsed = parse_line(kind, field_list{std::istream_iterator<std::string>(words), {}});
    if (!parsed) return parsed.err();
    (kind == "some" ? some : full) = *parsed;
  }
  if (!some) return error{0, "psi: 'some' line missing"};
  return psi_reading{*some, full};
}

} // namespace ballast::sys
