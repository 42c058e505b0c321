// Pressure stall information (/proc/pressure/*, a cgroup's *.pressure). A
// reading's averages are percentages: finite and not negative (they reach
// controllers and, as agent_status, the network, where CAF 0.17 cannot
// serialize infinity).
#include "sys/psi.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cmath>

using ballast::fuzz::check;

namespace {

void check_line(const ballast::sys::psi_line &l) {
  for (double avg : {l.avg10, l.avg60, l.avg300})
    check(std::isfinite(avg) && avg >= 0, "an average is a finite, non-negative percentage");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const auto text = ballast::fuzz::as_text(data, size);
  const auto reading = ballast::sys::parse_psi(text);
  if (!reading) {
    check(!reading.err().message.empty(), "an error says what failed");
    return 0;
  }
  check(text.find("some") != std::string_view::npos, "a reading has a 'some' line");
  check_line(reading->some);
  if (reading->full)
    check_line(*reading->full);
  return 0;
}
