// The control cookie: a random secret in a file that only root and one group
// can read. The agent writes a new one at every start; a client proves it may
// change things by sending what it read from the file. Loopback TCP cannot be
// sniffed without root, so the secret only ever travels where it is safe.
#pragma once

#include "sys/result.hpp"

#include <string>
#include <string_view>

namespace ballast::sys {

// A fresh secret (64 hex digits from getrandom) written to `path` as mode
// 0640 owner root, group `group` (atomically: a temp file renamed over it).
// Without that group the file is 0600 (root only) and `warning` says so; a
// directory on the way the group cannot enter is reported there too.
struct written_cookie {
  std::string secret;
  std::string warning;
};
result<written_cookie> write_cookie(const std::string &path, const std::string &group);

// The secret in `path`, trimmed; an error says why it cannot be read.
result<std::string> read_cookie(const std::string &path);

// 64 hex digits from getrandom: a fresh secret.
result<std::string> random_hex();

// Compares in time independent of where the two differ.
bool same_secret(std::string_view a, std::string_view b);

} // namespace ballast::sys
