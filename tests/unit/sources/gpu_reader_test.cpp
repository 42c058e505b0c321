// Tests for gpu_reader on fixture trees (/proc with fd links and fdinfo,
// /sys/class/drm, a cgroup root): per-cgroup engine time from the first
// read's baseline, clients found later counted whole, one client behind
// several fds counted once, memory that goes with its client, processes
// that move, cgroups that go, and cycle-counting drivers.
#include "actors/sources/gpu_reader.hpp"

#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

std::string fdinfo(uint64_t client, uint64_t render_ns, uint64_t vram_kib) {
  return "pos:\t0\nflags:\t02100002\ndrm-driver:\tamdgpu\ndrm-pdev:\t0000:03:00.0\n"
         "drm-client-id:\t" +
         std::to_string(client) + "\ndrm-engine-gfx:\t" + std::to_string(render_ns) +
         " ns\ndrm-memory-vram:\t" + std::to_string(vram_kib) + " KiB\n";
}

class GpuReader : public ::testing::Test {
protected:
  GpuReader() {
    tree.make_dir("/sys/class/drm/card0");
    tree.make_dir("/sys/class/drm/renderD128");
    tree.make_dir("/cg/a");
    tree.make_dir("/cg/b");
    tree.make_dir("/proc/self"); // not a pid: skipped
  }

  void process(int pid, std::string_view cgroup) {
    auto dir = "/proc/" + std::to_string(pid);
    tree.make_dir(dir + "/fd");
    tree.make_dir(dir + "/fdinfo");
    tree.write(dir + "/cgroup", "0::" + std::string(cgroup) + "\n");
    tree.symlink(dir + "/fd/0", "/dev/null");
    tree.write(dir + "/fdinfo/0", "pos:\t0\nflags:\t02\n");
  }
  void open_gpu(int pid, int fd, const std::string &info) {
    tree.symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd),
                 "/dev/dri/renderD128");
    update(pid, fd, info);
  }
  void update(int pid, int fd, const std::string &info) {
    tree.write("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd), info);
  }
  void close_fd(int pid, int fd) {
    auto dir = "/proc/" + std::to_string(pid);
    tree.remove(dir + "/fd/" + std::to_string(fd));
    tree.remove(dir + "/fdinfo/" + std::to_string(fd));
  }

  gpu_reader make_reader() {
    return gpu_reader(
        {tree.path("/proc"), tree.path("/sys"), tree.path("/cg"), "/nonexistent/libnvidia-ml.so.1"},
        1000);
  }
  // Process 10 in /a with one client at fd 5, found and read once.
  gpu_reader one_client_read(const std::string &info) {
    process(10, "/a");
    open_gpu(10, 5, info);
    auto reader = make_reader();
    reader.discover();
    reader.read(1);
    return reader;
  }
  const gpu_sample *of(const gpu_reader::gpu_read &r, std::string_view cgroup) {
    for (auto &s : r.cgroups)
      if (s.cgroup_id == tree.inode("/cg" + std::string(cgroup)))
        return &s;
    return nullptr;
  }
  static uint64_t engine_ns(const gpu_sample *s) {
    return s && s->engines.size() == 1 ? s->engines[0].ns : ~0ull;
  }
  static uint64_t vram(const gpu_sample *s) {
    return s && s->memory.size() == 1 ? s->memory[0].bytes : ~0ull;
  }

  test::temp_tree tree;
};

TEST_F(GpuReader, DevicesAreThoseOfClassDrm) {
  EXPECT_TRUE(make_reader().devices_present());
  tree.remove("/sys/class/drm/card0");
  tree.remove("/sys/class/drm/renderD128");
  tree.make_dir("/sys/class/drm/version"); // not a device
  EXPECT_FALSE(make_reader().devices_present());
}

TEST_F(GpuReader, EngineTimeCountsFromTheFirstReadPerCgroup) {
  process(10, "/a");
  process(20, "/b");
  open_gpu(10, 5, fdinfo(1, 1'000'000, 100));
  open_gpu(20, 7, fdinfo(2, 9'000'000, 300));
  auto reader = make_reader();
  reader.discover();
  auto first = reader.read(2000);
  ASSERT_EQ(first.cgroups.size(), 2u);
  EXPECT_EQ(engine_ns(of(first, "/a")), 0u); // the time before the source is not counted
  EXPECT_EQ(vram(of(first, "/a")), 100u * 1024);
  EXPECT_EQ(of(first, "/a")->engines[0].device, "0000:03:00.0");
  EXPECT_EQ(of(first, "/a")->engines[0].engine, "gfx");
  EXPECT_EQ(of(first, "/a")->memory[0].region, "vram");
  EXPECT_EQ(of(first, "/a")->origin_ns, 1000u);
  EXPECT_EQ(first.host.clients, 2u);
  EXPECT_EQ(vram(&first.host), 400u * 1024);

  update(10, 5, fdinfo(1, 3'500'000, 120));
  update(20, 7, fdinfo(2, 9'000'010, 300));
  auto second = reader.read(3000);
  EXPECT_EQ(engine_ns(of(second, "/a")), 2'500'000u);
  EXPECT_EQ(engine_ns(of(second, "/b")), 10u);
  EXPECT_EQ(vram(of(second, "/a")), 120u * 1024);
  EXPECT_EQ(engine_ns(&second.host), 2'500'010u);
}

