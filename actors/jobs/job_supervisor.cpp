// See job_supervisor.hpp.
#include "actors/jobs/job_supervisor.hpp"

#include "actors/fan_out.hpp"
#include "actors/jobs/admission.hpp"
#include "actors/jobs/job_cgroup.hpp"
#include "actors/jobs/job_checks.hpp"
#include "actors/jobs/job_events.hpp"
#include "actors/jobs/job_response.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/spawn.hpp"

#include <caf/all.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast {

namespace {

using namespace std::chrono_literals;
constexpr auto queue_recheck = 1s;

struct queued_job {
  job_request request;
  uint32_t uid;
  std::chrono::steady_clock::time_point deadline;
  caf::typed_response_promise<job_info> rp;
};

struct job_supervisor_state {
  static constexpr const char *name = "job_supervisor";

  job_supervisor_env env;
  config::agent cfg;
  std::map<std::string, job_actor> jobs;
  std::vector<queued_job> queue;

  job_supervisor_state() = default;
};

using supervisor_self = job_supervisor_actor::stateful_pointer<job_supervisor_state>;

caf::error refused(std::string why) {
  return caf::make_error(caf::sec::invalid_argument, "refused: " + std::move(why));
}

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct account {
  uint32_t uid = 0, gid = 0;
  std::string name, home;
};

// The account a job runs as: `user` (root only), else the client's uid.
result<account> run_as(const job_request &r, uint32_t client_uid) {
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (!r.user.empty()) {
    if (client_uid != 0)
      return error{EPERM, "--user: only root may run a job as another user"};
    getpwnam_r(r.user.c_str(), &pw, buf, sizeof buf, &found);
    if (!found)
      return error{ENOENT, "--user: no user " + r.user};
  } else {
    getpwuid_r(client_uid, &pw, buf, sizeof buf, &found);
    if (!found) // a uid without a name still runs, with its uid as group
      return account{client_uid, client_uid, std::to_string(client_uid), "/"};
  }
  return account{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir};
}

// The job's environment: a login's basics, then its --env.
std::vector<std::string> job_env(const job_request &r, const account &a) {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + a.home,
      "USER=" + a.name, "LOGNAME=" + a.name, "BALLAST_JOB_ID=" + r.id};
  env.insert(env.end(), r.env.begin(), r.env.end());
  return env;
}

std::vector<std::string> shim_argv(const std::string &shim, const std::string &dir,
                                   const job_request &r, const account &a, uint64_t log_max) {
  std::vector<std::string> argv = {shim,
                                   "--dir",
                                   dir,
                                   "--log-max",
                                   std::to_string(log_max),
                                   "--uid",
                                   std::to_string(a.uid),
                                   "--gid",
                                   std::to_string(a.gid)};
  if (!r.cwd.empty())
    argv.insert(argv.end(), {"--cwd", r.cwd});
  if (!r.service.empty())
    argv.insert(argv.end(), {"--service", r.service});
  argv.push_back("--");
  argv.insert(argv.end(), r.argv.begin(), r.argv.end());
  return argv;
}

// Every check that needs no cgroup: the request's own, the ID, the paths.
std::vector<std::string> preflight(supervisor_self self, const job_request &r) {
  auto problems = jobs::check_request(r);
  auto &q = self->state.queue;
  if (self->state.jobs.count(r.id) ||
      std::any_of(q.begin(), q.end(), [&](auto &j) { return j.request.id == r.id; }))
    problems.push_back("--id: " + r.id + " is in use");
  for (auto &p : r.require_paths)
    if (::access(p.c_str(), F_OK) < 0)
      problems.push_back("--require-path: " + p + ": " + std::strerror(errno));
  return problems;
}

