// Process lifecycle of ballastd; see agent.hpp.
#include "actors/supervisor/agent.hpp"

#include "actors/control/control_actor.hpp"
#include "actors/control/remote.hpp"
#include "actors/effector/journal_replay.hpp"
#include "actors/jobs/job_supervisor.hpp"
#include "actors/policies/policy.hpp"
#include "actors/sources/cgroup_source.hpp"
#include "actors/sources/gpu_source.hpp"
#include "actors/sources/sched_source.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "ballast_version.hpp"
#include "sys/cookie.hpp"
#include "sys/log.hpp"
#include "sys/mountinfo.hpp"

#include <caf/all.hpp>
#include <prometheus/exposer.h>

#include <csignal>
#include <pthread.h>
#include <unistd.h>

namespace ballast {

namespace {

// Threads for knob writes that may block in reclaim: a few stalled cgroups
// do not hold up the others' writes, and the number stays bounded.
constexpr size_t knob_writer_threads = 4;

sigset_t agent_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::unique_ptr<prometheus::Exposer> serve_metrics(const config::agent &cfg, agent_metrics &m) {
  auto where = cfg.metrics_address + ":" + std::to_string(cfg.metrics_port);
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(where, 2);
    exposer->RegisterCollectable(m.shared_registry());
    return exposer;
  } catch (const std::exception &e) {
    log::error("agent", "cannot serve metrics on ", where, ": port ", cfg.metrics_port,
               " is already in use or the address is not available (", e.what(), ")");
    return nullptr;
  }
}

// Re-reads the config file; a bad one is refused and the running one kept.
void reload(const agent_options &opts, const supervisor_actor &sup, agent_metrics &metrics,
            config::agent &current) {
  if (!opts.config_file) {
    log::info("agent", "SIGHUP: running on the embedded default config; nothing to reload");
    return;
  }
  auto r = check_config_file(*opts.config_file);
  if (!r.value) {
    log::error("agent", "SIGHUP: ", *opts.config_file, " refused, keeping the running config:");
    for (auto &e : r.errors)
      log::error("agent", "  ", e.to_string());
    metrics.config_reload(false);
    return;
  }
  auto next = std::move(*r.value);
  next.dry_run = next.dry_run || opts.force_dry_run;
  if (next.metrics_address != current.metrics_address ||
      next.metrics_port != current.metrics_port || next.journal_path != current.journal_path)
    log::warn("agent", "SIGHUP: metrics.listen and journal take effect at the next start");
  log::info("agent", "SIGHUP: config ", config::config_hash(next), " from ", *opts.config_file,
            " applied");
  metrics.config_reload(true);
  current = next;
  caf::anon_send(sup, atom::reload_v, std::move(next));
}

// Asks the supervisor to stop and waits at most the deadline.
bool shutdown(caf::actor_system &sys, const supervisor_actor &sup,
              std::chrono::milliseconds deadline) {
  bool done = false;
  caf::scoped_actor self{sys};
  self->request(sup, deadline, atom::stop_v)
      .receive([&](atom::done) { done = true; },
               [&](caf::error &err) {
                 log::error("agent", "shutdown did not finish within ", deadline.count(),
                            " ms: ", to_string(err),
                            "; the journal restores the rest at the next start");
               });
  return done;
}

// Runs the actor system until SIGTERM/SIGINT, then ends the process. Once
// the supervisor reports every knob restored (the journal is synced on each
// append), nothing is left to save: the process exits without waiting for
// policy actors to wind down or for the HTTP server to join its threads
// (up to 2 s), which would overrun the shutdown deadline.
[[noreturn]] void run_actors(const agent_options &opts, config::agent &cfg,
                             std::shared_ptr<const cgroup_context> ctx, const sigset_t &set,
                             const std::string &secret) {
  caf::actor_system_config sys_cfg;
  sys_cfg.add_message_types<caf::id_block::ballast>();
  tls_files tls{cfg.tls_certificate, cfg.tls_key, cfg.tls_ca};
  if (auto r = configure_remote(sys_cfg, tls, agent_peer_silence); !r) {
    log::error("agent", "control: ", r.err().message);
    std::_Exit(1);
  }
  // One shared queue with a condition variable: idle workers sleep instead
  // of polling (work stealing polled at ~4% of a core on an idle host).
  sys_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{sys_cfg};
  auto fatal = std::make_shared<std::atomic<bool>>(false);
  supervisor_env env{
      ctx,
      [metrics = ctx->metrics](caf::actor_system &sys, registry_actor reg, uint32_t bytes) {
        return spawn_cgroup_source(sys, reg, bytes, metrics);
      },
      [fatal](const std::string &) {
        fatal->store(true);
        ::kill(::getpid(), SIGTERM); // the main loop shuts down as on a signal
      },
      "",
      [metrics = ctx->metrics](caf::actor_system &sys, registry_actor reg, const config::agent &c) {
        return spawn_sched_source(sys, reg, c.sched_interval, {}, metrics);
      },
      [metrics = ctx->metrics, cgroup_root = ctx->cgroup_root, proc_root = ctx->proc.root()](
          caf::actor_system &sys, registry_actor reg, const config::agent &c) {
        gpu_source_options opts{c.gpu_interval, c.gpu_rescan, {proc_root, "/sys", cgroup_root}};
        return spawn_gpu_source(sys, reg, std::move(opts), metrics);
      }};
  auto sup = spawn_supervisor(sys, cfg, env);
  control_gate gate{secret, cfg.control_cookie, cfg.control_group, tls.enabled(),
                    cfg.control_open_reads};
  auto exits = fd_watch::start("ballast-exits");
  if (!exits) {
    log::error("agent", "jobs: ", exits.err().message);
    std::_Exit(1);
  }
  auto jobs = spawn_job_supervisor(sys,
                                   {std::make_shared<jobs_context>(jobs_context{
                                        ctx->cgroup_root, ctx->proc.root(), std::move(*exits),
                                        ctx->triggers, sup, ctx->metrics}),
                                    default_job_shim()},
                                   cfg);
  auto control = spawn_control(sys, sup,
                               {ctx->cgroup_root, ctx->proc.root(),
                                std::chrono::steady_clock::now(), std::move(gate), jobs});
  if (auto port =
          publish_control(sys, control, cfg.control_address, cfg.control_port, tls.enabled())) {
    log::info("agent", "control on ", cfg.control_address, ":", *port,
              tls.enabled() ? " (TLS)" : "");
  } else {
    log::error("agent", port.err().message);
    fatal->store(true);
    ::kill(::getpid(), SIGTERM);
  }
  for (;;) {
    int sig = sigwaitinfo(&set, nullptr);
    if (sig == SIGHUP)
      reload(opts, sup, *ctx->metrics, cfg);
    else if (sig == SIGTERM || sig == SIGINT)
      break;
  }
  log::info("agent", "stopping: restoring knobs (deadline ", cfg.shutdown_deadline.count(), " ms)");
  bool in_time = shutdown(sys, sup, cfg.shutdown_deadline);
  ::unlink(cfg.control_cookie.c_str()); // nobody can prove anything to a stopped agent
  if (in_time)
    log::info("agent", "stopped");
  std::fflush(nullptr);
  std::_Exit(in_time && !fatal->load() ? 0 : 1);
}

} // namespace

