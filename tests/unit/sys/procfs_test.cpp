// Tests for procfs: the pure parsers on odd inputs (a comm holding ") ",
// missing and garbage fields), procfs::read on a fixture /proc tree written
// to a temp dir, and on the real /proc for this process and a reaped child.
#include "sys/procfs.hpp"

#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ballast::sys {
namespace {

namespace fs = std::filesystem;

// Field 1 pid, 2 comm, 3 state, 4 ppid, ... 14 utime=250, 15 stime=150,
// ... 22 starttime=4242, 23 vsize, 24 rss=10, then the rest up to field 52.
std::string stat_line(std::string_view comm) {
  return "77 (" + std::string(comm) +
         ") S 1 77 77 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 1 0 4242 1234567 10 "
         "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

TEST(ParseProcStat, ReadsTheFieldsByNumber) {
  const auto st = parse_proc_stat(stat_line("bash"));
  ASSERT_TRUE(st) << st.err().message;
  EXPECT_EQ(st->comm, "bash");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->utime_ticks, 250u);
  EXPECT_EQ(st->stime_ticks, 150u);
  EXPECT_EQ(st->starttime_ticks, 4242u);
  EXPECT_EQ(st->rss_pages, 10u);
}

TEST(ParseProcStat, CommEndsAtTheLastParenthesis) {
  for (const std::string_view comm : {"a) b", ") S 1 2 (", "x) 0 0 0)", "with space", ""}) {
    const auto st = parse_proc_stat(stat_line(comm));
    ASSERT_TRUE(st) << comm << ": " << st.err().message;
    EXPECT_EQ(st->comm, comm);
    EXPECT_EQ(st->ppid, 1);
    EXPECT_EQ(st->rss_pages, 10u);
  }
}

TEST(ParseProcStat, StopsAtRssWithoutTheLaterFields) {
  const auto st = parse_proc_stat("5 (k) R 2 0 0 0 0 0 0 0 0 0 7 8 0 0 0 0 0 0 9 0 3");
  ASSERT_TRUE(st) << st.err().message;
  EXPECT_EQ(st->state, 'R');
  EXPECT_EQ(st->utime_ticks, 7u);
  EXPECT_EQ(st->stime_ticks, 8u);
  EXPECT_EQ(st->starttime_ticks, 9u);
  EXPECT_EQ(st->rss_pages, 3u);
}

TEST(ParseProcStat, TooFewFieldsIsAnError) {
  const auto st = parse_proc_stat("5 (k) R 2 0 0 0 0 0 0 0 0 0 7 8 0 0 0 0 0 0 9 0");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().message, "proc stat: 23 fields, need at least 24");
}

TEST(ParseProcStat, MissingParenthesesIsAnError) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("5 k R 2"));
  EXPECT_FALSE(parse_proc_stat("5 )k( R 2 0 0 0 0 0 0 0 0 0 7 8 0 0 0 0 0 0 9 0 3"));
}

TEST(ParseProcStat, GarbageNumberNamesTheField) {
  std::string line = stat_line("k");
  line.replace(line.find(" 250 "), 5, " 2x0 ");
  const auto st = parse_proc_stat(line);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().message, "proc stat: field 14 (utime): bad number '2x0'");
}

TEST(ParseProcStat, BadStateIsAnError) {
  std::string line = stat_line("k");
  line.replace(line.find(") S "), 4, ") SS ");
  EXPECT_FALSE(parse_proc_stat(line));
}

TEST(ParseStatusUid, TakesTheRealUid) {
  const auto uid =
      parse_status_uid("Name:\tbash\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n");
  ASSERT_TRUE(uid) << uid.err().message;
  EXPECT_EQ(*uid, 1000u);
}