// Creates the cgroup and the directory, starts the shim, spawns the actor.
result<job_info> start(supervisor_self self, const job_request &r, uint32_t client_uid) {
  auto &st = self->state;
  auto who = run_as(r, client_uid);
  if (!who)
    return who.err();
  auto dir = st.cfg.jobs_dir + "/" + r.id;
  std::error_code ec;
  std::filesystem::create_directories(st.cfg.jobs_dir, ec);
  if (::mkdir(dir.c_str(), 0700) < 0)
    return errno == EEXIST ? error{EEXIST, "--id: " + r.id + " is in use (" + dir + " exists)"}
                           : errno_error(errno, "mkdir", dir);
  auto undo_dir = [&] { std::filesystem::remove_all(dir, ec); };
  auto cgroup = jobs::create_job_cgroup(st.env.ctx->cgroup_root, st.cfg.jobs_root, r.id, r.limits);
  if (!cgroup) {
    undo_dir();
    return cgroup.err();
  }
  auto cgroup_path = sys::join_cgroup_path(st.env.ctx->cgroup_root, *cgroup);
  auto undo_cgroup = [&] { ::rmdir(cgroup_path.c_str()); };
  int cgfd = ::open(cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) {
    auto e = errno_error(errno, "open", cgroup_path);
    undo_cgroup();
    undo_dir();
    return e;
  }
  jobs::job_record rec{r, who->uid, who->gid, *cgroup, 0, 0, false, unix_ms()};
  rec.request.proof = {};
  // The signals the shim forwards to the job wait until it is ready to.
  auto spawned = sys::spawn_in_cgroup({shim_argv(st.env.shim, dir, r, *who, st.cfg.jobs_log_max),
                                       job_env(r, *who),
                                       cgfd,
                                       {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}});
  ::close(cgfd);
  if (!spawned) {
    undo_cgroup();
    undo_dir();
    return spawned.err();
  }
  rec.shim_pid = spawned->pid;
  rec.into_cgroup = spawned->into_cgroup;
  if (auto stat = sys::procfs(st.env.ctx->proc_root).stat(spawned->pid))
    rec.shim_start_ticks = stat->starttime_ticks;
  if (auto w = jobs::write_record(dir, rec); !w)
    log::error("jobs", "job ", r.id, ": ", w.err().message, ": a restarted agent will not find it");
  jobs::event(log::level::info, "job.start", r.id,
              {{"cgroup", *cgroup},
               {"uid", std::to_string(who->uid)},
               {"priority", std::to_string(r.priority)},
               {"shim_pid", std::to_string(spawned->pid)}},
              "job ", r.id, " started in ", *cgroup, " as uid ", who->uid,
              spawned->into_cgroup ? "" : " (fork + cgroup.procs: no clone3 into a cgroup here)");
  auto job = spawn_job(self->system(), st.env.ctx, dir, std::move(rec), spawned->pidfd, true);
  self->monitor(job);
  st.jobs.emplace(r.id, job);
  job_info i;
  i.id = r.id;
  i.state = "running";
  i.cgroup = *cgroup;
  i.argv = r.argv;
  i.uid = who->uid;
  i.priority = r.priority;
  i.into_cgroup = spawned->into_cgroup;
  return i;
}

// A bad request: counted, told to watchers, answered.
void refuse_request(supervisor_self self, const job_request &r, const std::string &why,
                    caf::typed_response_promise<job_info> &rp) {
  self->state.env.ctx->metrics->jobs().refused("request");
  jobs::event(log::level::warn, "job.refused", r.id, {{"reason", "request"}, {"why", why}}, "job ",
              r.id, " refused: ", why);
  rp.deliver(refused(why));
}

// Admits, queues or refuses; true when the request is settled (rp delivered).
bool try_start(supervisor_self self, const job_request &r, uint32_t uid,
               caf::typed_response_promise<job_info> &rp, bool may_queue) {
  auto why = jobs::refusal(self->state.cfg.jobs_admission, r.priority,
                           jobs::read_host_pressure(self->state.env.ctx->proc_root));
  if (why && may_queue)
    return false;
  auto &m = self->state.env.ctx->metrics->jobs();
  if (why) {
    auto pressure = why->substr(0, why->find(' ')); // "memory.some"
    jobs::event(log::level::warn, "job.refused", r.id, {{"reason", pressure}, {"why", *why}},
                "job ", r.id, " refused: ", *why);
    m.refused(pressure);
    rp.deliver(refused(*why));
    return true;
  }
  if (auto i = start(self, r, uid)) {
    m.started();
    rp.deliver(std::move(*i));
  } else {
    refuse_request(self, r, i.err().message, rp);
  }
  return true;
}

void recheck_queue(supervisor_self self) {
  auto &q = self->state.queue;
  auto now = std::chrono::steady_clock::now();
  for (auto it = q.begin(); it != q.end();) {
    // Past its deadline a queued job is started or refused now.
    bool expired = now >= it->deadline;
    if (try_start(self, it->request, it->uid, it->rp, !expired))
      it = q.erase(it);
    else
      ++it;
  }
  if (!q.empty())
    self->delayed_send(self, queue_recheck, atom::tick_v);
}

void submit(supervisor_self self, job_request r, uint32_t uid,
            caf::typed_response_promise<job_info> rp) {
  if (auto problems = preflight(self, r); !problems.empty()) {
    std::string all;
    for (auto &p : problems)
      all += (all.empty() ? "" : "; ") + p;
    refuse_request(self, r, all, rp);
    return;
  }
  if (try_start(self, r, uid, rp, r.queue))
    return;
  auto wait = std::chrono::milliseconds(r.queue_timeout_ms);
  log::info("jobs", "job ", r.id, " queued until pressure falls (at most ", wait.count(), " ms)");
  if (self->state.queue.empty())
    self->delayed_send(self, queue_recheck, atom::tick_v);
  self->state.queue.push_back({std::move(r), uid, std::chrono::steady_clock::now() + wait, rp});
}

