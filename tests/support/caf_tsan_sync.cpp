// Linked into test binaries of a ThreadSanitizer build only
// (BALLAST_SANITIZE=thread). Debian's libcaf_core is not instrumented, so
// TSan does not see the atomics that hand a message from sender to receiver
// or an actor from one worker thread to the next, and reports every message
// as a race. Rather than suppressing whole stacks that pass through CAF
// (which would hide races in our handlers too), this file interposes the
// handful of exported CAF functions where those hand-offs happen and tells
// TSan about them with __tsan_release/__tsan_acquire, then calls CAF's own
// function (found with dlsym(RTLD_NEXT)). What remains reported is ours.
//
//   enqueue          release on the mailbox element (sender's writes)
//   visitor(x)       acquire it, and acquire/release the actor around the
//                    handler (its state moves between worker threads)
//   bouncer(x)       acquire it: what an actor that quits drops unread
//   activate         the same around the start of each resume (initialize)
//   ref-count drops  release, then acquire (the last owner destroys), for
//                    strong and weak references alike
#include <caf/actor_control_block.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/detail/sync_request_bouncer.hpp>
#include <caf/ref_counted.hpp>
#include <caf/scheduled_actor.hpp>

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

namespace {

template <class F> F real(const char *mangled) {
  void *p = dlsym(RTLD_NEXT, mangled);
  if (p == nullptr) {
    std::fprintf(stderr, "caf_tsan_sync: %s not found in libcaf_core\n", mangled);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

// Acquires and releases `self` around a call: the actor's state is handed
// from whichever worker ran it last to this one.
struct actor_turn {
  explicit actor_turn(const void *self) : self_(self) { __tsan_acquire(const_cast<void *>(self_)); }
  ~actor_turn() { __tsan_release(const_cast<void *>(self_)); }
  const void *self_;
};

} // namespace

namespace caf {

void scheduled_actor::enqueue(mailbox_element_ptr ptr, execution_unit *eu) {
  using fn = void (*)(scheduled_actor *, mailbox_element_ptr, execution_unit *);
  static const fn f = real<fn>("_ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_"
                               "elementENS_6detail8disposerEEPNS_14execution_unitE");
  __tsan_release(ptr.get());
  f(this, std::move(ptr), eu);
}

void blocking_actor::enqueue(mailbox_element_ptr ptr, execution_unit *eu) {
  using fn = void (*)(blocking_actor *, mailbox_element_ptr, execution_unit *);
  static const fn f = real<fn>("_ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_"
                               "elementENS_6detail8disposerEEPNS_14execution_unitE");
  __tsan_release(ptr.get());
  f(this, std::move(ptr), eu);
}

intrusive::task_result scheduled_actor::mailbox_visitor::operator()(mailbox_element &x) {
  using fn = intrusive::task_result (*)(mailbox_visitor *, mailbox_element &);
  static const fn f =
      real<fn>("_ZN3caf15scheduled_actor15mailbox_visitorclERNS_15mailbox_elementE");
  __tsan_acquire(&x);
  actor_turn turn(self);
  return f(this, x);
}

intrusive::task_result blocking_actor::mailbox_visitor::operator()(mailbox_element &x) {
  using fn = intrusive::task_result (*)(mailbox_visitor *, mailbox_element &);
  static const fn f = real<fn>("_ZN3caf14blocking_actor15mailbox_visitorclERNS_15mailbox_elementE");
  __tsan_acquire(&x);
  actor_turn turn(self);
  return f(this, x);
}

void detail::sync_request_bouncer::operator()(const mailbox_element &x) const {
  using fn = void (*)(const sync_request_bouncer *, const mailbox_element &);
  static const fn f = real<fn>("_ZNK3caf6detail20sync_request_bouncerclERKNS_15mailbox_elementE");
  __tsan_acquire(const_cast<mailbox_element *>(&x));
  f(this, x);
}

bool scheduled_actor::activate(execution_unit *ctx) {
  using fn = bool (*)(scheduled_actor *, execution_unit *);
  static const fn f = real<fn>("_ZN3caf15scheduled_actor8activateEPNS_14execution_unitE");
  actor_turn turn(this);
  return f(this, ctx);
}

void intrusive_ptr_release(actor_control_block *x) {
  using fn = void (*)(actor_control_block *);
  static const fn f = real<fn>("_ZN3caf21intrusive_ptr_releaseEPNS_19actor_control_blockE");
  __tsan_release(x);
  __tsan_acquire(x);
  f(x);
}

// The weak count too: the last weak reference (a monitor's attachable, on
// whichever worker drops it) frees the storage of an actor whose destructor
// ran on another thread, after its strong count reached zero there.
void intrusive_ptr_release_weak(actor_control_block *x) {
  using fn = void (*)(actor_control_block *);
  static const fn f = real<fn>("_ZN3caf26intrusive_ptr_release_weakEPNS_19actor_control_blockE");
  __tsan_release(x);
  __tsan_acquire(x);
  f(x);
}

void ref_counted::deref() const noexcept {
  using fn = void (*)(const ref_counted *);
  static const fn f = real<fn>("_ZNK3caf11ref_counted5derefEv");
  __tsan_release(const_cast<ref_counted *>(this));
  __tsan_acquire(const_cast<ref_counted *>(this));
  f(this);
}

} // namespace caf
