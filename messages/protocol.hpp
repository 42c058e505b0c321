// The whole protocol of the agent in one header: atoms, the type-ID block and
// every typed actor interface, one comment per handler. Reading this file
// tells you who can say what to whom.
#pragma once

#include "messages/config_inspect.hpp"
#include "messages/control.hpp"
#include "messages/events.hpp"
#include "messages/jobs.hpp"
#include "messages/samples.hpp"

#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ballast {
struct group_member; // below: it holds a cgroup_actor handle
} // namespace ballast

// Atoms live in ballast::atom: CAF defines its own get_atom, ok_atom, ...
CAF_BEGIN_TYPE_ID_BLOCK(ballast, caf::first_custom_type_id)
CAF_ADD_ATOM(ballast, ballast::atom, tick, "tick")
CAF_ADD_ATOM(ballast, ballast::atom, stop, "stop")
CAF_ADD_ATOM(ballast, ballast::atom, done, "done")
CAF_ADD_ATOM(ballast, ballast::atom, scan, "scan")
CAF_ADD_ATOM(ballast, ballast::atom, reload, "reload")
CAF_ADD_ATOM(ballast, ballast::atom, status, "status")
CAF_ADD_ATOM(ballast, ballast::atom, list, "list")
CAF_ADD_ATOM(ballast, ballast::atom, failed, "failed")
CAF_ADD_ATOM(ballast, ballast::atom, restart, "restart")
CAF_ADD_ATOM(ballast, ballast::atom, release, "release")
CAF_ADD_ATOM(ballast, ballast::atom, unclaim, "unclaim")
CAF_ADD_ATOM(ballast, ballast::atom, left, "left")
CAF_ADD_ATOM(ballast, ballast::atom, cgroups, "cgroups")
CAF_ADD_ATOM(ballast, ballast::atom, policies, "policies")
CAF_ADD_ATOM(ballast, ballast::atom, dry_run, "dry_run")
CAF_ADD_ATOM(ballast, ballast::atom, apply, "apply")
CAF_ADD_ATOM(ballast, ballast::atom, freeze, "freeze")
CAF_ADD_ATOM(ballast, ballast::atom, thaw, "thaw")
CAF_ADD_ATOM(ballast, ballast::atom, watch, "watch")
CAF_ADD_ATOM(ballast, ballast::atom, find, "find")
CAF_ADD_ATOM(ballast, ballast::atom, config, "config")
CAF_ADD_ATOM(ballast, ballast::atom, fleet, "fleet")
CAF_ADD_ATOM(ballast, ballast::atom, all, "all")

