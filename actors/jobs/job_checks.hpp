// The checks a job request passes before anything is created for it: every
// error names the option it came from (--memory-max, --priority, ...), so a
// refused `ballastctl run` says what to fix.
#pragma once

#include "messages/jobs.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ballast::jobs {

// The knobs a job may set at its start, in the order they are written.
const std::vector<std::string_view> &limit_knobs();

// The command-line option of a limit: "memory.max" is --memory-max.
std::string option_of(std::string_view knob);

// Every problem of the request: "--cpu-weight: '0' is not a weight
// 1..10000", "id: must match [A-Za-z0-9_.-]{1,64}", ...
std::vector<std::string> check_request(const job_request &r);

// The controller a limit needs enabled on the way down ("memory" for
// memory.swap.max).
std::string controller_of(std::string_view knob);

// A limit's line as the file takes it: io.weight without a device is its
// "default" line.
std::string file_value(const job_limit &l);

} // namespace ballast::jobs
