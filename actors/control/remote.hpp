// Remote actors for the control interface, the same for the agent, the
// coordinator and ballastctl: the middleman (plain, or OpenSSL with mutual
// certificates), heartbeats so a hung peer is noticed, and an asynchronous
// connect with a timeout (the middleman actor's connect, so a host that does
// not answer never blocks a thread).
#pragma once

#include "messages/protocol.hpp"
#include "sys/result.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman_actor.hpp>

#include <string>

namespace ballast {

// The fixed, documented port of the control interface.
inline constexpr uint16_t default_control_port = 9465;

struct tls_files {
  std::string certificate;
  std::string key;
  std::string ca;
  bool enabled() const { return !certificate.empty() || !key.empty() || !ca.empty(); }
};

// How long a peer may stay silent (heartbeats every 200 ms) before its
// connection is dropped. Each side judges the other by its own figure: the
// coordinator's is short, so a hung agent is reported within 2 s; an agent's
// is long, so a host busy for a second does not cut ballastctl or the
// coordinator off (the coordinator notices a hung agent on its own side);
// ballastctl's is its request timeout.
inline constexpr caf::timespan coordinator_peer_silence = std::chrono::seconds(1);
inline constexpr caf::timespan agent_peer_silence = std::chrono::seconds(10);

// Loads the middleman (and OpenSSL when tls is enabled) into cfg. Refuses
// what would make CAF abort or silently go anonymous: a CA without a
// certificate and key, a certificate without a CA, unreadable files.
status configure_remote(caf::actor_system_config &cfg, const tls_files &tls,
                        caf::timespan peer_silence);

// The middleman actor to publish and connect with (OpenSSL's with TLS).
caf::io::middleman_actor remote_manager(caf::actor_system &sys, bool tls);

// Publishes the control actor at address:port.
result<uint16_t> publish_control(caf::actor_system &sys, const control_actor &control,
                                 const std::string &address, uint16_t port, bool tls);

// The reason a remote peer put into its error (the string it was made
// with), else CAF's rendering of it.
std::string error_text(caf::actor_system &sys, const caf::error &e);

// "host:port" (or "host", with the default port) → host and port.
result<std::pair<std::string, uint16_t>> parse_host_port(const std::string &text);

} // namespace ballast
