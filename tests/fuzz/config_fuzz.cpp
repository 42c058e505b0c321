// The agent's config from text: JSON parsing, validation of every field and
// every policy type's params (ballast::check_config, the one way the agent
// turns text into a config, also for configs that arrive over the network).
#include "actors/policies/policy.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using ballast::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto parsed = ballast::check_config(ballast::fuzz::as_text(data, size));
  check(parsed.value.has_value() == parsed.errors.empty(), "a config is valid or has errors");
  for (const auto &e : parsed.errors)
    check(!e.rule.empty(), "every error names its rule");
  return 0;
}
