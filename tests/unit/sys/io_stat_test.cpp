// io.stat as 6.1 prints it: a line per device, fields by name.
#include "sys/io_stat.hpp"

#include <gtest/gtest.h>

namespace ballast::sys {
namespace {

TEST(IoStat, EachDeviceLineGivesItsByteAndIoCounts) {
  auto stat = parse_io_stat("253:0 rbytes=4096 wbytes=1048576 rios=1 wios=256 dbytes=0 dios=0\n"
                            "8:16 rbytes=12288 wbytes=0 rios=3 wios=0 dbytes=0 dios=0\n");
  ASSERT_EQ(stat.size(), 2u);
  EXPECT_EQ(stat["253:0"].wbytes, 1048576u);
  EXPECT_EQ(stat["253:0"].wios, 256u);
  EXPECT_EQ(stat["8:16"].rbytes, 12288u);
  EXPECT_EQ(stat["8:16"].rios, 3u);
}

TEST(IoStat, MissingFieldsCountZeroAndLinesWithoutADeviceAreSkipped) {
  auto stat = parse_io_stat("8:0 rbytes=10 wbytes=x\nnonsense\n\n7:1 wios=2");
  ASSERT_EQ(stat.size(), 2u);
  EXPECT_EQ(stat["8:0"].rbytes, 10u);
  EXPECT_EQ(stat["8:0"].wbytes, 0u);
  EXPECT_EQ(stat["7:1"].wios, 2u);
  EXPECT_TRUE(parse_io_stat("").empty());
}

} // namespace
} // namespace ballast::sys
