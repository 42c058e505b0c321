// Tests for the DRM fdinfo parser on the texts of three drivers (i915 and
// amdgpu in ns, xe in cycles), memory units and the deprecated alias, and
// fds that are not DRM clients.
#include "sys/drm_fdinfo.hpp"

#include <gtest/gtest.h>

namespace ballast::sys {
namespace {

constexpr std::string_view i915 = "pos:\t0\nflags:\t02100002\nmnt_id:\t26\nino:\t1044\n"
                                  "drm-driver:\ti915\n"
                                  "drm-client-id:\t7\n"
                                  "drm-pdev:\t0000:00:02.0\n"
                                  "drm-total-system0:\t16 MiB\n"
                                  "drm-resident-system0:\t12 MiB\n"
                                  "drm-engine-render:\t9288864723 ns\n"
                                  "drm-engine-copy:\t2035071108 ns\n"
                                  "drm-engine-video:\t0 ns\n"
                                  "drm-engine-capacity-video:\t2\n"
                                  "drm-engine-video-enhance:\t37 ns\n";

TEST(DrmFdinfo, ReadsAnI915Client) {
  auto c = parse_drm_fdinfo(i915);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->driver, "i915");
  EXPECT_EQ(c->pdev, "0000:00:02.0");
  EXPECT_EQ(c->device(), "0000:00:02.0");
  EXPECT_EQ(c->id, 7u);
  ASSERT_EQ(c->engines.size(), 4u); // capacity is not an engine
  EXPECT_EQ(c->engines["render"].ns, 9288864723u);
  EXPECT_EQ(c->engines["copy"].ns, 2035071108u);
  EXPECT_EQ(c->engines["video"].ns, 0u);
  EXPECT_EQ(c->engines["video-enhance"].ns, 37u);
  EXPECT_FALSE(c->engines["render"].in_cycles);
  ASSERT_EQ(c->memory.size(), 1u);
  EXPECT_EQ(c->memory["system0"], 12u << 20); // resident, not total
}

TEST(DrmFdinfo, TakesTheDeprecatedMemoryKeysWhereResidentIsMissing) {
  auto c = parse_drm_fdinfo("drm-driver: amdgpu\ndrm-pdev: 0000:03:00.0\ndrm-client-id: 12\n"
                            "drm-memory-vram: 1024 KiB\ndrm-memory-gtt: 4096\n"
                            "drm-memory-cpu: 2 GiB\n"
                            "drm-resident-gtt: 8192\n"
                            "drm-engine-gfx: 1500 ns\ndrm-engine-compute: 0 ns\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->memory["vram"], 1024u * 1024);
  EXPECT_EQ(c->memory["gtt"], 8192u); // drm-resident-gtt wins over its alias
  EXPECT_EQ(c->memory["cpu"], uint64_t(2) << 30);
  EXPECT_EQ(c->engines["gfx"].ns, 1500u);
}

TEST(DrmFdinfo, ReadsCycleCountingDrivers) {
  auto c = parse_drm_fdinfo("drm-driver:\txe\ndrm-client-id:\t3\ndrm-pdev:\t0000:00:02.0\n"
                            "drm-cycles-rcs:\t28257900\ndrm-total-cycles-rcs:\t7655183225\n"
                            "drm-cycles-bcs:\t0\ndrm-total-cycles-bcs:\t7655183225\n");
  ASSERT_TRUE(c);
  auto &rcs = c->engines["rcs"];
  EXPECT_TRUE(rcs.in_cycles);
  EXPECT_EQ(rcs.cycles, 28257900u);
  EXPECT_EQ(rcs.total_cycles, 7655183225u);
  EXPECT_TRUE(c->engines["bcs"].in_cycles);
}

TEST(DrmFdinfo, APlatformDeviceIsNamedByItsDriver) {
  auto c = parse_drm_fdinfo("drm-driver: msm\ndrm-client-id: 1\ndrm-engine-gpu: 5 ns\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->device(), "msm");
}

TEST(DrmFdinfo, OtherFdsAreNotClients) {
  EXPECT_FALSE(parse_drm_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t26\nino:\t1044\n"));
  EXPECT_FALSE(parse_drm_fdinfo("drm-driver: i915\n")); // no client id (kernel < 5.19)
  EXPECT_FALSE(parse_drm_fdinfo("drm-client-id: 4\n")); // no driver
  EXPECT_FALSE(parse_drm_fdinfo("drm-driver: i915\ndrm-client-id: x\n"));
  EXPECT_FALSE(parse_drm_fdinfo(""));
}

TEST(DrmFdinfo, SkipsValuesItCannotRead) {
  auto c = parse_drm_fdinfo("drm-driver: i915\ndrm-client-id: 2\n"
                            "drm-engine-render: many ns\ndrm-engine-copy: 5 us\n"
                            "drm-engine-video: 9 ns\ndrm-resident-lmem: 3 TiB\n"
                            "drm-resident-smem: 4 KiB\ndrm-engine-\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->engines.size(), 1u);
  EXPECT_EQ(c->engines["video"].ns, 9u);
  EXPECT_EQ(c->memory.size(), 1u);
  EXPECT_EQ(c->memory["smem"], 4096u);
}

} // namespace
} // namespace ballast::sys
