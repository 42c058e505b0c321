// See libbpf_log.hpp.
#include "actors/sources/libbpf_log.hpp"

#include "sys/log.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <string_view>

namespace ballast {

namespace {

int libbpf_to_log(enum libbpf_print_level level, const char *format, va_list args) {
  char line[1024];
  std::vsnprintf(line, sizeof line, format, args);
  std::string_view text(line);
  if (text.starts_with("libbpf: "))
    text.remove_prefix(8);
  while (!text.empty() && text.back() == '\n')
    text.remove_suffix(1);
  log::write(level == LIBBPF_WARN ? log::level::warn : log::level::debug, "libbpf", text);
  return 0;
}

} // namespace

void route_libbpf_log() {
  libbpf_set_print(libbpf_to_log);
}

} // namespace ballast
