// Tests for cgroupfs on a fixture cgroup tree written to a temp dir: path
// helpers, cgroup_dir reads and writes through cached fds, dropping a failed
// fd, errors naming the file and cgroup, exists() after removal, and the
// order and ids of a tree scan.
#include "sys/cgroupfs.hpp"
#include "sys/knobs.hpp"

#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ballast::sys {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;

TEST(JoinCgroupPath, JoinsRootAndRelativePath) {
  EXPECT_EQ(join_cgroup_path("/sys/fs/cgroup", "/"), "/sys/fs/cgroup");
  EXPECT_EQ(join_cgroup_path("/r", "/a/b"), "/r/a/b");
  EXPECT_EQ(join_cgroup_path("/r/", "/a"), "/r/a");
  EXPECT_EQ(join_cgroup_path("/", "/a"), "/a");
}

TEST(IsCleanCgroupPath, AcceptsOnlyCleanAbsolutePaths) {
  for (const std::string_view good : {"/"sv, "/a"sv, "/a/b"sv, "/a.slice/b..c/.d"sv})
    EXPECT_TRUE(is_clean_cgroup_path(good)) << good;
  for (const std::string_view bad : {""sv, "a"sv, "a/b"sv, "/a/../b"sv, "/./a"sv, "/.."sv, "/a/."sv,
                                     "//a"sv, "/a//b"sv, "/a/"sv, "/a\0b"sv})
    EXPECT_FALSE(is_clean_cgroup_path(bad)) << bad;
}

TEST(ParsePidList, ReadsOnePidPerLineAndSkipsJunk) {
  EXPECT_EQ(parse_pid_list("1\n22\n333\n"), (std::vector<int>{1, 22, 333}));
  EXPECT_EQ(parse_pid_list("4\n\nx\n5 \n-6\n0\n7"), (std::vector<int>{4, 7}));
  EXPECT_TRUE(parse_pid_list("").empty());
}

// The fixture path of a control file: control("/a", knobs::cgroup_freeze.name) is
// "/a/cgroup.freeze", control("/", knobs::cgroup_max_depth.name) "/cgroup.max.depth".
std::string control(std::string_view rel, std::string_view file) {
  return (rel == "/" ? std::string() : std::string(rel)) + "/" + std::string(file);
}

class CgroupFixture : public ::testing::Test {
protected:
  void SetUp() override { tree_.make_cgroup("/"); }

  cgroup_dir open_cgroup(const std::string &rel) {
    auto dir = cgroup_dir::open(tree_.root(), rel);
    EXPECT_TRUE(dir) << dir.err().message;
    return std::move(dir).value();
  }

  test::temp_tree tree_;
};

TEST_F(CgroupFixture, OpenKnowsItsPathAndInode) {
  tree_.make_cgroup("/a/b");
  cgroup_dir dir = open_cgroup("/a/b");
  EXPECT_EQ(dir.path(), "/a/b");
  EXPECT_EQ(dir.id(), tree_.inode("/a/b"));
  EXPECT_EQ(open_cgroup("/").id(), tree_.inode("/"));
}

