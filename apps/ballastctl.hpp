// What ballastctl's commands share: the options, the exit codes, and the
// session that sends one request and prints its reply.
#pragma once

#include "actors/control/remote.hpp"
#include "messages/protocol.hpp"
#include "sys/cookie.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace ballast::ctl {

using json = nlohmann::json;

enum exit_code { done = 0, refused = 1, usage_error = 2, unreachable = 3 };

struct options {
  std::string host = "127.0.0.1:" + std::to_string(default_control_port);
  tls_files tls;
  std::string cookie = "/run/ballast/control.cookie";
  bool json_out = false;
  std::chrono::milliseconds timeout{5000};
  std::vector<std::string> args;
  uint32_t canaries = 0;
  std::chrono::milliseconds window{30000};
  std::vector<std::string> agents;
};

// Prints why and the usage text; returns usage_error.
int fail_usage(const std::string &why);

inline bool is_unreachable(const caf::error &e) {
  return e == caf::sec::request_timeout || e == caf::sec::remote_linking_failed ||
         e == caf::sec::request_receiver_down || e == caf::sec::cannot_connect_to_node;
}

inline void print(const options &o, const json &j, const std::string &table) {
  if (o.json_out)
    std::cout << j.dump(2) << "\n";
  else
    std::cout << table;
}

// The version of watch -o json's objects: a new field keeps it, a changed
// or removed one raises it.
constexpr int event_schema = 1;

// One event as watch -o json prints it: the fields of an event (a job's
// "job", "exit_code", ...) beside the common ones.
inline json event_json(const control_event &ev) {
  json j{{"schema", event_schema}, {"agent", ev.agent},   {"unix_ms", ev.unix_ms},
         {"level", ev.level},      {"source", ev.source}, {"kind", ev.kind},
         {"text", ev.text}};
  for (auto &[k, v] : ev.fields)
    j[k] = v;
  return j;
}

// Runs one request and prints its reply; returns the exit code.
class session {
public:
  session(caf::actor_system &sys, const options &o, control_actor remote)
      : sys_(sys), o_(o), remote_(std::move(remote)), self_(sys) {
    if (auto secret = sys::read_cookie(o.cookie))
      cred_.cookie = std::move(*secret);
    else
      cookie_problem_ = secret.err().message;
  }

  // One request; on_reply(Reply&) returns the exit code.
  template <class Reply, class OnReply, class... Request>
  int ask(OnReply on_reply, Request... request) {
    return ask_within<Reply>(o_.timeout, on_reply, request...);
  }

  // The same with its own timeout (caf::infinite for wait).
  template <class Reply, class Timeout, class OnReply, class... Request>
  int ask_within(Timeout timeout, OnReply on_reply, Request... request) {
    int code = done;
    self_->request(remote_, timeout, cred_, request...)
        .receive([&](Reply &reply) { code = on_reply(reply); },
                 [&](caf::error &e) {
                   auto why = error_text(sys_, e);
                   std::fprintf(stderr, "ballastctl: %s\n", why.c_str());
                   if (why.find("not authorized") != std::string::npos && !cookie_problem_.empty())
                     std::fprintf(stderr, "ballastctl: (%s)\n", cookie_problem_.c_str());
                   code = is_unreachable(e) ? unreachable : refused;
                 });
    return code;
  }

  int watch() {
    int code = ask<bool>([](bool) { return done; }, atom::watch_v);
    if (code != done)
      return code;
    self_->monitor(remote_);
    bool running = true;
    self_->receive_while(running)(
        [&](control_event &ev) {
          if (o_.json_out)
            std::cout << event_json(ev).dump() << std::endl;
          else
            std::cout << (ev.agent.empty() ? "" : ev.agent + " ") << ev.level << " " << ev.source
                      << ": " << ev.text << std::endl;
        },
        [&](caf::down_msg &) {
          std::fprintf(stderr, "ballastctl: the connection is gone\n");
          running = false;
        });
    return unreachable;
  }

private:
  caf::actor_system &sys_;
  const options &o_;
  control_actor remote_;
  caf::scoped_actor self_;
  credential cred_;
  std::string cookie_problem_; // why the cookie could not be read
};

// The job commands (ballastctl_jobs.cpp).
int run_job(session &s, const options &o);
int print_jobs(session &s, const options &o);
int print_stats(session &s, const options &o);
int job_command_of(session &s, const options &o);
int job_logs(session &s, const options &o);

} // namespace ballast::ctl
