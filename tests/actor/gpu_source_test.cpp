// The GPU source on fixture trees (/proc with a DRM client's fd and fdinfo,
// /sys/class/drm, the cgroup root) with a real registry and cgroup actors:
// each watched cgroup's engine time and memory become its series, the host's
// figures the source's own, a restarted source counts nothing twice, and a
// host without a DRM device keeps the source idle until one appears.
#include "actors/cgroups/registry.hpp"
#include "actors/sources/gpu_source.hpp"
#include "tests/actor/actor_fixture.hpp"

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

std::string fdinfo(uint64_t gfx_ns, uint64_t vram_kib) {
  return "pos:\t0\nflags:\t02100002\ndrm-driver:\tamdgpu\ndrm-pdev:\t0000:03:00.0\n"
         "drm-client-id:\t9\ndrm-engine-gfx:\t" +
         std::to_string(gfx_ns) + " ns\ndrm-memory-vram:\t" + std::to_string(vram_kib) + " KiB\n";
}

class GpuSourceTest : public ActorTest {
protected:
  GpuSourceTest() {
    tree.make_cgroup("/");
    tree.make_cgroup("/job");
    host.make_dir("/proc/42/fd");
    host.make_dir("/proc/42/fdinfo");
    host.write("/proc/42/cgroup", "0::/job\n");
    config::agent cfg;
    registry = spawn_registry(*sys, cfg, ctx);
    caf::anon_send(registry, atom::scan_v);
  }
  ~GpuSourceTest() override {
    caf::anon_send_exit(source, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
  }

  void add_device() { host.make_dir("/sys/class/drm/renderD128"); }
  void open_client(uint64_t gfx_ns, uint64_t vram_kib) {
    host.symlink("/proc/42/fd/5", "/dev/dri/renderD128");
    host.write("/proc/42/fdinfo/5", fdinfo(gfx_ns, vram_kib));
  }
  void start_source() {
    gpu_source_options opts{1s, 10s, {host.path("/proc"), host.path("/sys"), tree.root()}};
    source = spawn_gpu_source(*sys, registry, opts, metrics);
  }

  double job_gpu_seconds() {
    return metric("ballast_cgroup_gpu_engine_seconds_total",
                  {{"cgroup", "/job"}, {"device", "0000:03:00.0"}, {"engine", "gfx"}});
  }
  double job_vram() {
    return metric("ballast_cgroup_gpu_memory_bytes",
                  {{"cgroup", "/job"}, {"device", "0000:03:00.0"}, {"region", "vram"}});
  }

  temp_tree host; // /proc and /sys
  registry_actor registry;
  sense_actor source;
};

TEST_F(GpuSourceTest, ExportsEachCgroupsEngineTimeAndMemory) {
  add_device();
  open_client(7'000'000'000, 2048);
  start_source();
  ASSERT_TRUE(eventually([&] { return job_gpu_seconds() == 0; }))
      << "the first read sets the baseline: the 7 s before the source are not counted";
  EXPECT_EQ(job_vram(), 2048.0 * 1024);
  EXPECT_EQ(metric("ballast_gpu_clients"), 1);

  host.write("/proc/42/fdinfo/5", fdinfo(9'500'000'000, 4096));
  EXPECT_TRUE(eventually([&] { return job_gpu_seconds() == 2.5; }));
  EXPECT_EQ(job_vram(), 4096.0 * 1024);
  EXPECT_EQ(
      metric("ballast_gpu_engine_seconds_total", {{"device", "0000:03:00.0"}, {"engine", "gfx"}}),
      2.5);
  EXPECT_EQ(metric("ballast_gpu_memory_bytes", {{"device", "0000:03:00.0"}, {"region", "vram"}}),
            4096.0 * 1024);

  host.remove("/proc/42/fd/5"); // the client closed its file
  host.remove("/proc/42/fdinfo/5");
  EXPECT_TRUE(eventually([&] { return job_vram() == 0; }));
  EXPECT_EQ(job_gpu_seconds(), 2.5);
  EXPECT_EQ(metric("ballast_gpu_clients"), 0);
}

TEST_F(GpuSourceTest, ARestartedSourceCountsNothingTwice) {
  add_device();
  open_client(1'000'000'000, 0);
  start_source();
  ASSERT_TRUE(eventually([&] { return job_gpu_seconds() == 0; }));
  host.write("/proc/42/fdinfo/5", fdinfo(2'000'000'000, 0));
  ASSERT_TRUE(eventually([&] { return job_gpu_seconds() == 1; }));
  caf::anon_send_exit(source, caf::exit_reason::kill);
  pass(1500ms);
  start_source();
  pass(1500ms); // the new source's first read: its baseline
  EXPECT_EQ(job_gpu_seconds(), 1);
  host.write("/proc/42/fdinfo/5", fdinfo(2'250'000'000, 0));
  EXPECT_TRUE(eventually([&] { return job_gpu_seconds() == 1.25; }));
}

TEST_F(GpuSourceTest, WithoutADeviceItIsIdleUntilOneAppears) {
  open_client(0, 512); // a fd that would be a client: never read without a device
  start_source();
  pass(5s);
  EXPECT_EQ(job_vram(), -1) << "no series";
  EXPECT_EQ(metric("ballast_gpu_clients"), 0);
  add_device();
  pass(4s);
  EXPECT_EQ(job_vram(), -1) << "looked for again at the rescan only";
  EXPECT_TRUE(eventually([&] { return job_vram() == 512.0 * 1024; }, 3s));
}

TEST_F(GpuSourceTest, ItsSeriesGoWithTheSource) {
  add_device();
  open_client(0, 64);
  start_source();
  ASSERT_TRUE(eventually([&] { return metric("ballast_gpu_clients") == 1; }));
  caf::anon_send_exit(source, caf::exit_reason::user_shutdown);
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_gpu_memory_bytes", {{"device", "0000:03:00.0"}, {"region", "vram"}}) ==
           -1;
  }));
  EXPECT_EQ(metric("ballast_gpu_clients"), 0);
}

} // namespace
} // namespace ballast::test
