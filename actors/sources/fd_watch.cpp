// See fd_watch.hpp.
#include "actors/sources/fd_watch.hpp"

#include "sys/log.hpp"

#include <cerrno>
#include <cstring>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace ballast {

result<std::shared_ptr<fd_watch>> fd_watch::start(const std::string &thread_name) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    return errno_error(errno, "epoll_create1", "for " + thread_name);
  int stop = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = stop;
  if (stop < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, stop, &ev) < 0) {
    int code = errno;
    ::close(ep);
    if (stop >= 0)
      ::close(stop);
    return errno_error(code, "eventfd", "for " + thread_name);
  }
  auto self = std::shared_ptr<fd_watch>(new fd_watch(ep, stop, thread_name));
  self->thread_ = std::thread([raw = self.get()] { raw->run(); });
  pthread_setname_np(self->thread_.native_handle(), thread_name.substr(0, 15).c_str());
  return self;
}

fd_watch::~fd_watch() {
  uint64_t one = 1;
  (void)::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable())
    thread_.join();
  ::close(stop_fd_);
  ::close(epoll_fd_);
}

fd_watch::handle::~handle() {
  owner_->remove(fd_);
}

void fd_watch::remove(int fd) {
  std::lock_guard guard{mutex_};
  if (callbacks_.erase(fd))
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

result<std::unique_ptr<fd_watch::handle>> fd_watch::add(int fd, uint32_t events,
                                                        std::function<void()> ready) {
  std::lock_guard guard{mutex_};
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0)
    return errno_error(errno, "watch", "fd " + std::to_string(fd) + " (" + name_ + ")");
  callbacks_[fd] = std::move(ready);
  return std::make_unique<handle>(shared_from_this(), fd);
}

void fd_watch::run() {
  epoll_event events[32];
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events, 32, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      log::error(name_, "epoll_wait: ", std::strerror(errno), ": the watch stops");
      return;
    }
    std::lock_guard guard{mutex_};
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == stop_fd_)
        return;
      auto it = callbacks_.find(events[i].data.fd);
      if (it != callbacks_.end())
        it->second();
    }
  }
}

} // namespace ballast
