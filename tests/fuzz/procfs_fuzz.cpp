// The procfs parsers of one process: /proc/PID/stat, status (Uid), cmdline
// and cgroup, and a DRM fd's fdinfo. Every input goes through all five.
#include "sys/drm_fdinfo.hpp"
#include "sys/procfs.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using ballast::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const auto text = ballast::fuzz::as_text(data, size);
  if (auto st = ballast::sys::parse_proc_stat(text)) {
    check(st->comm.size() + 2 <= text.size(), "comm lies within the text");
  }
  (void)ballast::sys::parse_status_uid(text);
  const auto cmdline = ballast::sys::parse_cmdline(text);
  check(cmdline.find('\0') == std::string::npos, "cmdline has no NUL left");
  check(cmdline.size() <= text.size(), "cmdline is no longer than its text");
  if (auto cg = ballast::sys::parse_proc_cgroup_v2(text))
    check(cg->find('\n') == std::string::npos, "a cgroup path is one line");
  if (auto drm = ballast::sys::parse_drm_fdinfo(text)) {
    check(!drm->driver.empty(), "a DRM client names its driver");
    check(!drm->device().empty(), "a DRM client names its device");
  }
  return 0;
}
