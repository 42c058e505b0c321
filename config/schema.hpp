// Internal to config/: the agent's schema (schema.cpp), read from a parsed
// JSON document.
#pragma once

#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ballast::config {

// The IR of root; every rule broken is appended to errors (the IR is only
// meaningful when none was).
agent read_agent(const nlohmann::json &root, const std::vector<std::string> &known_policy_types,
                 std::vector<config_error> &errors);

} // namespace ballast::config
