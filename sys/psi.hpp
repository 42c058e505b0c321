// Pressure stall information: parsing of /proc/pressure/{cpu,memory,io} and of
// a cgroup's {cpu,memory,io}.pressure. Both have the same format:
//   some avg10=0.12 avg60=0.05 avg300=0.01 total=123456
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace ballast::sys {

enum class psi_resource { cpu, memory, io };

// "cpu", "memory", "io".
std::string_view to_string(psi_resource r);

struct psi_line {
  double avg10 = 0; // percent of wall time stalled, 10 s window
  double avg60 = 0;
  double avg300 = 0;
  uint64_t total_us = 0; // cumulative stall time in microseconds
};

struct psi_reading {
  psi_line some;
  std::optional<psi_line> full; // absent in old kernels' system-wide cpu
};

// Errors name the line and field that failed ("psi: 'some' line missing",
// "psi: bad value for avg10: 'x'").
result<psi_reading> parse_psi(std::string_view text);

} // namespace ballast::sys
