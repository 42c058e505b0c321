// Process matching for policy selectors.
#include "config/selector.hpp"

#include <algorithm>

namespace ballast {

namespace {

std::optional<std::regex> compile(const std::string &pattern) {
  if (pattern.empty())
    return std::nullopt;
  return std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
}

} // namespace

compiled_selector::compiled_selector(const config::selector &s)
    : comm_(compile(s.comm)), exe_(compile(s.exe)), uids_(s.uids) {}

bool compiled_selector::matches(const sys::process_info &p) const {
  if (comm_ && !std::regex_match(p.comm, *comm_))
    return false;
  if (exe_ && !std::regex_match(p.exe, *exe_))
    return false;
  return uids_.empty() || std::find(uids_.begin(), uids_.end(), p.uid) != uids_.end();
}

} // namespace ballast
