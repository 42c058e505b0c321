// The pure parts of jobs: a request's checks (each error names its option),
// admission by pressure bands, the job directory's record and log cursor,
// and the identity proof.
#include "actors/jobs/admission.hpp"
#include "actors/jobs/job_cgroup.hpp"
#include "actors/jobs/job_checks.hpp"
#include "actors/jobs/job_dir.hpp"
#include "sys/identity.hpp"
#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast::jobs {

namespace {

job_request valid() {
  job_request r;
  r.id = "build-1.x_y";
  r.argv = {"/bin/true"};
  return r;
}

std::string all(const std::vector<std::string> &errors) {
  std::string out;
  for (auto &e : errors)
    out += e + "\n";
  return out;
}

TEST(JobChecks, AValidRequestPasses) {
  auto r = valid();
  r.limits = {{"memory.max", "536870912"},    {"cpu.max", "50000 100000"}, {"io.weight", "50"},
              {"io.max", "8:0 rbps=1048576"}, {"pids.max", "max"},         {"cpuset.cpus", "0-1"}};
  EXPECT_TRUE(check_request(r).empty()) << all(check_request(r));
}

TEST(JobChecks, EachProblemNamesItsOption) {
  auto r = valid();
  r.id = "../etc";
  r.argv.clear();
  r.priority = -1;
  r.cwd = "relative";
  r.env = {"NOEQUALS"};
  r.limits = {{"cpu.weight", "0"},
              {"cpu.weight", "5"},
              {"io.max", "rbps=1"},
              {"io.max", "sda rbps=1"},
              {"cgroup.freeze", "1"}};
  auto text = all(check_request(r));
  for (auto expected : {"--id: '../etc'", "command: nothing to run", "--priority: -1",
                        "--cwd: 'relative'", "--env: 'NOEQUALS'", "--cpu-weight: cpu.weight: '0'",
                        "--cpu-weight: given twice", "--io-max: needs a device first",
                        "--io-max: 'sda' is not a block device", "'cgroup.freeze' is not a limit"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
}

TEST(JobChecks, OptionsAndControllersComeFromTheKnobName) {
  EXPECT_EQ(option_of("memory.swap.max"), "--memory-swap-max");
  EXPECT_EQ(controller_of("memory.swap.max"), "memory");
  EXPECT_EQ(file_value({"io.weight", "50"}), "default 50");
  EXPECT_EQ(file_value({"io.weight", "8:0 50"}), "8:0 50");
}

TEST(Admission, TheFirstBandHoldingThePriorityDecides) {
  std::vector<config::admission_band> bands = {{49, {{"memory.some", 10}}},
                                               {100, {{"memory.some", 40}, {"io.full", 5}}}};
  host_pressure now = {{"memory.some", 20}, {"io.full", 1}};
  auto low = refusal(bands, 10, now);
  ASSERT_TRUE(low);
  EXPECT_EQ(*low, "memory.some avg10 20.00 % is above 10.00 % (jobs of priority <= 49)");
  EXPECT_FALSE(refusal(bands, 90, now));
  now["io.full"] = 6;
  EXPECT_TRUE(refusal(bands, 90, now));
  EXPECT_FALSE(refusal({}, 0, now));    // no bands: every job admitted
  EXPECT_FALSE(refusal(bands, 90, {})); // no PSI: admitted
}

TEST(JobDir, TheRecordSurvivesARoundTrip) {
  test::temp_tree dir;
  job_record rec;
  rec.request = valid();
  rec.request.limits = {{"memory.max", "1024"}};
  rec.request.env = {"A=1"};
  rec.uid = 1000;
  rec.gid = 100;
  rec.cgroup = "/ballast-jobs/build-1.x_y";
  rec.shim_pid = 42;
  rec.shim_start_ticks = 12345;
  rec.into_cgroup = true;
  rec.created_unix_ms = 1700000000000;
  ASSERT_TRUE(write_record(dir.path("/"), rec));
  auto back = read_record(dir.path("/"));
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(back->request.limits[0].value, "1024");
  EXPECT_EQ(back->request.env, rec.request.env);
  EXPECT_EQ(back->shim_start_ticks, 12345u);
  EXPECT_EQ(back->cgroup, rec.cgroup);
  dir.write("/job.json", "{not json");
  EXPECT_FALSE(read_record(dir.path("/")));
}

TEST(JobDir, TheEndIsReadFromTheShimsStatus) {
  test::temp_tree dir;
  EXPECT_FALSE(read_end(dir.path("/")));
  dir.write("/status", R"({"signal":9,"core":false,"ended_unix_ms":1})");
  EXPECT_EQ(read_end(dir.path("/"))->signal, 9);
  dir.write("/status", R"({"exit":127,"error":"exec /x: No such file or directory"})");
  EXPECT_EQ(read_end(dir.path("/"))->exit_code, 127);
  EXPECT_EQ(read_end(dir.path("/"))->error, "exec /x: No such file or directory");
}

TEST(JobDir, ALogCursorFollowsARotation) {
  test::temp_tree dir;
  dir.write("/log", "one\n");
  auto first = read_log(dir.path("/"), {"j"}, 1 << 20);
  EXPECT_EQ(first.text, "one\n");
  // More, then a rotation and more: nothing read twice, nothing missed.
  std::filesystem::remove(dir.path("/log"));
  dir.write("/log.1", "one\ntwo\n");
  struct stat st {};
  ::stat(dir.path("/log.1").c_str(), &st);
  auto cursor = first.next;
  cursor.inode = st.st_ino; // the file the cursor was in is log.1 now
  dir.write("/log", "three\n");
  auto second = read_log(dir.path("/"), cursor, 1 << 20);
  EXPECT_EQ(second.text, "two\nthree\n");
  EXPECT_EQ(read_log(dir.path("/"), second.next, 1 << 20).text, "");
  // From the start: both files, and only the newest bytes past the cap.
  EXPECT_EQ(read_log(dir.path("/"), {"j"}, 1 << 20).text, "one\ntwo\nthree\n");
  EXPECT_EQ(read_log(dir.path("/"), {"j"}, 8).text, "o\nthree\n");
}

TEST(Identity, OnlyTheOwnersFileWithTheNonceProvesTheUid) {
  test::temp_tree dir;
  auto path = sys::write_identity_proof(dir.path("/"), "nonce-1");
  ASSERT_TRUE(path) << path.err().message;
  uint32_t me = ::getuid();
  EXPECT_TRUE(sys::verify_identity(me, *path, "nonce-1"));
  EXPECT_FALSE(sys::verify_identity(me + 1, *path, "nonce-1"));
  EXPECT_FALSE(sys::verify_identity(me, *path, "nonce-2"));
  auto link = dir.path("/link");
  ASSERT_EQ(::symlink(path->c_str(), link.c_str()), 0);
  EXPECT_FALSE(sys::verify_identity(me, link, "nonce-1")); // no symlink followed
  auto hard = dir.path("/hard");
  ASSERT_EQ(::link(path->c_str(), hard.c_str()), 0);
  auto linked = sys::verify_identity(me, *path, "nonce-1");
  ASSERT_FALSE(linked);
  EXPECT_NE(linked.err().message.find("has other links"), std::string::npos);
}

TEST(JobCgroup, AJobsCgroupIsMadeUnderTheRootAndAMissingControllerIsNamed) {
  test::temp_tree root;
  root.write("/cgroup.controllers", "cpu io memory pids");
  root.write("/cgroup.subtree_control", "");
  // A fixture tree: the "kernel" makes no files in new directories, so the
  // job root's subtree_control is made by hand after its mkdir.
  ::mkdir(root.path("/jobs").c_str(), 0755);
  root.write("/jobs/cgroup.subtree_control", "");
  auto made = create_job_cgroup(root.path("/"), "/jobs", "a", {});
  ASSERT_TRUE(made) << made.err().message;
  EXPECT_EQ(*made, "/jobs/a");
  auto none = create_job_cgroup(root.path("/"), "/jobs", "b", {{"cpuset.cpus", "0"}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.err().message,
            "--cpuset-cpus: the cpuset controller is not in this host's cgroup2 hierarchy");
  EXPECT_FALSE(std::filesystem::exists(root.path("/jobs/b")));
  auto again = create_job_cgroup(root.path("/"), "/jobs", "a", {});
  ASSERT_FALSE(again);
  EXPECT_NE(again.err().message.find("--id: a is in use"), std::string::npos);
}

} // namespace

} // namespace ballast::jobs
