// config::parse: valid documents give the expected IR, every malformed one
// gives exactly the errors (path + rule) an operator will read, and the
// shipped files (embedded default, examples, schema) stay valid.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/config.hpp"

#ifndef BALLAST_SOURCE_DIR
#error "BALLAST_SOURCE_DIR must name the source tree (set by the test's CMake target)"
#endif

namespace ballast::config {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> known_types = {"telemetry"};
const std::filesystem::path source_dir = BALLAST_SOURCE_DIR;

std::vector<std::string> messages(const parse_result &r) {
  std::vector<std::string> out;
  for (const auto &e : r.errors)
    out.push_back(e.to_string());
  return out;
}

std::vector<std::string> errors_of(std::string_view json_text) {
  return messages(parse(json_text, known_types));
}

agent parse_ok(std::string_view json_text) {
  auto r = parse(json_text, known_types);
  EXPECT_EQ(r.errors.size(), 0u) << (r.errors.empty() ? "" : r.errors.front().to_string());
  return r.value.value_or(agent{});
}

// A document with one valid policy plus the given extra fields.
std::string with_policy(const std::string &fields) {
  return R"({"policies": [{"name": "p", "type": "telemetry", )" + fields + "}]}";
}

std::string read_text(const std::filesystem::path &file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// ---- malformed documents: one table row per rule ----

struct malformed {
  const char *name;
  std::string json;
  std::vector<std::string> errors;
};

void PrintTo(const malformed &m, std::ostream *os) {
  *os << m.name;
}

class Malformed : public testing::TestWithParam<malformed> {};

TEST_P(Malformed, ReportsExactlyTheseErrors) {
  const auto r = parse(GetParam().json, known_types);
  EXPECT_FALSE(r.value.has_value());
  EXPECT_EQ(messages(r), GetParam().errors);
}

const malformed malformed_cases[] = {
    {"InvalidJson",
     R"({"dry_run": tru})",
     {R"(invalid JSON: parse error at line 1, column 16: syntax error while parsing value - invalid literal; last read: '"dry_run": tru}')"}},
    {"EmptyInput",
     "",
     {"invalid JSON: parse error at line 1, column 1: syntax error while parsing value - "
      "unexpected end of "
      "input; expected '[', '{', or a literal"}},
    {"TopLevelArray", "[]", {"the top level must be an object"}},
    {"UnknownTopLevelKey", R"({"dryrun": true})", {"dryrun: unknown key"}},
    {"UnknownNestedKey", R"({"metrics": {"port": 9464}})", {"metrics.port: unknown key"}},
    {"UnknownPolicyKey", with_policy(R"("priority": 1)"), {"policies[0].priority: unknown key"}},
    {"CommentNotString", R"({"watch": {"//": 7}})", {"watch.//: must be a string"}},
    {"DryRunNotBoolean", R"({"dry_run": "yes"})", {"dry_run: must be a boolean"}},
    {"JournalNotString", R"({"journal": 1})", {"journal: must be a string"}},
    {"JournalRelative", R"({"journal": "run/journal"})", {"journal: must be an absolute path"}},
    {"DeadlineNoUnit",
     R"({"shutdown_deadline": "190"})",
     {R"(shutdown_deadline: must be a duration string like "250ms" or "5s")"}},
    {"DeadlineTooShort",
     R"({"shutdown_deadline": "5ms"})",
     {"shutdown_deadline: must be at least 10ms"}},
    {"DeadlineTooLong",
     R"({"shutdown_deadline": "2m"})",
     {"shutdown_deadline: must be at most 60s"}},
    {"RingNotPowerOfTwo",
     R"({"ring_buffer_bytes": 5000})",
     {"ring_buffer_bytes: must be a power of two from 4096 to 1073741824"}},
    {"RingTooSmall",
     R"({"ring_buffer_bytes": 2048})",
     {"ring_buffer_bytes: must be a power of two from 4096 to 1073741824"}},
    {"RingTooLarge",
     R"({"ring_buffer_bytes": 2147483648})",
     {"ring_buffer_bytes: must be a power of two from 4096 to 1073741824"}},
    {"RingFraction",
     R"({"ring_buffer_bytes": 4096.5})",
     {"ring_buffer_bytes: must be a power of two from 4096 to 1073741824"}},
    {"RingString",
     R"({"ring_buffer_bytes": "1MiB"})",
     {"ring_buffer_bytes: must be a power of two from 4096 to 1073741824"}},
    {"WatchNotObject", R"({"watch": ["/**"]})", {"watch: must be an object"}},
    {"WatchIncludeEmpty", R"({"watch": {"include": []}})", {"watch.include: must not be empty"}},
    {"WatchIncludeRelative",
     R"({"watch": {"include": ["/**", "system.slice"]}})",
     {"watch.include[1]: must start with '/'"}},
    {"WatchExcludeDotDot",
     R"({"watch": {"exclude": ["/a/../b"]}})",
     {R"(watch.exclude[0]: must not contain a ".." component)"}},
    {"WatchExcludeNotString",
     R"({"watch": {"exclude": [5]}})",
     {"watch.exclude[0]: must be a string"}},
    {"MetricsNotObject", R"({"metrics": "127.0.0.1:9464"})", {"metrics: must be an object"}},
    {"ListenNoPort",
     R"({"metrics": {"listen": "127.0.0.1"}})",
     {R"(metrics.listen: must be "host:port")"}},
    {"ListenPortZero",
     R"({"metrics": {"listen": "127.0.0.1:0"}})",
     {"metrics.listen: port must be an integer from 1 to 65535"}},
    {"ListenPortTooLarge",
     R"({"metrics": {"listen": "127.0.0.1:65536"}})",
     {"metrics.listen: port must be an integer from 1 to 65535"}},
    {"ListenHostName",
     R"({"metrics": {"listen": "example.com:9464"}})",
     {R"(metrics.listen: host must be an IPv4 address or "localhost")"}},
    {"ListenBadHostAndPort",
     R"({"metrics": {"listen": "256.0.0.1:x"}})",
     {R"(metrics.listen: host must be an IPv4 address or "localhost")",
      "metrics.listen: port must be an integer from 1 to 65535"}},
    // Found by the config fuzzer: nlohmann throws out_of_range, not parse_error.
    {"NumberBeyondDouble",
     R"({"ring_buffer_bytes": 1e999})",
     {"invalid JSON: number overflow parsing '1e999'"}},
    {"ControlOffLoopbackWithoutTls",
     R"({"control": {"listen": "0.0.0.0:9465"}})",
     {"control.tls: is required to listen on 0.0.0.0 (certificate, key and ca): only loopback goes "
      "without TLS"}},
    {"ControlTlsIncomplete",
     R"({"control": {"listen": "127.0.0.1:9465", "tls": {"ca": "/etc/ca.pem"}}})",
     {"control.tls: needs certificate, key and ca together"}},
    {"ControlTlsRelativePath",
     R"({"control": {"tls": {"ca": "ca.pem", "certificate": "/c.pem", "key": "/k.pem"}}})",
     {"control.tls.ca: must be an absolute path"}},
    {"ControlUnknownKey", R"({"control": {"port": 1}})", {"control.port: unknown key"}},
    {"ControlCookieRelative",
     R"({"control": {"cookie": "cookie"}})",
     {"control.cookie: must be an absolute path"}},
    {"ControlGroupBad",
     R"({"control": {"group": "Wheel Users"}})",
     {"control.group: must match [a-z0-9_-]+"}},
    {"ControlOpenReadsNotBoolean",
     R"({"control": {"open_reads": "no"}})",
     {"control.open_reads: must be a boolean"}},
    // nlohmann keeps the last of two equal keys: the first would vanish unsaid.
    {"DuplicateTopLevelKey",
     R"({"policies": [{"name": "t", "type": "telemetry"}], "policies": []})",
     {"policies: duplicate key (an object may name a key only once)"}},
    {"DuplicateKeyDeepInside",
     R"({"policies": [{"name": "a", "type": "telemetry"}, {"name": "b", "type": "telemetry", "params": {"kill": "1G", "kill": "2G"}}]})",
     {"policies[1].params.kill: duplicate key (an object may name a key only once)"}},
    {"DuplicateKeyAfterNestedArrays",
     R"({"watch": {"include": ["/a", "/b"], "exclude": [], "include": ["/c"]}})",
     {"watch.include: duplicate key (an object may name a key only once)"}},
    {"PoliciesNotArray", R"({"policies": {"name": "p"}})", {"policies: must be an array"}},
    {"PolicyNotObject", R"({"policies": ["telemetry"]})", {"policies[0]: must be an object"}},
    {"NameMissing", R"({"policies": [{"type": "telemetry"}]})", {"policies[0].name: is required"}},
    {"NameEmpty",
     R"({"policies": [{"name": "", "type": "telemetry"}]})",
     {"policies[0].name: must match [a-z0-9_-]+"}},
    {"NameNotLabelSafe",
     R"({"policies": [{"name": "Web Server", "type": "telemetry"}]})",
     {"policies[0].name: must match [a-z0-9_-]+"}},
    {"NameDuplicate",
     R"({"policies": [{"name": "a", "type": "telemetry"}, {"name": "b", "type": "telemetry"},
                      {"name": "a", "type": "telemetry"}]})",
     {"policies[2].name: duplicate of policies[0].name"}},
    {"TypeMissing", R"({"policies": [{"name": "p"}]})", {"policies[0].type: is required"}},
    {"TypeUnknown",
     R"({"policies": [{"name": "p", "type": "foo"}]})",
     {R"(policies[0].type: unknown policy type "foo" (known: telemetry))"}},
    {"IntervalNotString",
     with_policy(R"("interval": 5)"),
     {R"(policies[0].interval: must be a duration string like "250ms" or "5s")"}},
    {"IntervalUnknownUnit",
     with_policy(R"("interval": "1h")"),
     {R"(policies[0].interval: must be a duration string like "250ms" or "5s")"}},
    {"IntervalTooShort",
     with_policy(R"("interval": "5ms")"),
     {"policies[0].interval: must be at least 10ms"}},
    {"IntervalTooLong",
     with_policy(R"("interval": "61m")"),
     {"policies[0].interval: must be at most 60m"}},
    {"SelectNotObject",
     with_policy(R"("select": "/**")"),
     {"policies[0].select: must be an object"}},
    {"SelectUnknownKey",
     with_policy(R"("select": {"pid": 1})"),
     {"policies[0].select.pid: unknown key"}},
    {"CommUnbalancedParen",
     with_policy(R"("select": {"comm": "(cc1"})"),
     {"policies[0].select.comm: invalid regex: Mismatched '(' and ')' in regular expression"}},
    {"ExeUnbalancedBracket",
     with_policy(R"("select": {"exe": "/usr/[a-z"})"),
     {"policies[0].select.exe: invalid regex: Unexpected character within '[...]' in regular "
      "expression"}},
    {"CommNamedGroupUnsupported",
     with_policy(R"("select": {"comm": "(?<tool>cc)1"})"),
     {"policies[0].select.comm: invalid regex: Invalid '(?...)' zero-width assertion in regular "
      "expression"}},
    {"CommNotString",
     with_policy(R"("select": {"comm": ["cc1"]})"),
     {"policies[0].select.comm: must be a string"}},
    {"UidsNotArray",
     with_policy(R"("select": {"uids": 0})"),
     {"policies[0].select.uids: must be an array"}},
    {"UidNegative",
     with_policy(R"("select": {"uids": [0, -1]})"),
     {"policies[0].select.uids[1]: must be an integer from 0 to 4294967295"}},
    {"UidTooLarge",
     with_policy(R"("select": {"uids": [4294967296]})"),
     {"policies[0].select.uids[0]: must be an integer from 0 to 4294967295"}},
    {"UidString",
     with_policy(R"("select": {"uids": ["root"]})"),
     {"policies[0].select.uids[0]: must be an integer from 0 to 4294967295"}},
    {"CgroupsNotArray",
     with_policy(R"("select": {"cgroups": "/**"})"),
     {"policies[0].select.cgroups: must be an array"}},
    {"CgroupsEmpty",
     with_policy(R"("select": {"cgroups": []})"),
     {"policies[0].select.cgroups: must not be empty"}},
    {"CgroupsDotDot",
     with_policy(R"("select": {"cgroups": ["/user.slice/.."]})"),
     {R"(policies[0].select.cgroups[0]: must not contain a ".." component)"}},
    {"ParamsNotObject",
     with_policy(R"("params": [1, 2])"),
     {"policies[0].params: must be an object"}},
    {"ParamsCommentNotString",
     with_policy(R"("params": {"ladder": [{"//": false}]})"),
     {"policies[0].params.ladder[0].//: must be a string"}},
};

INSTANTIATE_TEST_SUITE_P(Config, Malformed, testing::ValuesIn(malformed_cases),
                         [](const auto &info) { return std::string(info.param.name); });

TEST(Parse, CollectsEveryErrorInOnePass) {
  EXPECT_EQ(errors_of(R"({
    "bogus": 1,
    "dry_run": "yes",
    "metrics": {"listen": "nohost"},
    "policies": [{"name": "A", "type": "foo", "interval": "1ms"}, {"type": "telemetry"}]
  })"),
            (std::vector<std::string>{
                "bogus: unknown key",
                "dry_run: must be a boolean",
                R"(metrics.listen: must be "host:port")",
                "policies[0].interval: must be at least 10ms",
                "policies[0].name: must match [a-z0-9_-]+",
                R"(policies[0].type: unknown policy type "foo" (known: telemetry))",
                "policies[1].name: is required",
            }));
}

TEST(Parse, ErrorsKeepPathAndRuleApart) {
  const auto r = parse(R"({"policies": [{"name": "p", "type": "telemetry", "interval": "1ms"}]})",
                       known_types);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "policies[0].interval");
  EXPECT_EQ(r.errors[0].rule, "must be at least 10ms");
}

TEST(Parse, ListsEveryKnownTypeWhenTypeIsUnknown) {
  const auto r =
      parse(R"({"policies": [{"name": "p", "type": "senpia"}]})", {"telemetry", "senpai"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rule, R"(unknown policy type "senpia" (known: telemetry, senpai))");
}

// ---- valid documents ----

TEST(Parse, EmptyObjectGivesDefaults) {
  EXPECT_EQ(parse_ok("{}"), agent{});
}

TEST(Parse, FullDocumentGivesExpectedIr) {
  const agent a = parse_ok(R"({
    "//": "every field set",
    "metrics": {"listen": "10.0.0.1:9100"},
    "journal": "/var/lib/ballast/journal",
    "dry_run": true,
    "shutdown_deadline": "2s",
    "ring_buffer_bytes": 65536,
    "watch": {"include": ["/system.slice/**"], "exclude": ["/system.slice/ballast.service"]},
    "policies": [{
      "name": "build_tools-2",
      "type": "telemetry",
      "interval": "250ms",
      "select": {"cgroups": ["/user.slice/*"], "comm": "cc1(plus)?", "exe": "/usr/bin/.*",
                 "uids": [0, 4294967295]},
      "params": {"b": [1, 2], "a": {"x": true}}
    }]
  })");
  agent want;
  want.metrics_address = "10.0.0.1";
  want.metrics_port = 9100;
  want.journal_path = "/var/lib/ballast/journal";
  want.dry_run = true;
  want.shutdown_deadline = 2s;
  want.ring_buffer_bytes = 65536;
  want.watch_include = {"/system.slice/**"};
  want.watch_exclude = {"/system.slice/ballast.service"};
  want.policies = {policy{
      .name = "build_tools-2",
      .type = "telemetry",
      .interval = 250ms,
      .select = {.cgroups = {"/user.slice/*"},
                 .comm = "cc1(plus)?",
                 .exe = "/usr/bin/.*",
                 .uids = {0, 4294967295u}},
      .params = R"({"a":{"x":true},"b":[1,2]})",
  }};
  EXPECT_EQ(a, want);
}

TEST(Parse, PolicyFieldsDefault) {
  const agent a = parse_ok(R"({"policies": [{"name": "t", "type": "telemetry"}]})");
  ASSERT_EQ(a.policies.size(), 1u);
  EXPECT_EQ(a.policies[0], (policy{.name = "t", .type = "telemetry", .select = {}}));
}

TEST(Parse, ControlAccessDefaultsAndFields) {
  const agent d = parse_ok("{}");
  EXPECT_EQ(d.control_cookie, "/run/ballast/control.cookie");
  EXPECT_EQ(d.control_group, "ballast");
  EXPECT_TRUE(d.control_open_reads);
  const agent a =
      parse_ok(R"({"control": {"cookie": "/run/b/c", "group": "ops", "open_reads": false}})");
  EXPECT_EQ(a.control_cookie, "/run/b/c");
  EXPECT_EQ(a.control_group, "ops");
  EXPECT_FALSE(a.control_open_reads);
  EXPECT_NE(config_hash(a), config_hash(d));
}

TEST(Parse, HostSettingsAreSystemKnobsWithValuesTheirRowAccepts) {
  const agent a = parse_ok(
      R"({"host": {"settings": {"vm.swappiness": 10, "cpufreq.scaling_max_freq:1": "800000"}}})");
  EXPECT_EQ(a.host_settings, (std::vector<host_setting>{{"cpufreq.scaling_max_freq:1", "800000"},
                                                        {"vm.swappiness", "10"}}));
  EXPECT_EQ(
      errors_of(R"({"host": {"settings": {"vm.swappiness": 500, "memory.high": "max",
                                                "vm.watermark_scale_factor": -1, "cpufreq.scaling_min_freq": 1}}})"),
      (std::vector<std::string>{
          "host.settings.cpufreq.scaling_min_freq: not a system knob ballast claims: "
          "cpufreq.scaling_min_freq (cpufreq.scaling_min_freq needs a number)",
          "host.settings.memory.high: not a system knob ballast claims: memory.high",
          "host.settings.vm.swappiness: vm.swappiness: '500' is not an integer 0..200",
          "host.settings.vm.watermark_scale_factor: must be a string or a non-negative integer"}));
  EXPECT_EQ(errors_of(R"({"host": {"settings": []}})"),
            (std::vector<std::string>{"host.settings: must be an object"}));
}

TEST(Parse, SeriesCapAndSchedSource) {
  const agent d = parse_ok("{}");
  EXPECT_EQ(d.metrics_cgroups, (std::vector<std::string>{"/**"}));
  EXPECT_EQ(d.metrics_max_cgroups, 256u);
  EXPECT_TRUE(d.sched_enabled);
  EXPECT_EQ(d.sched_interval, 1s);
  const agent a = parse_ok(R"({"metrics": {"cgroups": ["/jobs/**"], "max_cgroups": 10},
                               "sched": {"enabled": false, "interval": "500ms"}})");
  EXPECT_EQ(a.metrics_cgroups, (std::vector<std::string>{"/jobs/**"}));
  EXPECT_EQ(a.metrics_max_cgroups, 10u);
  EXPECT_FALSE(a.sched_enabled);
  EXPECT_EQ(a.sched_interval, 500ms);
  EXPECT_NE(config_hash(a), config_hash(d));
  EXPECT_EQ(errors_of(R"({"metrics": {"cgroups": ["jobs"], "max_cgroups": -1},
                          "sched": {"interval": "50ms", "period": "1s"}})"),
            (std::vector<std::string>{"metrics.cgroups[0]: must start with '/'",
                                      "metrics.max_cgroups: must be an integer from 0 to 100000",
                                      "sched.interval: must be at least 100ms",
                                      "sched.period: unknown key"}));
}

TEST(Parse, GpuSource) {
  const agent d = parse_ok("{}");
  EXPECT_TRUE(d.gpu_enabled);
  EXPECT_EQ(d.gpu_interval, 5s);
  EXPECT_EQ(d.gpu_rescan, 30s);
  const agent a = parse_ok(R"({"gpu": {"enabled": false, "interval": "2s", "rescan": "5m"}})");
  EXPECT_FALSE(a.gpu_enabled);
  EXPECT_EQ(a.gpu_interval, 2s);
  EXPECT_EQ(a.gpu_rescan, 5min);
  EXPECT_NE(config_hash(a), config_hash(d));
  EXPECT_EQ(errors_of(R"({"gpu": {"enabled": 1, "interval": "100ms", "rescan": "90m"}})"),
            (std::vector<std::string>{"gpu.enabled: must be a boolean",
                                      "gpu.interval: must be at least 1s",
                                      "gpu.rescan: must be at most 60m"}));
}

TEST(Parse, Jobs) {
  const agent d = parse_ok("{}");
  EXPECT_EQ(d.jobs_root, "/ballast-jobs");
  EXPECT_EQ(d.jobs_dir, "/var/lib/ballast/jobs");
  EXPECT_EQ(d.jobs_log_max, 8u << 20);
  EXPECT_TRUE(d.jobs_admission.empty());
  const agent a = parse_ok(R"({"jobs": {"root": "/batch/jobs", "dir": "/srv/jobs", "log_max": "1M",
      "admission": [{"memory.some": 40, "io.full": 10.5}, {"max_priority": 20, "cpu.some": 5}]}})");
  EXPECT_EQ(a.jobs_root, "/batch/jobs");
  EXPECT_EQ(a.jobs_dir, "/srv/jobs");
  EXPECT_EQ(a.jobs_log_max, 1u << 20);
  ASSERT_EQ(a.jobs_admission.size(), 2u); // sorted by max_priority
  EXPECT_EQ(a.jobs_admission[0], (admission_band{20, {{"cpu.some", 5}}}));
  EXPECT_EQ(a.jobs_admission[1], (admission_band{100, {{"io.full", 10.5}, {"memory.some", 40}}}));
  EXPECT_NE(config_hash(a), config_hash(d));
  EXPECT_EQ(errors_of(R"({"jobs": {"root": "/", "dir": "rel", "log_max": "lots",
      "admission": [{"max_priority": 101, "memory.half": 1, "cpu.some": 200, "io.some": 1e-310}]}})"),
            (std::vector<std::string>{
                "jobs.admission[0].cpu.some: must be a percentage 0..100 (0, or at least 0.01)",
                "jobs.admission[0].io.some: must be a percentage 0..100 (0, or at least 0.01)",
                "jobs.admission[0].max_priority: must be an integer 0..100",
                "jobs.admission[0].memory.half: is not max_priority or a pressure: memory.some, "
                "memory.full, cpu.some, io.some, io.full",
                "jobs.dir: must be an absolute path",
                "jobs.log_max: must be a size like \"8M\" (0 keeps no log)",
                "jobs.root: must be a cgroup path below the root, like \"/ballast-jobs\""}));
}

TEST(Parse, JobsResponseRulesAndTheirErrors) {
  auto a = parse_ok(R"({"jobs": {"response": {"max_priority": 30, "interval": "500ms",
      "hold": "20s", "freeze": {"pressure": "memory.full", "above": 25, "below": 5},
      "kill": false, "kill_hook": "/usr/local/bin/checkpoint", "kill_hook_time": "2s",
      "demote_weight": 5, "io_freeze": {"cooldown": "30s"}}}})");
  const auto &r = a.jobs_response;
  EXPECT_EQ(r.max_priority, 30);
  EXPECT_EQ(r.interval.count(), 500);
  EXPECT_EQ(r.hold.count(), 20000);
  EXPECT_EQ(r.freeze, (response_rule{true, "memory.full", 25, 5, std::chrono::milliseconds(5000)}));
  EXPECT_FALSE(r.kill.enabled);
  EXPECT_EQ(r.kill_hook, "/usr/local/bin/checkpoint");
  EXPECT_EQ(r.kill_hook_time.count(), 2000);
  EXPECT_EQ(r.demote_weight, 5u);
  EXPECT_EQ(r.io_freeze.cooldown.count(), 30000);
  EXPECT_EQ(r.io_freeze.pressure, "io.full") << "what is not given keeps its default";
  EXPECT_NE(config_hash(a), config_hash(agent{}));
  EXPECT_EQ(errors_of(R"({"jobs": {"response": {"max_priority": 101, "interval": "1ms",
      "freeze": {"pressure": "memory.half", "above": 0, "below": 3}, "demote": 7,
      "demote_weight": 0, "io_freeze": {"above": 10, "below": 20}, "kill": {"speed": 1}}}})"),
            (std::vector<std::string>{
                "jobs.response.demote: must be an object",
                "jobs.response.demote_weight: must be a cpu.weight 1..10000",
                "jobs.response.freeze.pressure: must be a pressure: memory.some, memory.full, "
                "cpu.some, io.some, io.full",
                "jobs.response.freeze.above: must be above 0 (false switches the rule off)",
                "jobs.response.freeze.below: must be at most above",
                "jobs.response.interval: must be at least 100ms",
                "jobs.response.io_freeze.below: must be at most above",
                "jobs.response.kill.speed: unknown key",
                "jobs.response.max_priority: must be an integer 0..100"}));
}

TEST(Parse, LocalhostIsStoredAsLoopbackAddress) {
  const agent a = parse_ok(R"({"metrics": {"listen": "localhost:9465"}})");
  EXPECT_EQ(a.metrics_address, "127.0.0.1");
  EXPECT_EQ(a.metrics_port, 9465);
}

TEST(Parse, DurationBoundsAreInclusive) {
  EXPECT_EQ(parse_ok(R"({"shutdown_deadline": "10ms"})").shutdown_deadline, 10ms);
  EXPECT_EQ(parse_ok(R"({"shutdown_deadline": "60s"})").shutdown_deadline, 60s);
  EXPECT_EQ(parse_ok(with_policy(R"("interval": "60m")")).policies.at(0).interval, 1h);
}

TEST(Parse, RingBufferBoundsAndIntegralNumbers) {
  EXPECT_EQ(parse_ok(R"({"ring_buffer_bytes": 4096})").ring_buffer_bytes, 4096u);
  EXPECT_EQ(parse_ok(R"({"ring_buffer_bytes": 1073741824})").ring_buffer_bytes, 1u << 30);
  EXPECT_EQ(parse_ok(R"({"ring_buffer_bytes": 8.192e3})").ring_buffer_bytes, 8192u);
}

TEST(Parse, CommentsAreIgnoredEverywhereAndDroppedFromParams) {
  const agent a = parse_ok(R"({
    "//": "top", "metrics": {"//": "m"}, "watch": {"//": "w"},
    "policies": [{"//": "p", "name": "t", "type": "telemetry", "select": {"//": "s"},
                  "params": {"//": "x", "steps": [{"//": "y", "at": 1}]}}]
  })");
  ASSERT_EQ(a.policies.size(), 1u);
  EXPECT_EQ(a.policies[0].params, R"({"steps":[{"at":1}]})");
}

// ---- shipped files ----

TEST(Defaults, EmbeddedDefaultIsTheSourceFile) {
  EXPECT_EQ(default_config_json(), read_text(source_dir / "config/default.json"));
}

TEST(Defaults, EmbeddedDefaultParsesToTelemetryEverywhere) {
  const agent a = parse_ok(default_config_json());
  EXPECT_EQ(a.metrics_address, "127.0.0.1");
  EXPECT_EQ(a.metrics_port, 9464);
  EXPECT_FALSE(a.dry_run);
  ASSERT_EQ(a.policies.size(), 1u);
  EXPECT_EQ(a.policies[0],
            (policy{.name = "telemetry", .type = "telemetry", .interval = 5s, .select = {}}));
}

TEST(Examples, SchemaIsDraft2020Json) {
  const auto schema = nlohmann::json::parse(read_text(source_dir / "config/ballast.schema.json"));
  EXPECT_EQ(schema.at("$schema"), "https://json-schema.org/draft/2020-12/schema");
}

// ---- parse_file ----

TEST(ParseFile, MissingFileIsOneErrorNamingIt) {
  const auto r = parse_file("/nonexistent-ballast/config.json", known_types);
  EXPECT_FALSE(r.value.has_value());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_EQ(r.errors[0].rule,
            "cannot read /nonexistent-ballast/config.json: No such file or directory");
}

TEST(ParseFile, DirectoryIsUnreadable) {
  const std::string dir = (source_dir / "config").string();
  const auto r = parse_file(dir, known_types);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "cannot read " + dir + ": Is a directory");
}

// ---- config_hash ----

TEST(ConfigHash, IsPinned) {
  // Pinned so a change of hash function or canonical form is deliberate:
  // status displays compare hashes across agent versions.
  // Changed deliberately when the control settings (listener, then access), then the host
  // settings, then the GPU source's settings, then the jobs' settings joined the canonical form.
  EXPECT_EQ(config_hash(agent{}), "58bfb656f54ea66a");
}

TEST(ConfigHash, SameForEquivalentDocuments) {
  const agent terse =
      parse_ok(R"({"dry_run": true, "policies": [{"name": "t", "type": "telemetry"}]})");
  const agent verbose = parse_ok(R"({
    "//": "same config, other order, explicit defaults",
    "policies": [{"type": "telemetry", "interval": "1000ms", "name": "t", "select": {"cgroups": ["/**"]}}],
    "metrics": {"listen": "localhost:9464"},
    "dry_run": true
  })");
  EXPECT_EQ(config_hash(terse), config_hash(verbose));
}

TEST(ConfigHash, DiffersWhenAnyFieldDiffers) {
  const agent base = parse_ok(with_policy(R"("params": {"k": 1})"));
  const std::string h = config_hash(base);
  EXPECT_NE(h, config_hash(parse_ok(with_policy(R"("params": {"k": 2})"))));
  EXPECT_NE(h, config_hash(parse_ok(with_policy(R"("params": {"k": 1}, "interval": "2s")"))));
  EXPECT_NE(h,
            config_hash(parse_ok(with_policy(R"("params": {"k": 1}, "select": {"uids": [1]})"))));
  EXPECT_NE(h, config_hash(agent{}));
  EXPECT_NE(config_hash(agent{}),
            config_hash(parse_ok(R"({"host": {"settings": {"vm.swappiness": 10}}})")));
}

} // namespace
} // namespace ballast::config