CAF_ADD_TYPE_ID(ballast, (ballast::event_kind))
CAF_ADD_TYPE_ID(ballast, (ballast::cgroup_event))
CAF_ADD_TYPE_ID(ballast, (ballast::event_batch))
CAF_ADD_TYPE_ID(ballast, (ballast::events_lost))
CAF_ADD_TYPE_ID(ballast, (ballast::cgroup_members))
CAF_ADD_TYPE_ID(ballast, (ballast::claim_request))
CAF_ADD_TYPE_ID(ballast, (ballast::claim_reply))
CAF_ADD_TYPE_ID(ballast, (ballast::claim_info))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::claim_info>))
CAF_ADD_TYPE_ID(ballast, (ballast::config::host_setting))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::config::host_setting>))
CAF_ADD_TYPE_ID(ballast, (ballast::action_request))
CAF_ADD_TYPE_ID(ballast, (ballast::write_done))
CAF_ADD_TYPE_ID(ballast, (ballast::group_member))
CAF_ADD_TYPE_ID(ballast, (ballast::cgroup_status))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::cgroup_status>))
CAF_ADD_TYPE_ID(ballast, (ballast::config::selector))
CAF_ADD_TYPE_ID(ballast, (ballast::config::policy))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::config::policy>))
CAF_ADD_TYPE_ID(ballast, (ballast::config::agent))
CAF_ADD_TYPE_ID(ballast, (ballast::agent_status))
CAF_ADD_TYPE_ID(ballast, (ballast::policy_info))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::policy_info>))
CAF_ADD_TYPE_ID(ballast, (ballast::apply_result))
CAF_ADD_TYPE_ID(ballast, (ballast::control_event))
CAF_ADD_TYPE_ID(ballast, (ballast::fleet_agent))
CAF_ADD_TYPE_ID(ballast, (ballast::fleet_status))
CAF_ADD_TYPE_ID(ballast, (ballast::fleet_apply))
CAF_ADD_TYPE_ID(ballast, (ballast::agent_outcome))
CAF_ADD_TYPE_ID(ballast, (ballast::fleet_apply_result))
CAF_ADD_TYPE_ID(ballast, (ballast::credential))
CAF_ADD_TYPE_ID(ballast, (ballast::process_cpu))
CAF_ADD_TYPE_ID(ballast, (ballast::sched_sample))
CAF_ADD_TYPE_ID(ballast, (ballast::sched_batch))
CAF_ADD_ATOM(ballast, ballast::atom, exec, "exec")
CAF_ADD_TYPE_ID(ballast, (ballast::gpu_engine_time))
CAF_ADD_TYPE_ID(ballast, (ballast::gpu_memory))
CAF_ADD_TYPE_ID(ballast, (ballast::gpu_sample))
CAF_ADD_TYPE_ID(ballast, (ballast::gpu_batch))
CAF_ADD_ATOM(ballast, ballast::atom, signals, "signals")
CAF_ADD_TYPE_ID(ballast, (ballast::sched_signals))
CAF_ADD_ATOM(ballast, ballast::atom, jobs, "jobs")
CAF_ADD_ATOM(ballast, ballast::atom, challenge, "challenge")
CAF_ADD_ATOM(ballast, ballast::atom, exited, "exited")
CAF_ADD_ATOM(ballast, ballast::atom, stats, "stats")
CAF_ADD_TYPE_ID(ballast, (ballast::identity_proof))
CAF_ADD_TYPE_ID(ballast, (ballast::job_limit))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::job_limit>))
CAF_ADD_TYPE_ID(ballast, (ballast::job_request))
CAF_ADD_TYPE_ID(ballast, (ballast::job_info))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::job_info>))
CAF_ADD_TYPE_ID(ballast, (ballast::job_command))
CAF_ADD_TYPE_ID(ballast, (ballast::pressure_line))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::pressure_line>))
CAF_ADD_TYPE_ID(ballast, (ballast::job_log_cursor))
CAF_ADD_TYPE_ID(ballast, (ballast::job_log_chunk))
CAF_ADD_TYPE_ID(ballast, (ballast::config::pressure_limit))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::config::pressure_limit>))
CAF_ADD_TYPE_ID(ballast, (ballast::config::admission_band))
CAF_ADD_TYPE_ID(ballast, (std::vector<ballast::config::admission_band>))
CAF_ADD_TYPE_ID(ballast, (ballast::config::response_rule))
CAF_ADD_TYPE_ID(ballast, (ballast::config::job_response))
CAF_END_TYPE_ID_BLOCK(ballast)

