// The sched source actor: owns bpf/sched.bpf.c (through sched_reader), reads
// its maps every interval and sends the registry one sched_batch: for each
// cgroup the maps know, its on-CPU time so far and the interval's wait
// histograms, with the processes that ran in it. It exports the host-wide
// figures itself (per-CPU busy time, wait histograms of every task).
//
// The sense is optional: if the programs cannot load the agent runs without
// it (the supervisor logs why and tries again with a backoff); a failed read
// makes the actor quit with the reason, and the supervisor restarts it.
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "actors/sources/sched_reader.hpp"
#include "messages/protocol.hpp"

#include <chrono>
#include <memory>

namespace ballast {

sense_actor spawn_sched_source(caf::actor_system &sys, registry_actor registry,
                               std::chrono::milliseconds interval, sched_reader::limits limits,
                               std::shared_ptr<agent_metrics> metrics);

// One read's difference to the previous one, as the registry gets it (pure;
// exported for tests).
sched_batch sched_difference(const sched_totals &now, const sched_totals &before);

// `now` with each wait histogram at least what `before` read (a read may dip:
// see log2_histogram::since), as the next difference's base.
sched_totals sched_held(sched_totals now, const sched_totals &before);

} // namespace ballast
