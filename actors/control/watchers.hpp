// The clients watching a control interface's events. Shared between the
// actor that adds and drops clients and whoever produces events (the log
// listener of an agent, the relays of a coordinator), on any thread.
#pragma once

#include "messages/protocol.hpp"

#include <caf/send.hpp>

#include <mutex>
#include <vector>

namespace ballast {

struct watchers {
  std::mutex mutex;
  std::vector<caf::actor> clients;

  void add(caf::actor client) {
    std::lock_guard guard{mutex};
    clients.push_back(std::move(client));
  }
  // The sender of the current message becomes a watcher, monitored so that
  // it is dropped when it goes (drop() in the down handler).
  template <class Self> bool add_sender(Self *self) {
    auto client = caf::actor_cast<caf::actor>(self->current_sender());
    if (!client)
      return false;
    self->monitor(client);
    add(std::move(client));
    return true;
  }
  void drop(const caf::actor_addr &client) {
    std::lock_guard guard{mutex};
    std::erase_if(clients, [&](auto &c) { return c.address() == client; });
  }
  void send(const control_event &ev) {
    std::lock_guard guard{mutex};
    for (auto &c : clients)
      caf::anon_send(c, ev);
  }
};

} // namespace ballast
