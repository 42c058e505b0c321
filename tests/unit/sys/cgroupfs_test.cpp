// Tests for cgroupfs on a fixture cgroup tree written to a temp dir: path
// helpers, cgroup_dir reads and writes through cached fds, dropping a failed
// fd, errors naming the file and cgroup, exists() after removal, and the
// order and ids of a tree scan.
#include "sys/cgroupfs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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
  for (const std::string_view bad :
       {""sv, "a"sv, "a/b"sv, "/a/../b"sv, "/./a"sv, "/.."sv, "/a/."sv, "//a"sv, "/a//b"sv, "/a/"sv,
        "/a\0b"sv})
    EXPECT_FALSE(is_clean_cgroup_path(bad)) << bad;
}

TEST(ParsePidList, ReadsOnePidPerLineAndSkipsJunk) {
  EXPECT_EQ(parse_pid_list("1\n22\n333\n"), (std::vector<int>{1, 22, 333}));
  EXPECT_EQ(parse_pid_list("4\n\nx\n5 \n-6\n0\n7"), (std::vector<int>{4, 7}));
  EXPECT_TRUE(parse_pid_list("").empty());
}

class CgroupFixture : public ::testing::Test {
protected:
  void SetUp() override {
    char dir[] = "/tmp/ballast-cgroupfs-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr) << std::strerror(errno);
    root_ = dir;
    make_cgroup("/");
  }
  void TearDown() override { fs::remove_all(root_); }

  // A directory with the cgroup.procs every cgroup2 directory has.
  void make_cgroup(const std::string& rel) {
    fs::create_directories(join_cgroup_path(root_, rel));
    write_file(rel, files::procs, "");
  }
  void write_file(const std::string& rel, std::string_view file, std::string_view content) {
    std::ofstream(join_cgroup_path(root_, rel) + "/" + std::string(file), std::ios::binary)
        << content;
  }
  std::string read_file(const std::string& rel, std::string_view file) {
    std::ostringstream content;
    content << std::ifstream(join_cgroup_path(root_, rel) + "/" + std::string(file)).rdbuf();
    return content.str();
  }
  cgroup_dir open_cgroup(const std::string& rel) {
    auto dir = cgroup_dir::open(root_, rel);
    EXPECT_TRUE(dir) << dir.err().message;
    return std::move(dir).value();
  }
  uint64_t stat_ino(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::stat(join_cgroup_path(root_, rel).c_str(), &st), 0);
    return st.st_ino;
  }

  std::string root_;
};

TEST_F(CgroupFixture, OpenKnowsItsPathAndInode) {
  make_cgroup("/a/b");
  cgroup_dir dir = open_cgroup("/a/b");
  EXPECT_EQ(dir.path(), "/a/b");
  EXPECT_EQ(dir.id(), stat_ino("/a/b"));
  EXPECT_EQ(open_cgroup("/").id(), stat_ino("/"));
}

