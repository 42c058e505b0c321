// Errors as values for kernel interfaces: every read/write/parse returns a
// result<T> that holds either the value or an error (errno and a message that
// names the file or field). Nothing in sys/ throws for an expected failure.
#pragma once

#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ballast {

struct error {
  int code = 0;        // errno where the failure came from the kernel, else 0
  std::string message; // names what failed: "read /proc/12/stat: No such process"
};

template <class T> class [[nodiscard]] result {
public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}

  explicit operator bool() const { return v_.index() == 0; }
  bool ok() const { return v_.index() == 0; }

  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  const error &err() const { return std::get<1>(v_); }

private:
  std::variant<T, error> v_;
};

struct ok_t {};

// result<void> equivalent: success carries nothing.
using status = result<ok_t>;

inline status success() {
  return ok_t{};
}

// The error for a failed system call: "<what> <path>: <strerror(code)>".
// code is passed in, not read here: building the path may clobber errno, so
// callers save errno right after the call that failed.
inline error errno_error(int code, std::string_view what, const std::string &path) {
  return error{code, std::string(what) + " " + path + ": " + std::strerror(code)};
}

} // namespace ballast
