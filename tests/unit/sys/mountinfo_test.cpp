// Tests for mountinfo parsing and cgroup2 discovery: the proc(5) line format
// with and without optional fields, octal escapes, malformed lines, hybrid
// and unified hosts, and this machine's own /proc/self/mountinfo.
#include "sys/mountinfo.hpp"

#include "sys/procfs.hpp"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include <algorithm>

namespace ballast::sys {
namespace {

constexpr std::string_view hybrid_host =
    "25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr std::string_view unified_host =
    "25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

TEST(ParseMountinfo, ReadsTheManPageExample) {
  const auto entries = parse_mountinfo(
      "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].mount_point, "/mnt2");
  EXPECT_EQ(entries[0].fs_type, "ext3");
  EXPECT_EQ(entries[0].source, "/dev/root");
}

TEST(ParseMountinfo, AcceptsAnyNumberOfOptionalFields) {
  const auto entries =
      parse_mountinfo("1 0 0:1 / /none rw - tmpfs a rw\n"
                      "2 0 0:2 / /two rw shared:1 master:2 propagate_from:3 - tmpfs b rw\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].mount_point, "/none");
  EXPECT_EQ(entries[0].source, "a");
  EXPECT_EQ(entries[1].mount_point, "/two");
  EXPECT_EQ(entries[1].source, "b");
}

TEST(ParseMountinfo, DecodesOctalEscapes) {
  const auto entries =
      parse_mountinfo(R"(1 0 0:1 / /mnt/my\040disk\011tab\134back rw - ext4 /dev/my\040dev rw)");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].mount_point, "/mnt/my disk\ttab\\back");
  EXPECT_EQ(entries[0].source, "/dev/my dev");
}

TEST(ParseMountinfo, LeavesIncompleteEscapesAlone) {
  const auto entries = parse_mountinfo(R"(1 0 0:1 / /a\04 rw - ext4 /b\9xy rw)");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].mount_point, R"(/a\04)");
  EXPECT_EQ(entries[0].source, R"(/b\9xy)");
}

TEST(ParseMountinfo, SkipsMalformedLines) {
  const auto entries = parse_mountinfo("\n"
                                       "garbage\n"
                                       "1 0 0:1 / /no-separator rw ext4 /dev/x rw\n"
                                       "1 0 0:1 / /nothing-after-separator rw -\n"
                                       "1 0 0:1 / /no-source rw - ext4\n"
                                       "1 0 0:1 / - -\n"
                                       "1 0 0:1 / /good rw - ext4 /dev/x rw");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].mount_point, "/good");
}

TEST(FindCgroup2Mount, FindsUnifiedOnAHybridHost) {
  const auto mount = find_cgroup2_mount(hybrid_host);
  ASSERT_TRUE(mount) << mount.err().message;
  EXPECT_EQ(*mount, "/sys/fs/cgroup/unified");
}

TEST(FindCgroup2Mount, FindsTheRootOnAUnifiedHost) {
  const auto mount = find_cgroup2_mount(unified_host);
  ASSERT_TRUE(mount) << mount.err().message;
  EXPECT_EQ(*mount, "/sys/fs/cgroup");
}

TEST(FindCgroup2Mount, TakesTheFirstOfSeveral) {
  const auto mount = find_cgroup2_mount("1 0 0:1 / /first rw - cgroup2 cgroup2 rw\n"
                                        "2 0 0:2 / /second rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(mount);
  EXPECT_EQ(*mount, "/first");
}

TEST(FindCgroup2Mount, FailsWithOnlyCgroupV1) {
  const auto mount =
      find_cgroup2_mount("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  ASSERT_FALSE(mount);
  EXPECT_NE(mount.err().message.find("no cgroup2 mount"), std::string::npos);
}

TEST(FindCgroup2Mount, FailsOnEmptyText) {
  EXPECT_FALSE(find_cgroup2_mount(""));
}

TEST(ParseMountinfo, FindsCgroup2InThisMachinesMountinfo) {
  const auto text = read_small_file("/proc/self/mountinfo");
  ASSERT_TRUE(text) << text.err().message;
  const auto entries = parse_mountinfo(*text);
  ASSERT_FALSE(entries.empty());
  const auto cgroup2 = std::find_if(entries.begin(), entries.end(),
                                    [](const mount_entry &e) { return e.fs_type == "cgroup2"; });
  ASSERT_NE(cgroup2, entries.end());
  EXPECT_TRUE(cgroup2->mount_point.starts_with("/"));
}

TEST(DiscoverCgroup2Mount, ReturnsACgroup2Filesystem) {
  const auto mount = discover_cgroup2_mount();
  ASSERT_TRUE(mount) << mount.err().message;
  struct statfs fs {};
  ASSERT_EQ(::statfs(mount->c_str(), &fs), 0) << *mount;
  EXPECT_EQ(fs.f_type, CGROUP2_SUPER_MAGIC) << *mount;
}

} // namespace
} // namespace ballast::sys
