// Changes of cgroupfs files, as the kernel announces them: a file such as
// memory.events "generates a file modified event" when a value in it changes
// (cgroup-v2.rst), which inotify delivers. One thread serves every watch
// and calls its callback at once, so a counter is read when it moves, not
// when some sampler next comes by: an OOM kill of a cgroup's last process is
// seen although nothing is left to sample it.
#pragma once

#include "sys/result.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace ballast {

class file_watch : public std::enable_shared_from_this<file_watch> {
public:
  // A registered watch; its destruction unregisters it, and once that has
  // returned its callback is not running and will not run again.
  class handle {
  public:
    handle(std::shared_ptr<file_watch> owner, int wd) : owner_(std::move(owner)), wd_(wd) {}
    ~handle();
    handle(const handle &) = delete;
    handle &operator=(const handle &) = delete;

  private:
    std::shared_ptr<file_watch> owner_;
    int wd_;
  };

  static result<std::shared_ptr<file_watch>> start();
  ~file_watch();

  // Calls `changed` on the watch's thread each time `file` is modified.
  result<std::unique_ptr<handle>> add(const std::string &file, std::function<void()> changed);

private:
  file_watch(int inotify_fd, int stop_fd);
  void run();
  void remove(int wd);

  int inotify_fd_;
  int stop_fd_;
  std::mutex mutex_; // held while a callback runs
  std::unordered_map<int, std::function<void()>> callbacks_;
  std::thread thread_;
};

} // namespace ballast
