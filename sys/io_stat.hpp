// A cgroup's io.stat: what it read and wrote on each block device, since the
// device was first used in it ("8:0 rbytes=N wbytes=N rios=N wios=N dbytes=N
// dios=N", a line per device, fields the kernel did not print count 0).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ballast::sys {

struct io_counters {
  uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0;
};

// By device ("MAJ:MIN"). A line without a device or a field that is not a
// number is skipped: the file is the kernel's, not input to refuse.
std::map<std::string, io_counters> parse_io_stat(std::string_view text);

} // namespace ballast::sys
