// See file_watch.hpp.
#include "actors/sources/file_watch.hpp"

#include "sys/log.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace ballast {

result<std::shared_ptr<file_watch>> file_watch::start() {
  int in = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (in < 0)
    return errno_error(errno, "inotify_init1", "for file watches");
  int stop = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop < 0) {
    int code = errno;
    ::close(in);
    return errno_error(code, "eventfd", "for file watches");
  }
  auto self = std::shared_ptr<file_watch>(new file_watch(in, stop));
  self->thread_ = std::thread([raw = self.get()] { raw->run(); });
  pthread_setname_np(self->thread_.native_handle(), "ballast-watch");
  return self;
}

file_watch::file_watch(int inotify_fd, int stop_fd) : inotify_fd_(inotify_fd), stop_fd_(stop_fd) {}

file_watch::~file_watch() {
  uint64_t one = 1;
  (void)::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable())
    thread_.join();
  ::close(stop_fd_);
  ::close(inotify_fd_);
}

file_watch::handle::~handle() {
  owner_->remove(wd_);
}

void file_watch::remove(int wd) {
  std::lock_guard guard{mutex_};
  if (callbacks_.erase(wd))
    ::inotify_rm_watch(inotify_fd_, wd); // EINVAL if the file went first: nothing to do
}

result<std::unique_ptr<file_watch::handle>> file_watch::add(const std::string &file,
                                                            std::function<void()> changed) {
  std::lock_guard guard{mutex_};
  int wd = ::inotify_add_watch(inotify_fd_, file.c_str(), IN_MODIFY);
  if (wd < 0)
    return errno_error(errno, "watch", file);
  callbacks_[wd] = std::move(changed);
  return std::make_unique<handle>(shared_from_this(), wd);
}

void file_watch::run() {
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      log::error("watch", "poll: ", std::strerror(errno), ": file watches stop");
      return;
    }
    if (fds[1].revents)
      return;
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0)
      continue; // EAGAIN: another wake-up took it
    std::lock_guard guard{mutex_};
    for (ssize_t off = 0; off < n;) {
      auto *ev = reinterpret_cast<const inotify_event *>(buf + off);
      off += ssize_t(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        // Lost events: every file may have changed.
        for (auto &[_, changed] : callbacks_)
          changed();
        continue;
      }
      // IN_IGNORED: the file is gone with its cgroup; the entry stays until
      // its handle goes, so a wd the kernel hands out again is never
      // mistaken for it.
      auto it = callbacks_.find(ev->wd);
      if (it != callbacks_.end() && (ev->mask & IN_MODIFY))
        it->second();
    }
  }
}

} // namespace ballast
