// Readiness of file descriptors the kernel signals through poll: a PSI
// trigger's pressure file (EPOLLPRI), a pidfd whose process has ended
// (EPOLLIN). One thread waits on every registered fd with epoll and calls
// its callback at once, so what the kernel announces is acted on when it
// happens, not when some poll next comes by.
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace ballast {

class fd_watch : public std::enable_shared_from_this<fd_watch> {
public:
  // A registered fd; its destruction unregisters it, and once that has
  // returned its callback is not running and will not run again. Close the
  // fd only after: its number could be handed out again.
  class handle {
  public:
    handle(std::shared_ptr<fd_watch> owner, int fd) : owner_(std::move(owner)), fd_(fd) {}
    ~handle();
    handle(const handle &) = delete;
    handle &operator=(const handle &) = delete;

  private:
    std::shared_ptr<fd_watch> owner_;
    int fd_;
  };

  // thread_name (at most 15 characters) also names the watch in log lines.
  static result<std::shared_ptr<fd_watch>> start(const std::string &thread_name);
  ~fd_watch();

  // Calls `ready` on the watch's thread each time fd reports one of
  // `events` (epoll's: EPOLLIN, EPOLLPRI; with EPOLLONESHOT only once).
  result<std::unique_ptr<handle>> add(int fd, uint32_t events, std::function<void()> ready);

private:
  fd_watch(int epoll_fd, int stop_fd, std::string name)
      : epoll_fd_(epoll_fd), stop_fd_(stop_fd), name_(std::move(name)) {}
  void run();
  void remove(int fd);

  int epoll_fd_;
  int stop_fd_;
  std::string name_;
  std::mutex mutex_; // held while a callback runs
  std::unordered_map<int, std::function<void()>> callbacks_;
  std::thread thread_;
};

} // namespace ballast
