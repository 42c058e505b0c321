#include "actors/effector/knob_target.hpp"

#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace ballast {

namespace {

std::string without_newline(std::string s) {
  while (!s.empty() && s.back() == '\n')
    s.pop_back();
  return s;
}

} // namespace

result<std::shared_ptr<cgroup_target>> cgroup_target::open(const std::string &root,
                                                           const std::string &path) {
  auto dir = sys::cgroup_dir::open(root, path);
  if (!dir)
    return dir.err();
  return std::make_shared<cgroup_target>(std::move(*dir));
}

cgroup_target::cgroup_target(sys::cgroup_dir dir)
    : knob_target(dir.id(), dir.path(), dir.path()), dir_(std::move(dir)) {}

result<std::string> cgroup_target::read(std::string_view knob) {
  auto device = knobs::find_instance(knob);
  bool per_device = device && device->row->per_device;
  auto text = dir_.read(per_device ? device->row->name : knob);
  if (!text)
    return text.err();
  if (per_device)
    return knobs::device_value(*device->row, *text, device->key);
  return without_newline(std::move(*text));
}

status cgroup_target::write(std::string_view knob, std::string_view value) {
  if (knob == knobs::kill_member.name)
    return kill_member(value);
  auto in = knobs::find_instance(knob);
  if (in && in->row->per_device)
    return dir_.write(in->row->name, in->key + " " + std::string(value));
  auto written = dir_.write(knob, value);
  if (written || !value.empty() || written.err().code != ENOSPC || !in ||
      in->row->inherit_from.empty())
    return written;
  auto parents = dir_.read_parent(in->row->inherit_from);
  if (!parents)
    return written;
  auto now = std::string(sys::text::trim(*parents));
  log::warn("knobs", knob, " in ", label(), ": the kernel will not empty it while the cgroup has ",
            "tasks; written as the parent's ", now, " instead of \"\" (it will not follow the ",
            "parent's changes)");
  return dir_.write(knob, now);
}

status cgroup_target::kill_member(std::string_view value) {
  auto pid = sys::text::parse_number<int>(value);
  if (!pid || *pid <= 0)
    return error{EINVAL, "kill: bad pid '" + std::string(value) + "'"};
  auto members = dir_.procs();
  if (!members)
    return members.err();
  if (std::find(members->begin(), members->end(), *pid) == members->end())
    return error{ESRCH, "kill: pid " + std::string(value) + " is not in " + path()};
  if (::kill(*pid, SIGKILL) != 0)
    return errno_error(errno, "kill", std::string(value));
  return success();
}

result<std::string> host_target::file(std::string_view knob) const {
  auto p = knobs::system_path(knob);
  if (!p)
    return p.err();
  return root_ + *p;
}

result<std::string> host_target::read(std::string_view knob) {
  auto f = file(knob);
  if (!f)
    return f.err();
  auto text = sys::read_small_file(*f);
  if (!text)
    return text.err();
  return without_newline(std::move(*text));
}

status host_target::write(std::string_view knob, std::string_view value) {
  auto f = file(knob);
  if (!f)
    return f.err();
  return sys::write_small_file(*f, value);
}

result<std::string> recording_target::read(std::string_view knob) {
  std::lock_guard lock(mutex_);
  auto it = values_.find(std::string(knob));
  if (it == values_.end())
    return error{ENOENT, "no recorded value for " + std::string(knob)};
  return it->second;
}

status recording_target::write(std::string_view knob, std::string_view value) {
  std::lock_guard lock(mutex_);
  values_[std::string(knob)] = std::string(value);
  ++writes_;
  return success();
}

std::map<std::string, std::string> recording_target::values() const {
  std::lock_guard lock(mutex_);
  return values_;
}

uint64_t recording_target::writes() const {
  std::lock_guard lock(mutex_);
  return writes_;
}

} // namespace ballast
