// See job_cgroup.hpp.
#include "actors/jobs/job_cgroup.hpp"

#include "actors/jobs/job_checks.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/procfs.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <cerrno>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast::jobs {

namespace {

bool lists(const std::string &file, const std::string &word) {
  auto text = sys::read_small_file(file);
  if (!text)
    return false;
  std::vector<std::string_view> words;
  sys::text::split_words(*text, words);
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::string file(const std::string &dir, std::string_view name) {
  return dir + "/" + std::string(name);
}

// The controllers in the cgroup directory's subtree_control, each written
// only where it is not there yet.
status enable(const std::string &dir, const std::set<std::string> &controllers) {
  auto control = file(dir, sys::files::subtree_control);
  for (auto &c : controllers)
    if (!lists(control, c))
      if (auto w = sys::write_small_file(control, "+" + c); !w)
        return w.err();
  return success();
}

// The limits' controllers, enabled on every level above the job's cgroup.
status enable_controllers(const std::string &cgroup_root, const std::string &jobs_root,
                          const std::vector<job_limit> &limits) {
  std::set<std::string> needed;
  for (auto &l : limits)
    needed.insert(controller_of(l.knob));
  for (auto &c : needed)
    if (!lists(file(cgroup_root, sys::files::controllers), c)) {
      std::string options;
      for (auto &l : limits)
        if (controller_of(l.knob) == c)
          options += (options.empty() ? "" : ", ") + option_of(l.knob);
      return error{EOPNOTSUPP,
                   options + ": the " + c + " controller is not in this host's cgroup2 hierarchy"};
    }
  // "/", then each level of the job root ("/a", "/a/b"), made as needed.
  for (size_t end = 0; end != std::string::npos;) {
    end = jobs_root.find('/', end + 1);
    auto level = end == std::string::npos ? jobs_root : jobs_root.substr(0, end);
    auto parent = sys::join_cgroup_path(cgroup_root, level.substr(0, level.rfind('/')));
    if (auto on = enable(parent, needed); !on)
      return on;
    auto dir = sys::join_cgroup_path(cgroup_root, level);
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
      return errno_error(errno, "mkdir", dir);
  }
  auto top = sys::join_cgroup_path(cgroup_root, jobs_root);
  return enable(top, needed);
}

} // namespace

result<std::string> create_job_cgroup(const std::string &cgroup_root, const std::string &jobs_root,
                                      const std::string &id, const std::vector<job_limit> &limits) {
  if (auto ok = enable_controllers(cgroup_root, jobs_root, limits); !ok)
    return ok.err();
  auto rel = jobs_root + "/" + id;
  auto dir = sys::join_cgroup_path(cgroup_root, rel);
  if (::mkdir(dir.c_str(), 0755) < 0) {
    if (errno == EEXIST)
      return error{EEXIST, "--id: " + id + " is in use (" + rel + " exists)"};
    return errno_error(errno, "mkdir", dir);
  }
  for (auto &l : limits)
    if (auto w = sys::write_small_file(dir + "/" + l.knob, file_value(l)); !w) {
      ::rmdir(dir.c_str());
      return error{w.err().code, option_of(l.knob) + ": " + w.err().message};
    }
  return rel;
}

} // namespace ballast::jobs