// Takes back every job in jobs.dir: its shim still running (the same
// process: pid and start time), or ended while no agent was looking.
void adopt(supervisor_self self) {
  auto &st = self->state;
  std::error_code ec;
  for (auto &entry : std::filesystem::directory_iterator(st.cfg.jobs_dir, ec)) {
    auto dir = entry.path().string();
    auto rec = jobs::read_record(dir);
    if (!rec) {
      log::warn("jobs", "not a job, left alone: ", rec.err().message);
      continue;
    }
    int pidfd = -1;
    if (!jobs::read_end(dir)) {
      auto stat = sys::procfs(st.env.ctx->proc_root).stat(rec->shim_pid);
      auto fd = stat && stat->starttime_ticks == rec->shim_start_ticks
                    ? sys::open_pidfd(rec->shim_pid)
                    : result<int>(error{ESRCH, ""});
      pidfd = fd ? *fd : -1;
    }
    auto id = rec->request.id;
    log::info("jobs", "job ", id, " taken back", pidfd >= 0 ? " (running)" : " (ended)");
    auto job = spawn_job(self->system(), st.env.ctx, dir, std::move(*rec), pidfd, false);
    self->monitor(job);
    st.jobs.emplace(id, job);
  }
}

// Runs then(job) for a known ID; else "no job ID" to rp.
template <class Promise, class F>
void with_job(supervisor_self self, Promise &rp, const std::string &id, F then) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end())
    rp.deliver(caf::make_error(caf::sec::invalid_argument,
                               "refused: no job " + id + " (a cgroup is named by its path: /a/b)"));
  else
    then(it->second);
}

job_supervisor_actor::behavior_type job_supervisor(supervisor_self self, job_supervisor_env env,
                                                   config::agent cfg) {
  self->state.env = std::move(env);
  self->state.cfg = std::move(cfg);
  self->set_down_handler([=](caf::down_msg &dm) {
    auto &jobs = self->state.jobs;
    for (auto it = jobs.begin(); it != jobs.end(); ++it)
      if (it->second.address() == dm.source) {
        jobs.erase(it);
        break;
      }
  });
  adopt(self);
  self->link_to(spawn_job_response(self->system(), self->state.env.ctx,
                                   caf::actor_cast<job_supervisor_actor>(self), self->state.cfg));
  // One promise type per command: each delegates to the job's actor.
  auto by_id = [=](auto rp, const std::string &id, auto... msg) {
    with_job(self, rp, id, [&](job_actor j) { rp.delegate(j, msg...); });
    return rp;
  };
  return {
      [=](atom::tick) { recheck_queue(self); },
      [=](job_request &r, uint32_t uid) {
        auto rp = self->make_response_promise<job_info>();
        // The jobs config in force (root, dir, log cap, admission) for this job.
        self->request(self->state.env.ctx->supervisor, 5s, atom::config_v)
            .then(
                [=](caf::actor &, config::agent &cfg) mutable {
                  self->state.cfg = std::move(cfg);
                  submit(self, std::move(r), uid, rp);
                },
                [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
      [=](atom::jobs) {
        auto rp = self->make_response_promise<std::vector<job_info>>();
        auto all = std::make_shared<std::vector<job_info>>();
        std::vector<job_actor> jobs;
        for (auto &[id, j] : self->state.jobs)
          jobs.push_back(j);
        fan_out<job_info>(
            self, jobs, job_command{"", "inspect"},
            [=](job_info &i) { all->push_back(std::move(i)); },
            [=]() mutable { rp.deliver(std::move(*all)); });
        return rp;
      },
      [=](job_command &c) { return by_id(self->make_response_promise<job_info>(), c.id, c); },
      [=](job_log_cursor &at) {
        return by_id(self->make_response_promise<job_log_chunk>(), at.id, at);
      },
      [=](atom::stop) {
        for (auto &[id, j] : self->state.jobs)
          self->send_exit(j, caf::exit_reason::user_shutdown);
        self->state.jobs.clear();
        self->quit();
        return atom::done_v;
      },
  };
}

} // namespace

std::string default_job_shim() {
  char exe[4096];
  auto n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string self = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "";
  return self.substr(0, self.rfind('/') + 1) + "ballast-job-shim";
}

job_supervisor_actor spawn_job_supervisor(caf::actor_system &sys, job_supervisor_env env,
                                          config::agent cfg) {
  return sys.spawn(job_supervisor, std::move(env), std::move(cfg));
}

} // namespace ballast
