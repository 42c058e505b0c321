// compiled_selector: comm/exe regexes match whole strings, uid lists, empty matches all.
#include "config/selector.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ballast {
namespace {

sys::process_info proc(std::string comm, std::string exe = "/usr/bin/x", uint32_t uid = 1000) {
  sys::process_info p;
  p.pid = 42;
  p.comm = std::move(comm);
  p.exe = std::move(exe);
  p.uid = uid;
  p.cgroup = "/a";
  return p;
}

config::selector sel(std::string comm, std::string exe = "", std::vector<uint32_t> uids = {}) {
  config::selector s;
  s.comm = std::move(comm);
  s.exe = std::move(exe);
  s.uids = std::move(uids);
  return s;
}

TEST(CompiledSelector, EmptySelectorMatchesEverything) {
  const compiled_selector s(config::selector{});
  EXPECT_TRUE(s.matches(proc("bash")));
  EXPECT_TRUE(s.matches(proc("", "", 0))); // kernel thread, root
  EXPECT_TRUE(s.matches(proc("x", "/y", 65534)));
  EXPECT_TRUE(s.matches(sys::process_info{}));
}

TEST(CompiledSelector, CommRegexMustMatchTheWholeName) {
  const compiled_selector s(sel("java"));
  EXPECT_TRUE(s.matches(proc("java")));
  EXPECT_FALSE(s.matches(proc("javac"))); // a search would accept these
  EXPECT_FALSE(s.matches(proc("xjava")));
  EXPECT_FALSE(s.matches(proc("my java")));
  EXPECT_FALSE(s.matches(proc("Java")));
  EXPECT_FALSE(s.matches(proc("")));
}

TEST(CompiledSelector, CommRegexSyntax) {
  const compiled_selector s(sel("(postgres|pg_.*)"));
  EXPECT_TRUE(s.matches(proc("postgres")));
  EXPECT_TRUE(s.matches(proc("pg_dump")));
  EXPECT_TRUE(s.matches(proc("pg_")));
  EXPECT_FALSE(s.matches(proc("postgresql")));
  EXPECT_FALSE(s.matches(proc("xpg_dump")));

  const compiled_selector alt(sel("a|b")); // alternation is anchored as a whole
  EXPECT_TRUE(alt.matches(proc("a")));
  EXPECT_TRUE(alt.matches(proc("b")));
  EXPECT_FALSE(alt.matches(proc("ab")));
  EXPECT_FALSE(alt.matches(proc("xa")));
}

TEST(CompiledSelector, ExeRegexMustMatchTheWholePath) {
  const compiled_selector s(sel("", "/usr/bin/python3(\\.[0-9]+)?"));
  EXPECT_TRUE(s.matches(proc("python3", "/usr/bin/python3")));
  EXPECT_TRUE(s.matches(proc("anything", "/usr/bin/python3.11")));
  EXPECT_FALSE(s.matches(proc("python3", "/usr/bin/python3-config")));
  EXPECT_FALSE(s.matches(proc("python3", "/opt/usr/bin/python3")));
  EXPECT_FALSE(s.matches(proc("python3", "/usr/bin/python")));
  EXPECT_FALSE(s.matches(proc("python3", ""))); // kernel threads have no exe
}

TEST(CompiledSelector, ExeRegexWithWildcards) {
  const compiled_selector s(sel("", "/opt/.*/bin/[^/]+"));
  EXPECT_TRUE(s.matches(proc("x", "/opt/app/bin/server")));
  EXPECT_TRUE(s.matches(proc("x", "/opt/a/b/bin/server")));
  EXPECT_FALSE(s.matches(proc("x", "/opt/app/bin/")));
  EXPECT_FALSE(s.matches(proc("x", "/opt/app/bin/sub/server")));
}

TEST(CompiledSelector, CommAndExeMustBothMatch) {
  const compiled_selector s(sel("nginx", "/usr/sbin/nginx"));
  EXPECT_TRUE(s.matches(proc("nginx", "/usr/sbin/nginx")));
  EXPECT_FALSE(s.matches(proc("nginx", "/usr/local/sbin/nginx")));
  EXPECT_FALSE(s.matches(proc("nginx-worker", "/usr/sbin/nginx")));
}

TEST(CompiledSelector, UidListMatchesAnyListedUid) {
  const compiled_selector s(sel("", "", {0, 1000, 1001}));
  EXPECT_TRUE(s.matches(proc("a", "/a", 0)));
  EXPECT_TRUE(s.matches(proc("a", "/a", 1000)));
  EXPECT_TRUE(s.matches(proc("a", "/a", 1001)));
  EXPECT_FALSE(s.matches(proc("a", "/a", 1002)));
  EXPECT_FALSE(s.matches(proc("a", "/a", 65534)));
}

TEST(CompiledSelector, UidListCombinesWithRegexes) {
  const compiled_selector s(sel("worker", "", {33}));
  EXPECT_TRUE(s.matches(proc("worker", "/w", 33)));
  EXPECT_FALSE(s.matches(proc("worker", "/w", 0)));
  EXPECT_FALSE(s.matches(proc("other", "/w", 33)));
}

TEST(CompiledSelector, CgroupGlobsAreNotCheckedHere) {
  config::selector s;
  s.cgroups = {"/only/this"};
  const compiled_selector c(s);
  auto p = proc("x");
  p.cgroup = "/elsewhere";
  EXPECT_TRUE(c.matches(p)); // policies_for() matches cgroups
}

} // namespace
} // namespace ballast
