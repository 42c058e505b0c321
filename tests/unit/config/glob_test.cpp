// config::glob_match: component-wise globs over cgroup paths.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace ballast::config {
namespace {

TEST(GlobMatch, DoubleStarAtRootMatchesEverything) {
  for (const char *path : {"/", "/a", "/system.slice/sshd.service", "/a/b/c/d/e"})
    EXPECT_TRUE(glob_match("/**", path)) << path;
}

TEST(GlobMatch, TrailingDoubleStarMatchesTheDirectoryAndBelow) {
  EXPECT_TRUE(glob_match("/a/**", "/a"));
  EXPECT_TRUE(glob_match("/a/**", "/a/b"));
  EXPECT_TRUE(glob_match("/a/**", "/a/b/c"));
  EXPECT_FALSE(glob_match("/a/**", "/"));
  EXPECT_FALSE(glob_match("/a/**", "/ab"));
  EXPECT_FALSE(glob_match("/a/**", "/b/a"));
}

TEST(GlobMatch, StarStaysWithinOneComponent) {
  EXPECT_TRUE(glob_match("/a/*", "/a/b"));
  EXPECT_FALSE(glob_match("/a/*", "/a/b/c"));
  EXPECT_FALSE(glob_match("/a/*", "/a"));
  EXPECT_TRUE(glob_match("/system.slice/*.service", "/system.slice/sshd.service"));
  EXPECT_FALSE(glob_match("/system.slice/*.service", "/system.slice/sshd.socket"));
  EXPECT_FALSE(glob_match("/system.slice/*.service", "/system.slice/a/b.service"));
  EXPECT_TRUE(glob_match("/user-*.slice", "/user-.slice"));
}

TEST(GlobMatch, StarBacktracksWithinAComponent) {
  EXPECT_TRUE(glob_match("/*a*b", "/xaxaxb"));
  EXPECT_TRUE(glob_match("/*.scope", "/session-1.scope.scope"));
  EXPECT_FALSE(glob_match("/*a*b", "/xaxaxbx"));
  EXPECT_TRUE(glob_match("/**/*", "/a"));
  EXPECT_FALSE(glob_match("/**/*", "/"));
}

TEST(GlobMatch, QuestionMarkIsExactlyOneCharacter) {
  EXPECT_TRUE(glob_match("/user-100?.slice", "/user-1000.slice"));
  EXPECT_FALSE(glob_match("/user-100?.slice", "/user-100.slice"));
  EXPECT_FALSE(glob_match("/user-100?.slice", "/user-10000.slice"));
  EXPECT_FALSE(glob_match("/a?b", "/a/b"));
}

TEST(GlobMatch, InnerDoubleStarSpansZeroOrMoreComponents) {
  EXPECT_TRUE(glob_match("/user.slice/**/app.scope", "/user.slice/app.scope"));
  EXPECT_TRUE(glob_match("/user.slice/**/app.scope",
                         "/user.slice/user-1000.slice/session-2.scope/app.scope"));
  EXPECT_FALSE(glob_match("/user.slice/**/app.scope", "/user.slice/app.scope/child"));
  EXPECT_TRUE(glob_match("/**/a/**/b/**", "/x/a/y/z/b"));
  EXPECT_FALSE(glob_match("/**/a/**/b/**", "/x/b/y/a"));
}

TEST(GlobMatch, DoubleStarInsideAComponentActsAsStar) {
  EXPECT_TRUE(glob_match("/a**", "/abc"));
  EXPECT_FALSE(glob_match("/a**", "/abc/d"));
}

TEST(GlobMatch, LiteralsMatchExactly) {
  EXPECT_TRUE(glob_match("/", "/"));
  EXPECT_TRUE(glob_match("/system.slice", "/system.slice"));
  EXPECT_FALSE(glob_match("/system.slice", "/system.slice/x"));
  EXPECT_FALSE(glob_match("/system.slice", "/"));
  EXPECT_FALSE(glob_match("/", "/a"));
  EXPECT_FALSE(glob_match("/System.slice", "/system.slice"));
}

TEST(GlobMatch, EmptyComponentsAreIgnored) {
  EXPECT_TRUE(glob_match("/a/*", "/a/b/"));
  EXPECT_TRUE(glob_match("/a/*", "//a//b"));
}

TEST(GlobMatch, ManyDoubleStarsOnADeepPathStayFast) {
  std::string deep;
  for (int i = 0; i < 200; ++i)
    deep += "/c";
  EXPECT_FALSE(glob_match("/**/**/**/**/**/**/**/**/x", deep));
  EXPECT_TRUE(glob_match("/**/**/**/**/**/**/**/**/c", deep));
}

} // namespace
} // namespace ballast::config
