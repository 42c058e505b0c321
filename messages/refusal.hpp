// An actor's refusal that keeps the errno of the failure beside its message,
// so a caller tells "no such file" from any other error without matching
// strerror text.
#pragma once

#include "sys/result.hpp"

#include <caf/error.hpp>
#include <caf/sec.hpp>

#include <cstdint>

namespace ballast {

inline caf::error refusal(caf::sec kind, const error &e) {
  return caf::make_error(kind, e.message, int32_t(e.code));
}

// The errno a refusal carries; 0 if it carries none.
inline int errno_of(const caf::error &e) {
  auto &ctx = e.context();
  for (size_t i = 0; i < ctx.size(); ++i)
    if (ctx.match_element<int32_t>(i))
      return ctx.get_as<int32_t>(i);
  return 0;
}

} // namespace ballast
