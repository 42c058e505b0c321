// A job's events: a log line that watch -o json also shows as data, with
// kind "job.KIND" and the job's ID among its fields (README: Jobs).
#pragma once

#include "sys/log.hpp"

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace ballast::jobs {

template <class... Ts>
void event(log::level l, std::string_view kind, const std::string &id,
           std::vector<std::pair<std::string, std::string>> fields, const Ts &...text) {
  std::ostringstream os;
  (os << ... << text);
  fields.insert(fields.begin(), {"job", id});
  log::event(l, "jobs", {kind, std::move(fields)}, os.str());
}

} // namespace ballast::jobs
