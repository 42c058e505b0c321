// Internal to the cgroup actor: its state, shared by the two files that
// implement it — cgroup_actor.cpp (membership, enrolment, policies' ends,
// the behavior) and cgroup_knobs.cpp (the claims ledger, its journal and the
// one effector that writes knobs).
#pragma once

#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/cgroups/cgroup_probe.hpp"
#include "actors/cgroups/claims_ledger.hpp"
#include "actors/cgroups/selector.hpp"
#include "actors/policies/restart_backoff.hpp"
#include "sys/cgroupfs.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace ballast::cgroup_internal {

struct enrolled_policy {
  std::string name;
  policy_actor handle;
};

struct cgroup_state {
  static constexpr const char* name = "cgroup";

  cgroup_spec spec;
  std::shared_ptr<const cgroup_context> ctx;
  std::optional<sys::cgroup_dir> dir;
  std::shared_ptr<cgroup_probe> probe;
  std::unique_ptr<file_watch::handle> memory_events_watch;  // OOM kills seen as they happen
  std::vector<compiled_selector> selectors;  // parallel to spec.policies
  claims_ledger ledger;
  std::map<int32_t, std::vector<enrolled_policy>> procs;  // pid -> its policies
  std::unordered_map<caf::actor_id, int32_t> policy_pid;  // live policy -> pid
  std::map<std::string, size_t> published_claims;         // knob -> count in ballast_claims
  std::vector<enrolled_policy> cgroup_policies;  // policies acting on the whole cgroup
  // Writes on the knob writer's threads, by sequence number: what to do
  // with the result when it comes back.
  uint64_t next_write = 0;
  std::unordered_map<uint64_t, std::function<void(status)>> writes_in_flight;
  std::shared_ptr<std::atomic<bool>> writes_cancelled = std::make_shared<std::atomic<bool>>(false);
  std::optional<caf::typed_response_promise<atom::done>> stopping;  // replied once writes are done

  // Policies that failed, by (policy, pid or 0), and those parked.
  std::map<std::pair<std::string, int32_t>, restart_backoff> failed;
  std::set<std::pair<std::string, int32_t>> parked;             // not restarted any more

  ~cgroup_state() {
    if (!ctx)
      return;
    restore_after_failure();
    end_policies_after_failure();
    for (auto& p : parked)
      ctx->metrics->policy_parked(p.first, -1);
    publish_claims();
    ctx->metrics->actor_stopped(actor_type::cgroup);
  }

  // Moves ballast_claims{knob} by what changed in this cgroup's ledger.
  void publish_claims();

  // An actor that ends without its stop (an exception, a kill) still puts
  // every claimed knob back and ends its policies: here, from the state's
  // destructor, which CAF runs however the actor ended.
  void restore_after_failure();
  void end_policies_after_failure();

  void compile_selectors() {
    selectors.clear();
    for (auto& p : spec.policies)
      selectors.emplace_back(p.select);
  }
};

using cgroup_self = cgroup_actor::stateful_pointer<cgroup_state>;

// --- cgroup_knobs.cpp ----------------------------------------------------

// A ledger change caused by a release (policy ended, shutdown...) applied.
void apply_restore(cgroup_self self, const claims_ledger::change& c, restore_reason reason);

// A policy's claim: journal the original first, write, reply.
caf::result<claim_reply> on_claim(cgroup_self self, const claim_request& req);

// A policy's one-off action (memory.reclaim, cgroup.kill, kill of a member).
caf::result<bool> on_action(cgroup_self self, const action_request& req);

// The knob writer finished a write.
void on_write_done(cgroup_self self, const write_done& w);

void set_dry_run(cgroup_self self, bool dry_run);

} // namespace ballast::cgroup_internal
