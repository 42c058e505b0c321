// Pressure stall information (/proc/pressure/*, a cgroup's *.pressure).
#include "sys/psi.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using ballast::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = ballast::fuzz::as_text(data, size);
  const auto reading = ballast::sys::parse_psi(text);
  if (!reading) {
    check(!reading.err().message.empty(), "an error says what failed");
    return 0;
  }
  check(text.find("some") != std::string_view::npos, "a reading has a 'some' line");
  return 0;
}
