// cgroup2 mount discovery from mountinfo (proc(5)). A line reads
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// with zero or more optional fields before the "-" separator. Only the mount
// point, fs type and source are kept. A line that does not fit is skipped
// rather than failing the parse: one odd mount must not hide cgroup2.
#include "sys/mountinfo.hpp"

#include "sys/procfs.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <sstream>

namespace ballast::sys {
namespace {

constexpr const char *self_mountinfo = "/proc/self/mountinfo";

// Fields before the optional ones: id, parent, major:minor, root, mount
// point, options.
constexpr size_t fixed_fields = 6;
constexpr size_t mount_point_field = 4;

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

// The kernel writes space, tab, newline and backslash in paths as \ooo.
std::string decode_octal_escapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
        is_octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<mount_entry> parse_line(const std::string &line) {
  // Fields never hold raw whitespace: the kernel escapes it.
  std::istringstream in(line);
  const std::vector<std::string> fields{std::istream_iterator<std::string>(in), {}};
  if (fields.size() < fixed_fields)
    return std::nullopt;
  // After the separator: fs type, source, super options (not needed here).
  const auto sep = std::find(fields.begin() + fixed_fields, fields.end(), "-");
  if (fields.end() - sep < 3)
    return std::nullopt;
  return mount_entry{decode_octal_escapes(fields[mount_point_field]), sep[1],
                     decode_octal_escapes(sep[2])};
}

} // namespace

std::vector<mount_entry> parse_mountinfo(std::string_view text) {
  std::vector<mount_entry> entries;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (auto entry = parse_line(line))
      entries.push_back(std::move(*entry));
  }
  return entries;
}

result<std::string> find_cgroup2_mount(std::string_view mountinfo_text) {
  for (mount_entry &entry : parse_mountinfo(mountinfo_text)) {
    if (entry.fs_type == "cgroup2")
      return std::move(entry.mount_point);
  }
  return error{0, "mountinfo: no cgroup2 mount"};
}

result<std::string> discover_cgroup2_mount() {
  auto text = read_small_file(self_mountinfo);
  if (!text)
    return text.err();
  auto mount = find_cgroup2_mount(*text);
  if (!mount)
    return error{0, std::string(self_mountinfo) + ": no cgroup2 mount"};
  return mount;
}

} // namespace ballast::sys