TEST_F(GpuReader, OneClientBehindSeveralFdsCountsOnce) {
  process(10, "/a");
  process(11, "/a"); // a child that inherited the fd
  open_gpu(10, 5, fdinfo(1, 0, 100));
  open_gpu(10, 6, fdinfo(1, 0, 100)); // dup
  open_gpu(11, 5, fdinfo(1, 0, 100));
  auto reader = make_reader();
  reader.discover();
  reader.read(1);
  for (auto [pid, fd] : {std::pair{10, 5}, {10, 6}, {11, 5}})
    update(pid, fd, fdinfo(1, 700, 100));
  auto r = reader.read(2);
  EXPECT_EQ(engine_ns(of(r, "/a")), 700u);
  EXPECT_EQ(vram(of(r, "/a")), 100u * 1024);
  EXPECT_EQ(r.host.clients, 1u);
}

TEST_F(GpuReader, ClientsFoundLaterCountWholeAndClosedOnesLeaveTheirTime) {
  process(10, "/a");
  auto reader = make_reader();
  reader.discover();
  EXPECT_TRUE(reader.read(1).cgroups.empty());
  open_gpu(10, 5, fdinfo(3, 4'000, 50)); // opened after the source started
  EXPECT_TRUE(reader.read(2).cgroups.empty()) << "not found until the next walk";
  reader.discover();
  auto found = reader.read(3);
  EXPECT_EQ(engine_ns(of(found, "/a")), 4'000u);
  EXPECT_EQ(vram(of(found, "/a")), 50u * 1024);

  close_fd(10, 5);
  auto closed = reader.read(4);
  EXPECT_EQ(engine_ns(of(closed, "/a")), 4'000u) << "a counter keeps what was counted";
  EXPECT_EQ(vram(of(closed, "/a")), 0u) << "its memory went with it";
  EXPECT_EQ(of(closed, "/a")->clients, 0u);
  EXPECT_EQ(closed.host.clients, 0u);
}

TEST_F(GpuReader, AnFdNumberReusedForAnotherFileIsNoClient) {
  auto reader = one_client_read(fdinfo(1, 0, 10));
  update(10, 5, "pos:\t0\nflags:\t02\nmnt_id:\t26\n"); // closed, and the number reused
  auto r = reader.read(2);
  EXPECT_EQ(r.host.clients, 0u);
  EXPECT_EQ(vram(of(r, "/a")), 0u);
}

TEST_F(GpuReader, FollowsAProcessToItsNewCgroupAtTheNextWalk) {
  auto reader = one_client_read(fdinfo(1, 0, 0));
  update(10, 5, fdinfo(1, 100, 0));
  reader.read(2);
  tree.write("/proc/10/cgroup", "0::/b\n");
  reader.discover();
  update(10, 5, fdinfo(1, 150, 0));
  auto r = reader.read(3);
  EXPECT_EQ(engine_ns(of(r, "/a")), 100u);
  EXPECT_EQ(engine_ns(of(r, "/b")), 50u);
}

TEST_F(GpuReader, ForgetsCgroupsThatAreGone) {
  auto reader = one_client_read(fdinfo(1, 0, 10));
  ASSERT_EQ(reader.read(2).cgroups.size(), 1u);
  tree.remove("/proc/10");
  tree.remove("/cg/a");
  reader.discover();
  EXPECT_TRUE(reader.read(3).cgroups.empty());
}

TEST_F(GpuReader, CyclesBecomeTheBusyShareOfTheTimeBetweenReads) {
  auto xe = [](uint64_t cycles, uint64_t total) {
    return "drm-driver:\txe\ndrm-pdev:\t0000:00:02.0\ndrm-client-id:\t4\ndrm-cycles-rcs:\t" +
           std::to_string(cycles) + "\ndrm-total-cycles-rcs:\t" + std::to_string(total) + "\n";
  };
  auto reader = one_client_read(xe(1'000, 10'000)); // read at 1 ns
  update(10, 5, xe(3'500, 20'000));                 // busy 25% of the 10,000 cycles
  auto r = reader.read(2'000'000'001);
  EXPECT_EQ(engine_ns(of(r, "/a")), 500'000'000u); // 25% of 2 s
}

} // namespace
} // namespace ballast
