// JSON parsing that refuses what nlohmann accepts silently: an object that
// names a key twice ({"policies": [...], "policies": []} would keep the last
// one and drop the first without a word). Each duplicate is reported with
// its field path, as every other config error is.
#pragma once

#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <string_view>
#include <vector>

namespace ballast::config {

// Parses text (throws nlohmann::json::exception on invalid JSON, as
// json::parse does); appends one error per duplicate key to `errors`.
nlohmann::json parse_strict(std::string_view text, std::vector<config_error> &errors);

} // namespace ballast::config