TEST(ParseStatusUid, MissingOrBadUidIsAnError) {
  EXPECT_EQ(parse_status_uid("Name:\tbash\nGid:\t0\t0\t0\t0\n").err().message,
            "proc status: Uid line missing");
  EXPECT_EQ(parse_status_uid("Uid:\tabc\t0\t0\t0\n").err().message,
            "proc status: bad Uid value 'abc'");
  EXPECT_FALSE(parse_status_uid("Uid:\n"));
}

TEST(ParseCmdline, JoinsArgumentsWithSpaces) {
  using namespace std::string_view_literals;
  EXPECT_EQ(parse_cmdline("/bin/sleep\0"
                          "10\0"
                          "--flag=a b\0"sv),
            "/bin/sleep 10 --flag=a b");
  EXPECT_EQ(parse_cmdline("single"sv), "single");
  EXPECT_EQ(parse_cmdline(""sv), "");
  EXPECT_EQ(parse_cmdline("\0\0"sv), "");
}

TEST(ParseProcCgroupV2, FindsTheUnifiedLine) {
  const auto cg = parse_proc_cgroup_v2("4:memory:/v1/path\n0::/a/b\n1:cpu:/\n");
  ASSERT_TRUE(cg) << cg.err().message;
  EXPECT_EQ(*cg, "/a/b");
  EXPECT_EQ(*parse_proc_cgroup_v2("0::/"), "/");
}

TEST(ParseProcCgroupV2, V1OnlyIsAnError) {
  const auto cg = parse_proc_cgroup_v2("4:memory:/x\n1:cpu:/\n");
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.err().message, "proc cgroup: no cgroup v2 line ('0::')");
}

TEST(ParseStatmResidentPages, TakesTheSecondField) {
  const auto pages = parse_statm_resident_pages("2489 812 640 183 0 321 0\n");
  ASSERT_TRUE(pages) << pages.err().message;
  EXPECT_EQ(*pages, 812u);
}

TEST(ParseStatmResidentPages, ShortOrBadIsAnError) {
  EXPECT_EQ(parse_statm_resident_pages("2489\n").err().message,
            "proc statm: 1 fields, need at least 2");
  EXPECT_EQ(parse_statm_resident_pages("2489 x 1\n").err().message,
            "proc statm: field 2 (resident): bad value 'x'");
}

class ProcfsFixture : public ::testing::Test {
protected:
  // A complete /proc/77 with a comm that looks like the end of comm.
  void write_process() {
    using namespace std::string_view_literals;
    tree_.write("/77/stat", stat_line("a) b"));
    tree_.write("/77/status", "Name:\ta) b\nUid:\t1234\t0\t0\t0\n");
    tree_.write("/77/cmdline", "prog\0--x\0"sv);
    tree_.write("/77/cgroup", "0::/work/job\n");
  }

  test::temp_tree tree_;
};

TEST_F(ProcfsFixture, ReadsAWholeProcess) {
  write_process();
  tree_.symlink("/77/exe", "/usr/bin/prog");
  const auto info = procfs(tree_.root()).read(77);
  ASSERT_TRUE(info) << info.err().message;
  EXPECT_EQ(info->pid, 77);
  EXPECT_EQ(info->comm, "a) b");
  EXPECT_EQ(info->exe, "/usr/bin/prog");
  EXPECT_EQ(info->cmdline, "prog --x");
  EXPECT_EQ(info->uid, 1234u);
  EXPECT_EQ(info->cgroup, "/work/job");
  const auto ticks = static_cast<double>(procfs::clock_ticks_per_second());
  EXPECT_DOUBLE_EQ(info->cpu_seconds, (250 + 150) / ticks);
  EXPECT_EQ(info->rss_bytes, 10 * procfs::page_size());
}

TEST_F(ProcfsFixture, MissingExeGivesAnEmptyExe) {
  write_process();
  const auto info = procfs(tree_.root()).read(77);
  ASSERT_TRUE(info) << info.err().message;
  EXPECT_EQ(info->exe, "");
}

