// cgroup2 mount discovery. The cgroup2 hierarchy is found from
// /proc/self/mountinfo, never assumed: on a hybrid host it is
// /sys/fs/cgroup/unified, on a normal host /sys/fs/cgroup.
#pragma once

#include "sys/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ballast::sys {

struct mount_entry {
  std::string mount_point; // octal escapes (\040 etc.) decoded
  std::string fs_type;
  std::string source;
};

// Parses the text of a mountinfo file; malformed lines are skipped.
std::vector<mount_entry> parse_mountinfo(std::string_view text);

// The mount point of the first cgroup2 entry, or an error if there is none.
result<std::string> find_cgroup2_mount(std::string_view mountinfo_text);

// Reads /proc/self/mountinfo and finds the cgroup2 mount.
result<std::string> discover_cgroup2_mount();

} // namespace ballast::sys
