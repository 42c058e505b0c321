// Journal replay at start; see journal_replay.hpp.
#include "actors/effector/journal_replay.hpp"

#include "actors/effector/knob_target.hpp"
#include "sys/log.hpp"

namespace ballast {

namespace {

// Where a record's knob lives: the host (cgroup id 0), or its cgroup if it
// still exists with the same id; null otherwise.
std::shared_ptr<knob_target> target_of(const journal_record &r, const replay_roots &roots) {
  if (r.cgroup_id == 0)
    return std::make_shared<host_target>(roots.system_root);
  auto t = cgroup_target::open(roots.cgroup_root, r.path);
  if (!t || (*t)->id() != r.cgroup_id)
    return nullptr;
  return *t;
}

} // namespace

replay_outcome replay_journal(journal &j, const replay_roots &roots, agent_metrics &metrics,
                              bool dry_run) {
  replay_outcome out;
  auto text = j.read_all();
  if (!text) {
    log::error("journal", text.err().message);
    metrics.journal_error();
    return out;
  }
  auto plan = plan_replay(*text);
  out.bad_lines = plan.bad_lines;
  for (size_t i = 0; i < plan.bad_lines; ++i)
    metrics.journal_error();
  if (plan.bad_lines > 0)
    log::warn("journal", j.path(), ": ", plan.bad_lines,
              " corrupt or torn line(s) skipped; every valid record was replayed");
  if (plan.out_of_order > 0)
    log::warn("journal", j.path(), ": ", plan.out_of_order,
              " record(s) out of order; replayed in the order they were written");
  for (auto &r : plan.ambiguous) {
    ++out.skipped;
    metrics.journal_error();
    log::warn("journal", "not restoring ", r.knob, " of ", r.path,
              ": two different records share a sequence number, its original is unknown");
  }
  for (auto &r : plan.restores) {
    auto target = target_of(r, roots);
    if (!target) {
      ++out.skipped;
      log::info("journal", "not restoring ", r.knob, " of ", r.path,
                ": the cgroup is gone or was re-created");
      continue;
    }
    if (dry_run) {
      ++out.would_restore;
      log::info("journal", "dry-run: would restore ", r.knob, "=", r.value, " in ", target->label(),
                " (not written; the journal is kept)");
      continue;
    }
    if (auto w = target->write(r.knob, r.value); !w) {
      ++out.failed;
      metrics.knob_restore_failed();
      log::error("journal", "restore ", r.knob, "=", r.value, " in ", target->label(),
                 " failed: ", w.err().message);
      continue;
    }
    ++out.restored;
    metrics.knob_restored(restore_reason::journal);
    log::info("journal", "restored ", r.knob, "=", r.value, " in ", target->label(),
              " (left changed by an agent that did not stop cleanly)");
  }
  // A failed restore stays in the journal so the next start tries again;
  // so does everything a dry-run did not restore.
  if (out.failed == 0 && out.would_restore == 0) {
    if (auto t = j.truncate(); !t)
      log::error("journal", t.err().message);
  }
  return out;
}

} // namespace ballast
