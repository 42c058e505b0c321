// The cgroup actor: one per watched cgroup, the only writer of its files.
// It tracks the cgroup's processes, enrols them with the policies whose
// selectors match, keeps the claims ledger, journals originals before the
// first write, and restores knobs when a claiming policy ends for any reason
// (it monitors them). In dry-run it computes, logs and counts every write and
// performs none.
#pragma once

#include "actors/cgroups/cgroup_context.hpp"
#include "config/config.hpp"
#include "messages/protocol.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ballast {

struct cgroup_spec {
  std::string path; // relative to the cgroup2 root
  uint64_t id = 0;
  std::vector<config::policy> policies;
  bool dry_run = false;
  bool series = true; // per-cgroup metric series (the registry's cardinality cap)
};

cgroup_actor spawn_cgroup_actor(caf::actor_system &sys, cgroup_spec spec,
                                std::shared_ptr<const cgroup_context> ctx);

// True if one of the policy's cgroup globs matches path.
bool selects_cgroup(const config::policy &p, const std::string &path);

// Whether the policy's settings were compiled (its config checked): the one
// precondition of a spawn. A policy that was not is logged, and left out.
bool is_compiled(const config::policy &p);

// The compiled policies of `all` whose cgroup globs select `path`.
std::vector<config::policy> policies_for(const std::vector<config::policy> &all,
                                         const std::string &path);

} // namespace ballast
