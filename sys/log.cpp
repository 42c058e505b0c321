// stderr logging with UTC timestamps; see log.hpp.
#include "sys/log.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <unistd.h>

namespace ballast::log {

namespace {

std::atomic<level> min_level{level::info};
std::mutex listener_mutex;
listener current_listener;

const char *name(level l) {
  switch (l) {
  case level::debug:
    return "debug";
  case level::info:
    return "info ";
  case level::warn:
    return "warn ";
  case level::error:
    return "error";
  }
  return "?";
}

} // namespace

void set_min_level(level l) {
  min_level = l;
}

void set_listener(listener f) {
  std::lock_guard guard{listener_mutex};
  current_listener = std::move(f);
}

void write(level l, std::string_view component, std::string_view message) {
  event(l, component, {}, message);
}

void event(level l, std::string_view component, const event_data &e, std::string_view message) {
  if (l < min_level.load(std::memory_order_relaxed))
    return;
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = std::string(stamp) + "." + std::to_string(1000 + ms).substr(1) + "Z " +
                    name(l) + " " + std::string(component) + ": " + std::string(message) + "\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
  if (l >= level::info) {
    std::lock_guard guard{listener_mutex};
    if (current_listener)
      current_listener(l, component, message, e);
  }
}

} // namespace ballast::log
