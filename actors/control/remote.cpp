#include "actors/control/remote.hpp"

#include "sys/text.hpp"

#include <caf/io/middleman.hpp>
#include <caf/io/publish.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include <unistd.h>

namespace ballast {

using namespace std::chrono_literals;

status configure_remote(caf::actor_system_config &cfg, const tls_files &tls,
                        caf::timespan peer_silence) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{200ms});
  cfg.set("middleman.connection-timeout", peer_silence);
  if (!tls.enabled())
    return success();
  if (tls.certificate.empty() || tls.key.empty() || tls.ca.empty())
    return error{EINVAL, "TLS needs a certificate, its key and the CA file together "
                         "(a CA alone would make the connection anonymous on one side)"};
  for (auto *f : {&tls.certificate, &tls.key, &tls.ca})
    if (::access(f->c_str(), R_OK) != 0)
      return errno_error(errno, "cannot read TLS file", *f);
  cfg.load<caf::openssl::manager>();
  cfg.set("openssl.certificate", tls.certificate);
  cfg.set("openssl.key", tls.key);
  cfg.set("openssl.cafile", tls.ca);
  return success();
}

caf::io::middleman_actor remote_manager(caf::actor_system &sys, bool tls) {
  return tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
}

result<uint16_t> publish_control(caf::actor_system &sys, const control_actor &control,
                                 const std::string &address, uint16_t port, bool tls) {
  auto r = tls ? caf::openssl::publish(control, port, address.c_str(), true)
               : caf::io::publish(control, port, address.c_str(), true);
  if (!r)
    return error{0, "cannot listen for control on " + address + ":" + std::to_string(port) + ": " +
                        sys.render(r.error())};
  return *r;
}

std::string error_text(caf::actor_system &sys, const caf::error &e) {
  auto &ctx = e.context();
  for (size_t i = 0; i < ctx.size(); ++i)
    if (ctx.match_element<std::string>(i))
      return ctx.get_as<std::string>(i);
  return sys.render(e);
}

result<std::pair<std::string, uint16_t>> parse_host_port(const std::string &text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return std::pair{text, default_control_port};
  auto port = sys::text::parse_number<uint16_t>(std::string_view(text).substr(colon + 1));
  if (!port || *port == 0 || colon == 0)
    return error{EINVAL, "'" + text + "' is not host:port"};
  return std::pair{text.substr(0, colon), *port};
}

} // namespace ballast
