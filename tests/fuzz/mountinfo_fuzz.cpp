// /proc/self/mountinfo: the parser that finds the cgroup2 mount.
#include "sys/mountinfo.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using ballast::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const auto text = ballast::fuzz::as_text(data, size);
  const auto entries = ballast::sys::parse_mountinfo(text);
  const auto mount = ballast::sys::find_cgroup2_mount(text);
  const ballast::sys::mount_entry *first = nullptr;
  for (const auto &e : entries) {
    if (e.fs_type == "cgroup2") {
      first = &e;
      break;
    }
  }
  check(mount.ok() == (first != nullptr), "cgroup2 found iff an entry has that type");
  if (first)
    check(*mount == first->mount_point, "the first cgroup2 entry's mount point");
  return 0;
}
