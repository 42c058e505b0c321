// Where an effector's writes land: one cgroup's directory, the host's
// procfs/sysfs files, or a record of values (dry-run, tests). Reads happen on
// the owner actor's thread; writes may also come from a knob writer thread
// (writes that may block), so write() is safe to call from any thread.
#pragma once

#include "sys/cgroupfs.hpp"
#include "sys/result.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace ballast {

class knob_target {
public:
  // id and path go into the journal: a cgroup's id and path, or 0 and ""
  // for the host (no cgroup has id 0); label names the target in logs.
  knob_target(uint64_t id, std::string path, std::string label)
      : id_(id), path_(std::move(path)), label_(std::move(label)) {}
  virtual ~knob_target() = default;

  // What the knob holds now, without the trailing newline.
  virtual result<std::string> read(std::string_view knob) = 0;
  virtual status write(std::string_view knob, std::string_view value) = 0;
  // False once the target is gone (a removed cgroup): nothing left to restore.
  virtual bool exists() const { return true; }

  uint64_t id() const { return id_; }
  const std::string &path() const { return path_; }
  const std::string &label() const { return label_; }

private:
  uint64_t id_;
  std::string path_;
  std::string label_;
};

// A cgroup's control files; the "kill" action signals a member process
// (checked against cgroup.procs first).
class cgroup_target final : public knob_target {
public:
  static result<std::shared_ptr<cgroup_target>> open(const std::string &root,
                                                     const std::string &path);
  explicit cgroup_target(sys::cgroup_dir dir);

  result<std::string> read(std::string_view knob) override;
  status write(std::string_view knob, std::string_view value) override;
  bool exists() const override { return dir_.exists(); }

private:
  status kill_member(std::string_view pid);
  sys::cgroup_dir dir_; // write() uses only its directory fd: safe across threads
};

// The host's system-wide files (knobs::system_path), under root ("" in the
// agent, a fixture tree in tests).
class host_target final : public knob_target {
public:
  explicit host_target(std::string root) : knob_target(0, "", "the host"), root_(std::move(root)) {}

  result<std::string> read(std::string_view knob) override;
  status write(std::string_view knob, std::string_view value) override;

private:
  result<std::string> file(std::string_view knob) const;
  std::string root_;
};

// What each knob would hold: the dry-run sink, and a target for tests.
class recording_target final : public knob_target {
public:
  explicit recording_target(std::map<std::string, std::string> values = {})
      : knob_target(0, "", "a record"), values_(std::move(values)) {}

  result<std::string> read(std::string_view knob) override;
  status write(std::string_view knob, std::string_view value) override;

  std::map<std::string, std::string> values() const;
  uint64_t writes() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> values_;
  uint64_t writes_ = 0;
};

} // namespace ballast
