// Lowering memory.high without making the workload pay for it: where the
// limit goes below what the cgroup uses, the difference is reclaimed first
// with memory.reclaim (written by the agent's knob writer), so the
// memory.high write lands on a cgroup already under it. Otherwise the
// workload's own allocations would do that reclaim, stalled, and the stall
// would be charged to the very pressure the policies measure.
#pragma once

#include "actors/policies/memory_sample.hpp"
#include "messages/events.hpp"
#include "messages/protocol.hpp"
#include "messages/refusal.hpp"
#include "sys/knobs.hpp"

#include <caf/all.hpp>

#include <cerrno>
#include <functional>
#include <string>

namespace ballast {

struct memory_high_change {
  uint64_t limit = 0;           // the memory.high to claim
  uint64_t usage = 0;           // memory.current now
  uint64_t in_force = no_limit; // the memory.high holding now
  int32_t priority = 0;
  std::string why; // logged with both writes
};

// Reclaims (when `reclaim` is set and the limit is below both the usage and
// the limit in force), then claims. `reclaim_unsupported` runs when the
// kernel has no memory.reclaim (before 5.19): the caller stops asking.
// `done` gets the claim's error, or none.
template <class Self, class Cgroup>
void claim_memory_high(Self self, const Cgroup &cgroup, const memory_high_change &c, bool reclaim,
                       std::function<void()> reclaim_unsupported,
                       std::function<void(const caf::error &)> done) {
  auto claim = [=] {
    self->request(cgroup, caf::infinite,
                  claim_request{std::string(knobs::memory_high.name), limit_text(c.limit),
                                c.priority, c.why})
        .then([=](claim_reply &) { done(caf::error{}); }, [=](caf::error &e) { done(e); });
  };
  if (!reclaim || c.limit >= c.usage || c.limit >= c.in_force) {
    claim();
    return;
  }
  self->request(cgroup, caf::infinite,
                action_request{std::string(knobs::memory_reclaim.name),
                               std::to_string(c.usage - c.limit), c.why})
      .then([=](bool) { claim(); },
            [=](caf::error &e) {
              // EAGAIN (the kernel could not reclaim all of it) is normal near the
              // working set; only a missing file means a kernel without it.
              if (errno_of(e) == ENOENT)
                reclaim_unsupported();
              claim();
            });
}

} // namespace ballast