int run_agent(agent_options opts) {
  auto &cfg = opts.cfg;
  cfg.dry_run = cfg.dry_run || opts.force_dry_run;
  auto set = agent_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr); // before any thread exists

  auto root = sys::discover_cgroup2_mount();
  if (!root) {
    log::error("agent", root.err().message);
    return 1;
  }
  auto metrics = std::make_shared<agent_metrics>();
  auto exposer = serve_metrics(cfg, *metrics);
  if (!exposer)
    return 1;

  auto ctx = std::make_shared<cgroup_context>();
  ctx->cgroup_root = *root;
  ctx->metrics = metrics;
  auto j = journal::open(cfg.journal_path);
  if (!j) {
    log::error("agent", j.err().message, ": without a journal knob restores are not crash-safe");
    return 1;
  }
  // The secret that a change over the control interface must carry: only
  // root and the control group can read the file (see sys/cookie.hpp).
  auto cookie = sys::write_cookie(cfg.control_cookie, cfg.control_group);
  if (!cookie) {
    log::error("agent", "control: ", cookie.err().message, ": no change could be authorized");
    return 1;
  }
  if (!cookie->warning.empty())
    log::warn("agent", "control: ", cookie->warning);
  auto replayed = replay_journal(*j, {*root, ""}, *metrics, cfg.dry_run);
  ctx->knob_journal = std::make_shared<journal>(std::move(*j));
  ctx->writer = std::make_shared<knob_writer>(knob_writer_threads);
  if (auto w = file_watch::start())
    ctx->files = std::move(*w);
  else
    log::warn("agent", w.err().message,
              ": OOM kills are seen only when a policy samples the cgroup");
  if (auto t = psi_triggers::start())
    ctx->triggers = std::move(*t);
  else
    log::warn("agent", t.err().message, ": policies step on their interval only");

  log::info("agent", "ballastd ", BALLAST_VERSION, " on cgroup2 at ", *root, ", config ",
            config::config_hash(cfg), ", metrics on ", cfg.metrics_address, ":", cfg.metrics_port,
            cfg.dry_run ? ", dry-run (no knob is written)" : "", ", journal replay restored ",
            replayed.restored);

  run_actors(opts, cfg, ctx, set, cookie->secret);
}

} // namespace ballast
