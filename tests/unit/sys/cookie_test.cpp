// The control cookie: a fresh 256-bit secret at each write, readable by its
// owner and one group only, never left half-written.
#include "sys/cookie.hpp"
#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast::test {
namespace {

std::string own_group() {
  auto *g = ::getgrgid(::getegid());
  return g ? g->gr_name : "";
}

TEST(Cookie, IsAFreshSecretReadableByTheGroupOnly) {
  temp_tree dir;
  auto path = dir.path("/run/control.cookie");
  auto first = sys::write_cookie(path, own_group());
  ASSERT_TRUE(first) << first.err().message;
  EXPECT_EQ(first->secret.size(), 64u);
  EXPECT_EQ(first->secret.find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(st.st_gid, ::getegid());
  auto read = sys::read_cookie(path);
  ASSERT_TRUE(read) << read.err().message;
  EXPECT_EQ(*read, first->secret);
  auto second = sys::write_cookie(path, own_group());
  ASSERT_TRUE(second);
  EXPECT_NE(second->secret, first->secret) << "every start makes a new secret";
  EXPECT_EQ(*sys::read_cookie(path), second->secret);
}

TEST(Cookie, WithoutTheGroupOnlyTheOwnerReadsItAndTheWarningSaysSo) {
  temp_tree dir;
  auto path = dir.path("/control.cookie");
  auto w = sys::write_cookie(path, "no-such-group-ballast");
  ASSERT_TRUE(w) << w.err().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(w->warning.find("group 'no-such-group-ballast' does not exist"), std::string::npos)
      << w->warning;
}

TEST(Cookie, ADirectoryTheGroupCannotEnterIsReported) {
  temp_tree dir;
  dir.make_dir("/closed");
  ASSERT_EQ(::chmod(dir.path("/closed").c_str(), 0700), 0);
  auto w = sys::write_cookie(dir.path("/closed/control.cookie"), own_group());
  ASSERT_TRUE(w);
  EXPECT_NE(w->warning.find("cannot enter " + dir.path("/closed") + " (mode 0700)"),
            std::string::npos)
      << w->warning;
}

TEST(Cookie, AnUnreadableOrEmptyFileIsAnErrorNamingIt) {
  temp_tree dir;
  auto missing = sys::read_cookie(dir.path("/none"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().message.find(dir.path("/none")), std::string::npos);
  dir.write("/empty", "\n");
  auto empty = sys::read_cookie(dir.path("/empty"));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.err().message, dir.path("/empty") + " is empty");
}

TEST(Cookie, SecretsCompareWhole) {
  EXPECT_TRUE(sys::same_secret("abc", "abc"));
  EXPECT_FALSE(sys::same_secret("abc", "abd"));
  EXPECT_FALSE(sys::same_secret("abc", "ab"));
  EXPECT_FALSE(sys::same_secret("", "abc"));
  EXPECT_TRUE(sys::same_secret("", ""));
}

} // namespace
} // namespace ballast::test
