// See control_gate.hpp.
#include "actors/control/control_gate.hpp"

#include "sys/cookie.hpp"
#include "sys/log.hpp"

#include <caf/sec.hpp>

namespace ballast {

caf::error control_gate::check(const credential &who, access what, std::string_view command) const {
  if (tls || (what == access::read && open_reads))
    return {};
  if (!secret.empty() && sys::same_secret(who.cookie, secret))
    return {};
  log::warn("control", "refused ", command, " from a client without the control cookie");
  return caf::make_error(caf::sec::invalid_argument,
                         "refused: not authorized: " + std::string(command) +
                             " needs root or a member of group '" + group + "' (the secret in " +
                             cookie_path + ")");
}

} // namespace ballast
