// Who a local client is, proven without a unix socket: the agent hands out a
// nonce, the client writes it into a file of its own and names the file.
// Only the file's owner (or root) could have made a regular file owned by
// that uid holding a secret that did not exist a moment before.
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ballast::sys {

// Whether the file proves uid: `path` is a regular file (no symlink
// followed), with one link, owned by uid, whose content is nonce. The error
// says which of these failed.
status verify_identity(uint32_t uid, const std::string &path, std::string_view nonce);

// The client's side: a new file in dir (mode 0600) holding nonce; returns
// its path, which the caller removes when the request is answered.
result<std::string> write_identity_proof(const std::string &dir, std::string_view nonce);

} // namespace ballast::sys