TEST_F(ProcfsFixture, MissingPidIsAnErrorNamingThePath) {
  const auto info = procfs(tree_.root()).read(78);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.err().code, ENOENT);
  EXPECT_EQ(info.err().message, "open " + tree_.root() + "/78/stat: " + std::strerror(ENOENT));
}

TEST_F(ProcfsFixture, FileVanishingMidReadIsAnError) {
  write_process();
  tree_.remove("/77/cgroup");
  const auto info = procfs(tree_.root()).read(77);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.err().code, ENOENT);
  EXPECT_NE(info.err().message.find("/77/cgroup"), std::string::npos);
}

TEST_F(ProcfsFixture, ParseErrorIsPrefixedWithThePath) {
  tree_.write("/77/stat", "77 (k) S 1\n");
  const auto st = procfs(tree_.root()).stat(77);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().message, tree_.root() + "/77/stat: proc stat: 4 fields, need at least 24");
}

TEST_F(ProcfsFixture, ReadSmallFileReadsPastOneChunk) {
  const std::string big(100'000, 'x');
  tree_.write("/big", big);
  const auto text = read_small_file(tree_.path("/big"));
  ASSERT_TRUE(text) << text.err().message;
  EXPECT_EQ(*text, big);
}

TEST(ProcfsReal, ReadsThisProcess) {
  const auto info = procfs().read(::getpid());
  ASSERT_TRUE(info) << info.err().message;
  const auto comm = read_small_file("/proc/self/comm");
  ASSERT_TRUE(comm);
  EXPECT_EQ(info->comm + "\n", *comm);
  EXPECT_EQ(info->exe, fs::read_symlink("/proc/self/exe").string());
  EXPECT_NE(info->cmdline.find(info->comm), std::string::npos);
  EXPECT_EQ(info->uid, ::getuid());
  EXPECT_TRUE(info->cgroup.starts_with("/")) << info->cgroup;
  EXPECT_GT(info->rss_bytes, 0u);
  EXPECT_GE(info->cpu_seconds, 0.0);

  const auto st = procfs().stat(::getpid());
  ASSERT_TRUE(st) << st.err().message;
  EXPECT_EQ(st->ppid, ::getppid());
  EXPECT_EQ(st->state, 'R');
}

TEST_F(ProcfsFixture, PidFileRereadsTheSameFile) {
  tree_.write("/77/statm", "10 4 0 0 0 0 0\n");
  auto file = pid_file::open(tree_.root(), 77, "statm");
  ASSERT_TRUE(file) << file.err().message;
  EXPECT_EQ(*file->read(parse_statm_resident_pages), 4u);
  tree_.write("/77/statm", "10 6 0 0 0 0 0\n");
  EXPECT_EQ(*file->read(parse_statm_resident_pages), 6u);
  tree_.write("/77/statm", "10\n");
  EXPECT_EQ(file->read(parse_statm_resident_pages).err().message,
            tree_.root() + "/77/statm: proc statm: 1 fields, need at least 2");
}

TEST(ProcfsReal, PidFileOfAReapedChildFailsWithEsrch) {
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    ::close(go[1]); // the parent's close is the child's end-of-file
    char c;
    (void)!::read(go[0], &c, 1);
    ::_exit(0);
  }
  auto file = pid_file::open("/proc", child, "statm");
  ASSERT_TRUE(file) << file.err().message;
  EXPECT_GT(*file->read(parse_statm_resident_pages), 0u);
  ::close(go[1]);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  ::close(go[0]);
  const auto gone = file->read(parse_statm_resident_pages);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.err().code, ESRCH);
}

TEST(ProcfsReal, ReapedChildIsAnError) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0)
    ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const auto info = procfs().read(child);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.err().code, ENOENT);
  EXPECT_NE(info.err().message.find("/proc/" + std::to_string(child) + "/stat"), std::string::npos);
}

} // namespace
} // namespace ballast::sys