TEST_F(CgroupFixture, OpenFailsForUncleanOrMissingPaths) {
  const auto unclean = cgroup_dir::open(root_, "/a/../b");
  ASSERT_FALSE(unclean);
  EXPECT_EQ(unclean.err().message, "cgroup: unclean path '/a/../b'");

  const auto missing = cgroup_dir::open(root_, "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, ENOENT);
  EXPECT_EQ(missing.err().message, "open " + root_ + "/nope: " + std::strerror(ENOENT));
}

TEST_F(CgroupFixture, ReadReturnsTheWholeFileEveryTime) {
  const std::string big(10'000, 's');  // more than one read chunk
  write_file("/", files::cpu_stat, big);
  cgroup_dir dir = open_cgroup("/");
  for (int i = 0; i < 2; ++i) {
    const auto text = dir.read(files::cpu_stat);
    ASSERT_TRUE(text) << text.err().message;
    EXPECT_EQ(*text, big);
  }
  write_file("/", files::cpu_stat, "usage_usec 5\n");  // same inode, truncated
  EXPECT_EQ(*dir.read(files::cpu_stat), "usage_usec 5\n");
}

TEST_F(CgroupFixture, ReadKeepsUsingTheCachedFd) {
  write_file("/", files::memory_pressure, "old");
  cgroup_dir dir = open_cgroup("/");
  ASSERT_TRUE(dir.read(files::memory_pressure));
  // A new file under the same name is not seen: the first one's fd is reused.
  fs::remove(root_ + "/" + std::string(files::memory_pressure));
  write_file("/", files::memory_pressure, "new");
  const auto text = dir.read(files::memory_pressure);
  ASSERT_TRUE(text) << text.err().message;
  EXPECT_EQ(*text, "old");
}

TEST_F(CgroupFixture, FailedReadDropsTheCachedFd) {
  fs::create_directory(root_ + "/odd");  // opens O_RDONLY, but pread fails with EISDIR
  cgroup_dir dir = open_cgroup("/");
  const auto failed = dir.read("odd");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.err().code, EISDIR);
  EXPECT_EQ(failed.err().message, "read " + root_ + "/odd: " + std::strerror(EISDIR));

  fs::remove(root_ + "/odd");
  write_file("/", "odd", "now a file");
  const auto text = dir.read("odd");
  ASSERT_TRUE(text) << text.err().message;
  EXPECT_EQ(*text, "now a file");
}

TEST_F(CgroupFixture, ReadOfAMissingOrBadFileIsAnError) {
  make_cgroup("/a");
  cgroup_dir dir = open_cgroup("/a");
  const auto missing = dir.read("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, ENOENT);
  EXPECT_EQ(missing.err().message, "open " + root_ + "/a/nope: " + std::strerror(ENOENT));
  const auto escaping = dir.read("../cgroup.procs");
  ASSERT_FALSE(escaping);
  EXPECT_EQ(escaping.err().message, "cgroup /a: bad control file name '../cgroup.procs'");
  EXPECT_FALSE(dir.read(""));
}

TEST_F(CgroupFixture, WriteWritesTheValue) {
  make_cgroup("/a");
  write_file("/a", files::freeze, "");
  cgroup_dir dir = open_cgroup("/a");
  const auto written = dir.write(files::freeze, "1");
  ASSERT_TRUE(written) << written.err().message;
  EXPECT_EQ(read_file("/a", files::freeze), "1");
}

TEST_F(CgroupFixture, EachWriteReplacesTheWholeValue) {
  write_file("/", files::max_depth, "max\n");
  cgroup_dir dir = open_cgroup("/");
  ASSERT_TRUE(dir.write(files::max_depth, "10"));
  ASSERT_TRUE(dir.write(files::max_depth, "5"));
  EXPECT_EQ(read_file("/", files::max_depth), "5");
}

TEST_F(CgroupFixture, WriteToAMissingFileNamesTheFileAndCgroup) {
  make_cgroup("/a/b");
  cgroup_dir dir = open_cgroup("/a/b");
  const auto written = dir.write("cgroup.nope", "1");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.err().code, ENOENT);
  EXPECT_EQ(written.err().message,
            "open " + root_ + "/a/b/cgroup.nope: " + std::strerror(ENOENT));
  EXPECT_FALSE(fs::exists(root_ + "/a/b/cgroup.nope"));
}

TEST_F(CgroupFixture, ProcsListsThePids) {
  make_cgroup("/a");
  write_file("/a", files::procs, "10\n20\n");
  cgroup_dir dir = open_cgroup("/a");
  const auto pids = dir.procs();
  ASSERT_TRUE(pids) << pids.err().message;
  EXPECT_EQ(*pids, (std::vector<int>{10, 20}));
}

TEST_F(CgroupFixture, ExistsUntilTheDirectoryIsRemoved) {
  make_cgroup("/a");
  cgroup_dir dir = open_cgroup("/a");
  EXPECT_TRUE(dir.exists());
  fs::remove(root_ + "/a/" + std::string(files::procs));
  ASSERT_EQ(::rmdir((root_ + "/a").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(dir.exists());
}

TEST_F(CgroupFixture, MovedDirKeepsItsState) {
  make_cgroup("/a");
  write_file("/a", files::events, "populated 1\n");
  cgroup_dir first = open_cgroup("/a");
  ASSERT_TRUE(first.read(files::events));
  cgroup_dir second(std::move(first));
  EXPECT_EQ(second.path(), "/a");
  EXPECT_TRUE(second.exists());
  EXPECT_EQ(*second.read(files::events), "populated 1\n");

  cgroup_dir third = open_cgroup("/");
  third = std::move(second);
  EXPECT_EQ(third.path(), "/a");
  EXPECT_EQ(third.id(), stat_ino("/a"));
  EXPECT_EQ(*third.read(files::events), "populated 1\n");
}

TEST_F(CgroupFixture, ScanWalksDepthFirstInNameOrder) {
  make_cgroup("/b");
  make_cgroup("/a/y");
  make_cgroup("/a/x/deep");
  fs::create_directory_symlink(root_ + "/a", root_ + "/link");  // not followed
  const auto tree = scan_cgroup_tree(root_);
  ASSERT_TRUE(tree) << tree.err().message;
  std::vector<std::string> paths;
  for (const cgroup_entry& e : *tree) {
    paths.push_back(e.path);
    EXPECT_EQ(e.id, stat_ino(e.path)) << e.path;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/", "/a", "/a/x", "/a/x/deep", "/a/y", "/b"}));
}

TEST_F(CgroupFixture, ScanOfAMissingRootIsAnError) {
  const auto tree = scan_cgroup_tree(root_ + "/nope");
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.err().code, ENOENT);
  EXPECT_EQ(tree.err().message, "open " + root_ + "/nope: " + std::strerror(ENOENT));
}

} // namespace
} // namespace ballast::sys
