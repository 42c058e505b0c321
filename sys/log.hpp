// The agent's log: one line per call on stderr ("2026-11-23T15:04:05.123Z
// warn  source: ..."), written with a single write(2) so lines from
// different threads never interleave. systemd's journal picks stderr up.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace ballast::log {

enum class level { debug, info, warn, error };

void set_min_level(level l);
void write(level l, std::string_view component, std::string_view message);

// What an event line carries besides its text: its kind ("job.exit") and
// fields ({"job", "b1"}, {"exit_code", "3"}), for clients that read events
// as data (ballastctl watch -o json). A plain line has kind "log" and none.
struct event_data {
  std::string_view kind = "log";
  std::vector<std::pair<std::string, std::string>> fields;
};

// A listener sees every line written at info or above (after it is on
// stderr), from any thread; the control interface streams them to watching
// clients. One listener; an empty function removes it.
using listener = std::function<void(level, std::string_view component, std::string_view message,
                                    const event_data &)>;
void set_listener(listener f);

// A line that is also an event (see event_data).
void event(level l, std::string_view component, const event_data &e, std::string_view message);

// log::info("registry", "watching ", n, " cgroups")
template <class... Ts> void line(level l, std::string_view component, const Ts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  write(l, component, os.str());
}

template <class... Ts> void debug(std::string_view c, const Ts &...p) {
  line(level::debug, c, p...);
}
template <class... Ts> void info(std::string_view c, const Ts &...p) {
  line(level::info, c, p...);
}
template <class... Ts> void warn(std::string_view c, const Ts &...p) {
  line(level::warn, c, p...);
}
template <class... Ts> void error(std::string_view c, const Ts &...p) {
  line(level::error, c, p...);
}

} // namespace ballast::log
