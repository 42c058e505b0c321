// A job's cgroup: created under the job root with its limits written before
// any process enters it. The controllers the limits need are enabled in
// cgroup.subtree_control from the cgroup2 root down to the job root (they
// stay enabled: other jobs need them too).
#pragma once

#include "messages/jobs.hpp"
#include "sys/result.hpp"

#include <string>
#include <vector>

namespace ballast::jobs {

// Creates jobs_root + "/" + id with the limits; returns its path relative
// to the cgroup2 root. Errors name the option whose limit could not be
// set, or the controller this host lacks; nothing is left behind.
result<std::string> create_job_cgroup(const std::string &cgroup_root, const std::string &jobs_root,
                                      const std::string &id, const std::vector<job_limit> &limits);

} // namespace ballast::jobs