namespace ballast {

// A policy actor: one per (policy, process) or (policy, cgroup), as its type's
// scope says. Every policy has this interface; what it does on a tick is its
// own.
using policy_actor = caf::typed_actor<
    // Periodic work; the policy schedules its next tick itself.
    caf::reacts_to<atom::tick>,
    // Its process exec'd and still matches the policy: its new name (comm).
    caf::reacts_to<atom::exec, std::string>>;

// The cgroup actor: the only writer of its cgroup's files.
using cgroup_actor = caf::typed_actor<
    // A process entered the cgroup, or exec'd inside it: enrol it with every
    // policy whose selector matches now, end the policies that no longer match.
    caf::reacts_to<cgroup_event>,
    // The member pids as a scan saw them: enrol the new, forget the gone.
    caf::reacts_to<cgroup_members>,
    // A new list of policies: end what is gone or changed, enrol again.
    caf::reacts_to<atom::reload, std::vector<config::policy>>,
    // Switch dry-run on or off: on puts every claimed knob back, off applies
    // the standing claims.
    caf::reacts_to<atom::dry_run, bool>,
    // A claim (a policy's, or the control interface's freeze); the sender is
    // the owner and is monitored.
    caf::replies_to<claim_request>::with<claim_reply>,
    // A one-off action (memory.reclaim, cgroup.kill, kill of a member); true
    // when done, false in dry-run.
    caf::replies_to<action_request>::with<bool>,
    // A write handed to the knob writer finished (from its thread).
    caf::reacts_to<write_done>,
    // Delayed self-message: start a failed policy again (policy, pid; 0 for a
    // policy on the whole cgroup).
    caf::reacts_to<atom::restart, std::string, int32_t>,
    // Drop every claim now (knobs back to their originals) and start the
    // cgroup's policies afresh: each claims again from its first step.
    caf::replies_to<atom::release, atom::all>::with<uint64_t>,
    // The sender drops its claim on one knob (a policy before it ends, the
    // control interface's thaw).
    caf::reacts_to<atom::unclaim, std::string>,
    // This interval's sched sample of the cgroup (into its windows).
    caf::reacts_to<sched_sample>,
    // The GPU source's read of the cgroup's clients (into its series).
    caf::reacts_to<gpu_sample>,
    // The cgroup's scheduler signals now (for group policies).
    caf::replies_to<atom::signals>::with<sched_signals>,
    // Snapshot of pids, live policies and standing claims.
    caf::replies_to<atom::status>::with<cgroup_status>,
    // Restore every knob, end every policy, reply, then quit.
    caf::replies_to<atom::stop>::with<atom::done>>;

// The host actor: the only writer of system-wide knobs (procfs, sysfs).
using host_actor = caf::typed_actor<
    // A new config: dry-run, and the host settings it holds (its own claims).
    caf::reacts_to<atom::reload, config::agent>,
    // A claim on a system knob; the sender is the owner and is monitored.
    caf::replies_to<claim_request>::with<claim_reply>,
    // A write handed to the knob writer finished (from its thread).
    caf::reacts_to<write_done>,
    // The sender drops its claim on one knob.
    caf::reacts_to<atom::unclaim, std::string>,
    // The standing claims.
    caf::replies_to<atom::status>::with<std::vector<claim_info>>,
    // Restore every knob, reply, then quit.
    caf::replies_to<atom::stop>::with<atom::done>>;

// A cgroup that belongs to a group policy's group, with the actor that owns
// its knobs (where the group policy sends its claims).
struct group_member {
  uint64_t id = 0;
  std::string path;
  cgroup_actor handle;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, group_member &x) {
  return f(caf::meta::type_name("ballast.group_member"), x.id, x.path, x.handle);
}

// A policy over a group of cgroups (memory_floor): one per policy, spawned
// by the registry, which keeps it told of the group's members.
using group_policy_actor =
    caf::typed_actor<caf::reacts_to<atom::tick>,
                     // A watched cgroup the policy selects appeared (or the policy started).
                     caf::reacts_to<group_member>,
                     // That cgroup left the group: gone, or released by an operator (cgroup id).
                     caf::reacts_to<atom::left, uint64_t>>;

// The registry: id → cgroup actor for every watched cgroup.
using registry_actor = caf::typed_actor<
    // Events drained from a source; routed to the cgroup actors.
    caf::reacts_to<event_batch>,
    // A read of the sched source: each sample to its cgroup's actor.
    caf::reacts_to<sched_batch>,
    // A read of the GPU source: likewise.
    caf::reacts_to<gpu_batch>,
    // The kernel dropped records: rescan cgroupfs and reconcile.
    caf::reacts_to<events_lost>,
    // Scan the tree and reconcile actors and members with it (sent by the
    // source once its programs are attached, so nothing falls between).
    caf::reacts_to<atom::scan>,
    // A new config: watch globs and policies.
    caf::reacts_to<atom::reload, config::agent>,
    // Delayed self-message: start the group policies that failed again.
    caf::reacts_to<atom::restart>,
    // Status of every cgroup actor.
    caf::replies_to<atom::list>::with<std::vector<cgroup_status>>,
    // An operator's release of a watched cgroup (by path): its actor drops
    // every claim and restarts its policies, and the group policies that
    // select it split again; replies how many claims were dropped.
    caf::replies_to<atom::release, std::string>::with<uint64_t>,
    // The cgroup_actor of a watched cgroup, by path (an error if it is not
    // watched). Untyped in the reply: handles get no type ID of their own.
    caf::replies_to<atom::find, std::string>::with<caf::actor>,
    // Stop every cgroup actor (restoring its knobs), reply, then quit.
    caf::replies_to<atom::stop>::with<atom::done>>;

// The PSI source: samples system-wide pressure each period (self-ticked).
using psi_source_actor = caf::typed_actor<caf::reacts_to<atom::tick>>;

// A source: owns kernel resources and the thread that polls them.
using source_actor = caf::typed_actor<
    // From its poller thread: the thread failed; the source quits with reason.
    caf::reacts_to<atom::failed, std::string>>;

// A sense the agent can run without, self-ticked: the sched source (reads
// its BPF maps each interval, sends the registry a sched_batch) and the GPU
// source (reads its clients' fdinfo, sends a gpu_batch).
using sense_actor = caf::typed_actor<caf::reacts_to<atom::tick>>;

// One job (a command the agent started in a cgroup it created): the only
// actor that touches the job's processes, directory and cgroup (its claims
// go to the job cgroup's actor like everyone's).
using job_actor = caf::typed_actor<
    // A command (messages/jobs.hpp): the job after it.
    caf::replies_to<job_command>::with<job_info>,
    // Its log from a cursor.
    caf::replies_to<job_log_cursor>::with<job_log_chunk>,
    // From the exit watch's thread: the job's shim has ended.
    caf::reacts_to<atom::exited>,
    // Delayed self-message: its memory and CPU into the metrics.
    caf::reacts_to<atom::tick>>;

// The jobs' response to host pressure (actors/jobs/job_response.hpp):
// freezes, kills, demotes and brings back jobs through the job supervisor.
using job_response_actor = caf::typed_actor<
    // Delayed self-message: read the config and the pressure, step.
    caf::reacts_to<atom::tick>,
    // From the trigger thread: the PSI trigger of that rule fired; step now.
    caf::reacts_to<atom::tick, std::string>,
    // The pre-kill hook for that job has ended or had its time: kill it.
    caf::reacts_to<atom::done, std::string>>;

// The job supervisor: starts jobs (checks, admission, cgroup, shim), takes
// back the jobs a previous agent left, and finds a job by its ID.
using job_supervisor_actor = caf::typed_actor<
    // Delayed self-message: look again at the queued jobs.
    caf::reacts_to<atom::tick>,
    // Start a job for a client proven to be uid; refused with every reason.
    caf::replies_to<job_request, uint32_t>::with<job_info>,
    // Every job.
    caf::replies_to<atom::jobs>::with<std::vector<job_info>>,
    // A command or a log read for the job it names ("no job ID" if none).
    caf::replies_to<job_command>::with<job_info>,
    caf::replies_to<job_log_cursor>::with<job_log_chunk>,
    // Stop the job actors (the jobs go on), reply, then quit.
    caf::replies_to<atom::stop>::with<atom::done>>;

// The control interface of an agent, and of a coordinator for its fleet:
// ballastctl speaks it to both. Paths are cgroup paths relative to the
// agent's cgroup2 root; anything leading outside it is refused. Every
// request starts with the client's credential: a change (apply, dry-run
// on/off, freeze, thaw, release, rollout) is refused without one the
// agent accepts, reads only when the config closes them.
using control_actor =
    caf::typed_actor<caf::replies_to<credential, atom::status>::with<agent_status>,
                     // Watched cgroups with their live policies and claims.
                     caf::replies_to<credential, atom::cgroups>::with<std::vector<cgroup_status>>,
                     caf::replies_to<credential, atom::policies>::with<std::vector<policy_info>>,
                     caf::replies_to<credential, atom::dry_run>::with<bool>,
                     caf::replies_to<credential, atom::dry_run, bool>::with<apply_result>,
                     // A config as JSON text: validated, applied or refused with its errors.
                     caf::replies_to<credential, atom::apply, std::string>::with<apply_result>,
                     // The config in force, and a config as data (a coordinator's revert).
                     caf::replies_to<credential, atom::config>::with<config::agent>,
                     caf::replies_to<credential, atom::apply, config::agent>::with<apply_result>,
                     // Freeze (held by the control interface until thawed) or thaw a cgroup;
                     // true when written, false in dry-run (nothing written).
                     caf::replies_to<credential, atom::freeze, std::string>::with<bool>,
                     caf::replies_to<credential, atom::thaw, std::string>::with<bool>,
                     // Release every claim on a cgroup; replies how many were released.
                     caf::replies_to<credential, atom::release, std::string>::with<uint64_t>,
                     // The sender gets control_event messages until it goes away.
                     caf::replies_to<credential, atom::watch>::with<bool>,
                     // A nonce for an identity proof (sys/identity.hpp), good for one
                     // request within a few seconds.
                     caf::replies_to<credential, atom::challenge>::with<std::string>,
                     // Jobs: start one (the proof names the client's uid), list them,
                     // a command on one (inspect and wait are reads), its log (a change:
                     // a log can hold secrets).
                     caf::replies_to<credential, job_request>::with<job_info>,
                     caf::replies_to<credential, atom::jobs>::with<std::vector<job_info>>,
                     caf::replies_to<credential, job_command>::with<job_info>,
                     caf::replies_to<credential, job_log_cursor>::with<job_log_chunk>,
                     // The host's pressure (/proc/pressure; a read).
                     caf::replies_to<credential, atom::stats>::with<std::vector<pressure_line>>,
                     // The coordinator's own timers (heartbeats; the end of a rollout's
                     // window); ignored unless the actor sent them to itself.
                     caf::reacts_to<atom::tick>, caf::reacts_to<atom::tick, uint64_t>,
                     // Coordinator only (an agent refuses): the fleet, and a fleet-wide apply.
                     caf::replies_to<credential, atom::fleet>::with<fleet_status>,
                     caf::replies_to<credential, fleet_apply>::with<fleet_apply_result>>;

// The supervisor: spawns and monitors the registry, the host actor and the
// sources.
using supervisor_actor = caf::typed_actor<
    // A checked (so compiled) config to apply: from main on SIGHUP, or from
    // the control interface (apply, dry-run on/off).
    caf::reacts_to<atom::reload, config::agent>,
    // Delayed self-message: start the cgroup source again after a backoff;
    // with a name, that sense ("sched", "gpu").
    caf::reacts_to<atom::restart>, caf::reacts_to<atom::restart, std::string>,
    // The registry (a registry_actor) and the config in force.
    caf::replies_to<atom::config>::with<caf::actor, config::agent>,
    // From main on SIGTERM/SIGINT: restore everything, stop, then reply.
    caf::replies_to<atom::stop>::with<atom::done>>;

} // namespace ballast
