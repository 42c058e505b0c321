// Who may do what through a control interface, decided in the agent (or the
// coordinator), never in the client. A change needs the secret of the
// cookie file, which only root and the control group can read; reads are
// open to every local user unless the config closes them. Over TLS every
// peer already proved itself with a certificate the CA signed.
#pragma once

#include "messages/control.hpp"

#include <caf/error.hpp>

#include <string>
#include <string_view>

namespace ballast {

enum class access { read, change };

struct control_gate {
  std::string secret;      // the cookie's content
  std::string cookie_path; // named in refusals, so the client knows where to look
  std::string group;
  bool tls = false;
  bool open_reads = true;

  // Nothing when `who` may run `command`; else the refusal with its reason.
  caf::error check(const credential &who, access what, std::string_view command) const;

  // check() for a handler that answers through a promise: a refusal is
  // delivered to rp, and the result says whether it was refused.
  template <class Promise>
  bool refuse(Promise &rp, const credential &who, access what, std::string_view command) const {
    auto refusal = check(who, what, command);
    if (!refusal)
      return false;
    rp.deliver(std::move(refusal));
    return true;
  }
};

} // namespace ballast
