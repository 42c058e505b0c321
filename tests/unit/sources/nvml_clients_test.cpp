// Tests for NVML's clients over the fake libnvidia-ml (tests/support): the
// library missing or failing gives the reason; engine time from utilization
// samples (the first read a baseline, idle instants counted, growing lists);
// memory per process; gpu_reader crediting NVML's clients to their cgroups
// and reading an NVML device's fdinfo no more.
#include "actors/sources/gpu_reader.hpp"
#include "actors/sources/nvml_clients.hpp"

#include "tests/support/fake_nvml.hpp"
#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

constexpr uint64_t s = 1'000'000'000;

class NvmlClients : public ::testing::Test {
protected:
  NvmlClients() {
    fake_nvml_reset(0);
    fake_nvml_add_device(0, 0x41, 0);
  }

  static nvml_clients open() {
    auto library = sys::nvml::open(FAKE_NVML_PATH);
    if (!library)
      ADD_FAILURE() << library.err().message;
    return nvml_clients(std::move(*library));
  }
  static const nvml_clients::client *of(const nvml_clients::clients_read &r, int pid) {
    for (auto &c : r.clients)
      if (c.pid == pid)
        return &c;
    return nullptr;
  }
  static uint64_t engine(const nvml_clients::client *c, const std::string &name) {
    return c ? c->usage.engines.at(name).ns : ~0ull;
  }
};

TEST(Nvml, AMissingLibraryOrAFailedInitSaysWhy) {
  auto missing = sys::nvml::open("/nonexistent/libnvidia-ml.so.1");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().message.find("/nonexistent/libnvidia-ml.so.1"), std::string::npos);
  EXPECT_FALSE(sys::nvml::open("")); // never the program itself

  fake_nvml_reset(9);
  auto failed = sys::nvml::open(FAKE_NVML_PATH);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.err().message, "nvmlInit: Driver Not Loaded");
}

TEST_F(NvmlClients, DevicesAreNamedAsDrmPdevNamesThemAndShutDownAtTheEnd) {
  fake_nvml_add_device(1, 0x02, 0x1f);
  {
    auto clients = open();
    EXPECT_EQ(clients.devices(), (std::vector<std::string>{"0000:41:00.0", "0001:02:1f.0"}));
    EXPECT_FALSE(fake_nvml_shut_down());
  }
  EXPECT_TRUE(fake_nvml_shut_down());
}

TEST_F(NvmlClients, EngineTimeIsTheSampledShareOfTheTimeBetweenReads) {
  fake_nvml_add_process(0, 100, 512 << 20, 0);
  fake_nvml_add_sample(0, 100, 10, 90, 0, 0); // before the agent: not counted
  auto clients = open();
  auto first = clients.read(1 * s);
  EXPECT_EQ(engine(of(first, 100), "sm"), 0u);
  EXPECT_EQ(of(first, 100)->usage.memory.at("vram"), 512u << 20);
  EXPECT_EQ(of(first, 100)->usage.pdev, "0000:41:00.0");

  // Two instants in the next 2 s: 100 busy at 50% and 70%, 200 only at the
  // second (its first instant idle) with 40% sm and 20% encoder.
  fake_nvml_add_sample(0, 100, 20, 50, 0, 0);
  fake_nvml_add_sample(0, 100, 30, 70, 0, 0);
  fake_nvml_add_sample(0, 200, 30, 40, 20, 0);
  auto second = clients.read(3 * s);
  EXPECT_EQ(engine(of(second, 100), "sm"), 2 * s * 60 / 100);
  EXPECT_EQ(engine(of(second, 200), "sm"), 2 * s * 20 / 100);
  EXPECT_EQ(engine(of(second, 200), "enc"), 2 * s * 10 / 100);
  EXPECT_EQ(engine(of(second, 200), "dec"), 0u);
  EXPECT_EQ(of(second, 200)->usage.memory.at("vram"), 0u); // sampled, no context listed

  // Nothing new: idle, the times stay; 200 gone (no sample, no context).
  auto third = clients.read(5 * s);
  EXPECT_EQ(engine(of(third, 100), "sm"), 2 * s * 60 / 100);
  EXPECT_EQ(of(third, 200), nullptr);
}

TEST_F(NvmlClients, ListsLongerThanAGuessAndBothContextKindsCountOnce) {
  for (unsigned pid = 1; pid <= 40; ++pid)
    fake_nvml_add_process(0, pid, pid * 1000, 0);
  fake_nvml_add_process(0, 7, 9000, 1);   // graphics too
  fake_nvml_add_process(0, 77, ~0ull, 1); // memory not available
  auto read = open().read(1 * s);
  EXPECT_EQ(read.clients.size(), 41u);
  EXPECT_EQ(of(read, 7)->usage.memory.at("vram"), 9000u);
  EXPECT_EQ(of(read, 77)->usage.memory.at("vram"), 0u);
  EXPECT_TRUE(read.errors.empty());
}

// gpu_reader with the fake NVML: its clients land in their cgroups, and the
// fdinfo of the device NVML reads is not counted twice.
TEST_F(NvmlClients, TheGpuReaderCreditsThemToTheirCgroups) {
  test::temp_tree tree;
  tree.make_dir("/cg/train");
  tree.make_dir("/proc/300/fd");
  tree.make_dir("/proc/300/fdinfo");
  tree.write("/proc/300/cgroup", "0::/train\n");
  tree.symlink("/proc/300/fd/4", "/dev/dri/card0"); // nvidia-drm: no engine times
  tree.write("/proc/300/fdinfo/4", "drm-driver:\tnvidia-drm\ndrm-pdev:\t0000:41:00.0\n"
                                   "drm-client-id:\t3\ndrm-memory-vram:\t4 KiB\n");
  tree.make_dir("/sys"); // no class/drm: NVML's devices are the devices
  fake_nvml_add_process(0, 300, 1 << 30, 0);
  gpu_reader reader({tree.path("/proc"), tree.path("/sys"), tree.path("/cg"), FAKE_NVML_PATH}, 0);
  EXPECT_TRUE(reader.devices_present());
  EXPECT_EQ(reader.nvml_devices(), std::vector<std::string>{"0000:41:00.0"});
  reader.discover();
  reader.read(1 * s);
  fake_nvml_add_sample(0, 300, 50, 25, 0, 0);
  auto read = reader.read(5 * s);
  ASSERT_EQ(read.cgroups.size(), 1u);
  auto &train = read.cgroups[0];
  EXPECT_EQ(train.cgroup_id, tree.inode("/cg/train"));
  EXPECT_EQ(train.clients, 1u); // NVML's, not also the DRM fd's
  ASSERT_EQ(train.memory.size(), 1u);
  EXPECT_EQ(train.memory[0].bytes, 1u << 30);
  for (auto &e : train.engines)
    EXPECT_EQ(e.ns, e.engine == "sm" ? 4 * s / 4 : 0u) << e.engine;
  EXPECT_EQ(read.host.clients, 1u);
}

} // namespace
} // namespace ballast
