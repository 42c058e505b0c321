// OpenSSL keeps one error queue per thread, and SSL_get_error() is only
// reliable when that queue was empty before the SSL call it explains. CAF
// 0.17's OpenSSL sessions all run on the middleman's one thread and never
// clear it, so one peer that vanishes (kill -9, a client that exits) leaves
// an error that makes the next SSL_read of every *other* session look fatal:
// all TLS connections of the process drop at once (seen with a coordinator
// and three agents). These wrappers, exported from our executables, take
// the place of OpenSSL's functions for libcaf_openssl (symbol interposition)
// and clear the queue before each call, as OpenSSL's documentation asks.
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class F> F real(const char *name) {
  static_assert(sizeof(F) == sizeof(void *));
  void *p = ::dlsym(RTLD_NEXT, name);
  F f;
  __builtin_memcpy(&f, &p, sizeof f);
  return f;
}

} // namespace

extern "C" {

int SSL_read(SSL *ssl, void *buf, int num) {
  static auto f = real<int (*)(SSL *, void *, int)>("SSL_read");
  ERR_clear_error();
  return f(ssl, buf, num);
}

int SSL_write(SSL *ssl, const void *buf, int num) {
  static auto f = real<int (*)(SSL *, const void *, int)>("SSL_write");
  ERR_clear_error();
  return f(ssl, buf, num);
}

int SSL_connect(SSL *ssl) {
  static auto f = real<int (*)(SSL *)>("SSL_connect");
  ERR_clear_error();
  return f(ssl);
}

int SSL_accept(SSL *ssl) {
  static auto f = real<int (*)(SSL *)>("SSL_accept");
  ERR_clear_error();
  return f(ssl);
}

int SSL_shutdown(SSL *ssl) {
  static auto f = real<int (*)(SSL *)>("SSL_shutdown");
  ERR_clear_error();
  int r = f(ssl);
  ERR_clear_error(); // a failed shutdown of a dead peer is of no interest
  return r;
}

} // extern "C"