TEST_F(CgroupFixture, OpenFailsForUncleanOrMissingPaths) {
  const auto unclean = cgroup_dir::open(tree_.root(), "/a/../b");
  ASSERT_FALSE(unclean);
  EXPECT_EQ(unclean.err().message, "cgroup: unclean path '/a/../b'");

  const auto missing = cgroup_dir::open(tree_.root(), "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, ENOENT);
  EXPECT_EQ(missing.err().message, "open " + tree_.root() + "/nope: " + std::strerror(ENOENT));
}

TEST_F(CgroupFixture, ReadReturnsTheWholeFileEveryTime) {
  const std::string big(10'000, 's'); // more than one read chunk
  tree_.write(control("/", files::cpu_stat), big);
  cgroup_dir dir = open_cgroup("/");
  for (int i = 0; i < 2; ++i) {
    const auto text = dir.read(files::cpu_stat);
    ASSERT_TRUE(text) << text.err().message;
    EXPECT_EQ(*text, big);
  }
  tree_.write(control("/", files::cpu_stat), "usage_usec 5\n"); // same inode, truncated
  EXPECT_EQ(*dir.read(files::cpu_stat), "usage_usec 5\n");
}

TEST_F(CgroupFixture, ReadKeepsUsingTheCachedFd) {
  tree_.write(control("/", files::memory_pressure), "old");
  cgroup_dir dir = open_cgroup("/");
  ASSERT_TRUE(dir.read(files::memory_pressure));
  // A new file under the same name is not seen: the first one's fd is reused.
  tree_.remove(control("/", files::memory_pressure));
  tree_.write(control("/", files::memory_pressure), "new");
  const auto text = dir.read(files::memory_pressure);
  ASSERT_TRUE(text) << text.err().message;
  EXPECT_EQ(*text, "old");
}

TEST_F(CgroupFixture, FailedReadDropsTheCachedFd) {
  tree_.make_dir("/odd"); // opens O_RDONLY, but pread fails with EISDIR
  cgroup_dir dir = open_cgroup("/");
  const auto failed = dir.read("odd");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.err().code, EISDIR);
  EXPECT_EQ(failed.err().message, "read " + tree_.root() + "/odd: " + std::strerror(EISDIR));

  tree_.remove("/odd");
  tree_.write("/odd", "now a file");
  const auto text = dir.read("odd");
  ASSERT_TRUE(text) << text.err().message;
  EXPECT_EQ(*text, "now a file");
}

TEST_F(CgroupFixture, ReadOfAMissingOrBadFileIsAnError) {
  tree_.make_cgroup("/a");
  cgroup_dir dir = open_cgroup("/a");
  const auto missing = dir.read("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, ENOENT);
  EXPECT_EQ(missing.err().message, "open " + tree_.root() + "/a/nope: " + std::strerror(ENOENT));
  const auto escaping = dir.read("../cgroup.procs");
  ASSERT_FALSE(escaping);
  EXPECT_EQ(escaping.err().message, "cgroup /a: bad control file name '../cgroup.procs'");
  EXPECT_FALSE(dir.read(""));
}

TEST_F(CgroupFixture, WriteWritesTheValue) {
  tree_.make_cgroup("/a");
  tree_.write(control("/a", knobs::cgroup_freeze.name), "");
  cgroup_dir dir = open_cgroup("/a");
  const auto written = dir.write(knobs::cgroup_freeze.name, "1");
  ASSERT_TRUE(written) << written.err().message;
  EXPECT_EQ(tree_.read(control("/a", knobs::cgroup_freeze.name)), "1");
}

TEST_F(CgroupFixture, EachWriteReplacesTheWholeValue) {
  tree_.write(control("/", knobs::cgroup_max_depth.name), "max\n");
  cgroup_dir dir = open_cgroup("/");
  ASSERT_TRUE(dir.write(knobs::cgroup_max_depth.name, "10"));
  ASSERT_TRUE(dir.write(knobs::cgroup_max_depth.name, "5"));
  EXPECT_EQ(tree_.read(control("/", knobs::cgroup_max_depth.name)), "5");
}

TEST_F(CgroupFixture, AnEmptyValueIsWrittenAsANewline) {
  tree_.make_cgroup("/a");
  tree_.write(control("/a", knobs::cpuset_cpus.name), "0\n");
  cgroup_dir dir = open_cgroup("/a");
  ASSERT_TRUE(dir.write(knobs::cpuset_cpus.name, ""));
  EXPECT_EQ(tree_.read(control("/a", knobs::cpuset_cpus.name)), "\n")
      << "a write of no bytes would not reach the kernel";
}

TEST_F(CgroupFixture, WriteToAMissingFileNamesTheFileAndCgroup) {
  tree_.make_cgroup("/a/b");
  cgroup_dir dir = open_cgroup("/a/b");
  const auto written = dir.write("cgroup.nope", "1");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.err().code, ENOENT);
  EXPECT_EQ(written.err().message,
            "open " + tree_.root() + "/a/b/cgroup.nope: " + std::strerror(ENOENT));
  EXPECT_FALSE(fs::exists(tree_.path("/a/b/cgroup.nope")));
}

TEST_F(CgroupFixture, ProcsListsThePids) {
  tree_.make_cgroup("/a");
  tree_.write(control("/a", files::procs), "10\n20\n");
  cgroup_dir dir = open_cgroup("/a");
  const auto pids = dir.procs();
  ASSERT_TRUE(pids) << pids.err().message;
  EXPECT_EQ(*pids, (std::vector<int>{10, 20}));
}

TEST_F(CgroupFixture, ExistsUntilTheDirectoryIsRemoved) {
  // Only cgroup.procs, which exists() looks for: a fixture's control files
  // are plain files that must be deleted before rmdir.
  tree_.make_dir("/a");
  tree_.write(control("/a", files::procs), "");
  cgroup_dir dir = open_cgroup("/a");
  EXPECT_TRUE(dir.exists());
  tree_.remove(control("/a", files::procs));
  ASSERT_EQ(::rmdir(tree_.path("/a").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(dir.exists());
}

TEST_F(CgroupFixture, MovedDirKeepsItsState) {
  tree_.make_cgroup("/a");
  tree_.write(control("/a", files::events), "populated 1\n");
  cgroup_dir first = open_cgroup("/a");
  ASSERT_TRUE(first.read(files::events));
  cgroup_dir second(std::move(first));
  EXPECT_EQ(second.path(), "/a");
  EXPECT_TRUE(second.exists());
  EXPECT_EQ(*second.read(files::events), "populated 1\n");

  cgroup_dir third = open_cgroup("/");
  third = std::move(second);
  EXPECT_EQ(third.path(), "/a");
  EXPECT_EQ(third.id(), tree_.inode("/a"));
  EXPECT_EQ(*third.read(files::events), "populated 1\n");
}

TEST_F(CgroupFixture, ScanWalksDepthFirstInNameOrder) {
  tree_.make_cgroup("/b");
  tree_.make_cgroup("/a/y");
  tree_.make_cgroup("/a/x/deep");
  tree_.symlink("/link", tree_.path("/a")); // not followed
  const auto tree = scan_cgroup_tree(tree_.root());
  ASSERT_TRUE(tree) << tree.err().message;
  std::vector<std::string> paths;
  for (const cgroup_entry &e : *tree) {
    paths.push_back(e.path);
    EXPECT_EQ(e.id, tree_.inode(e.path)) << e.path;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/", "/a", "/a/x", "/a/x/deep", "/a/y", "/b"}));
}

TEST_F(CgroupFixture, ScanOfAMissingRootIsAnError) {
  const auto tree = scan_cgroup_tree(tree_.path("/nope"));
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.err().code, ENOENT);
  EXPECT_EQ(tree.err().message, "open " + tree_.root() + "/nope: " + std::strerror(ENOENT));
}

TEST(FlatKeyed, ParsesKeyValueLinesAndSkipsTheRest) {
  const auto kv =
      parse_flat_keyed("low 0\nhigh 3\noom_kill 18446744073709551615\nbroken\nx y z\nmax -1\n");
  const std::vector<std::pair<std::string, uint64_t>> want = {
      {"low", 0}, {"high", 3}, {"oom_kill", 18446744073709551615ull}};
  EXPECT_EQ(kv, want);
}

TEST(FlatKeyed, EmptyTextIsEmpty) {
  EXPECT_TRUE(parse_flat_keyed("").empty());
}

} // namespace
} // namespace ballast::sys
