#include "actors/control/control_actor.hpp"

#include "actors/control/watchers.hpp"
#include "actors/jobs/admission.hpp"

#include "actors/policies/policy.hpp"
#include "ballast_version.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/cookie.hpp"
#include "sys/identity.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"

#include <caf/all.hpp>

#include <map>
#include <mutex>
#include <tuple>

namespace ballast {

namespace {

using namespace std::chrono_literals;
constexpr auto internal_timeout = 5s;
constexpr int32_t control_priority = 1000; // a freeze from an operator wins
constexpr auto challenge_lifetime = 10s;

struct control_state {
  static constexpr const char *name = "control";

  supervisor_actor supervisor;
  control_env env;
  std::shared_ptr<watchers> watching = std::make_shared<watchers>();
  // Nonces handed out for identity proofs, each good once until it expires.
  std::map<std::string, std::chrono::steady_clock::time_point> challenges;

  // Not an aggregate: CAF would try to build the state from its actor pointer.
  control_state() = default;
  ~control_state() { log::set_listener({}); }
};

using control_self = control_actor::stateful_pointer<control_state>;

// The highest "some" avg10 of cpu, memory and io at the top of each watched
// subtree: the part of an include glob before its first wildcard ("/**"
// is the whole host: /proc/pressure).
double watched_pressure(const control_env &env, const config::agent &cfg) {
  double worst = 0;
  for (auto &glob : cfg.watch_include) {
    auto top = glob.substr(0, glob.find_first_of("*?"));
    top = top.substr(0, top.rfind('/'));
    for (auto r : {"cpu", "memory", "io"}) {
      auto file = top.empty() ? env.proc_root + "/pressure/" + r
                              : sys::join_cgroup_path(env.cgroup_root, top) + "/" +
                                    std::string(sys::files::pressure(r));
      auto text = sys::read_small_file(file);
      auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
      if (psi)
        worst = std::max(worst, psi->some.avg10);
    }
  }
  return worst;
}

// Runs `then(registry, config)` with what the supervisor holds; errors go to rp.
template <class Promise, class F> void with_config(control_self self, Promise rp, F then) {
  self->request(self->state.supervisor, internal_timeout, atom::config_v)
      .then(
          [=](caf::actor &reg, config::agent &cfg) mutable {
            then(caf::actor_cast<registry_actor>(reg), std::move(cfg));
          },
          [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
}

// Refuses a path that leads outside the cgroup2 root; true when refused.
template <class Promise>
bool refuse_outside_root(control_self self, Promise &rp, const std::string &path) {
  auto confined = sys::confine_cgroup_path(self->state.env.cgroup_root, path);
  if (!confined)
    rp.deliver(caf::make_error(caf::sec::invalid_argument, "refused: " + confined.err().message));
  return !confined;
}

// Runs `then(cgroup_actor, dry_run)` for a confined, watched path; errors go to rp.
template <class Promise, class F>
void with_cgroup(control_self self, Promise rp, const std::string &path, F then) {
  if (refuse_outside_root(self, rp, path))
    return;
  with_config(self, rp, [=](registry_actor reg, config::agent cfg) mutable {
    self->request(reg, internal_timeout, atom::find_v, path)
        .then([=](caf::actor &cg) mutable { then(caf::actor_cast<cgroup_actor>(cg), cfg.dry_run); },
              [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
  });
}

// Validates and applies `next` through the supervisor. The control settings
// in force stay: they change with a restart only.
apply_result apply(control_self self, config::agent running, config::agent next) {
  auto control_of = [](auto &a) {
    return std::tie(a.control_address, a.control_port, a.tls_certificate, a.tls_key, a.tls_ca,
                    a.control_cookie, a.control_group, a.control_open_reads);
  };
  if (control_of(next) != control_of(running))
    log::warn("control",
              "the new config changes the control listener, TLS or access: that takes a restart");
  control_of(next) = control_of(running);
  auto hash = config::config_hash(next);
  log::info("control", "applying config ", hash, " (", next.policies.size(), " policies",
            next.dry_run ? ", dry-run" : "", ")");
  self->send(self->state.supervisor, atom::reload_v, std::move(next));
  return {true, {}, hash};
}

caf::result<std::string> challenge(control_self self) {
  auto &c = self->state.challenges;
  auto now = std::chrono::steady_clock::now();
  std::erase_if(c, [&](auto &n) { return n.second < now; });
  auto nonce = sys::random_hex();
  if (!nonce)
    return caf::make_error(caf::sec::runtime_error, nonce.err().message);
  c.emplace(*nonce, now + challenge_lifetime);
  return *nonce;
}

// The uid a job request proves (sys/identity.hpp). A TLS peer proved
// itself with its certificate and names the user to run as (--user).
result<uint32_t> client_uid(control_self self, const job_request &r) {
  if (self->state.env.gate.tls) {
    if (r.user.empty())
      return error{EINVAL, "--user: a job over TLS names the user it runs as"};
    return 0u;
  }
  auto &c = self->state.challenges;
  auto it = c.find(r.proof.nonce);
  if (it == c.end() || it->second < std::chrono::steady_clock::now())
    return error{EACCES, "the identity proof's nonce is unknown or expired: ask again"};
  c.erase(it);
  if (auto ok = sys::verify_identity(r.proof.uid, r.proof.path, r.proof.nonce); !ok)
    return ok.err();
  return r.proof.uid;
}

void status(control_self self, caf::typed_response_promise<agent_status> rp) {
  with_config(self, rp, [=](registry_actor reg, config::agent cfg) mutable {
    self->request(reg, internal_timeout, atom::list_v)
        .then(
            [=](std::vector<cgroup_status> &all) mutable {
              agent_status s;
              s.version = BALLAST_VERSION;
              s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                         self->state.env.started)
                               .count();
              s.config_hash = config::config_hash(cfg);
              s.dry_run = cfg.dry_run;
              s.cgroups = all.size();
              for (auto &c : all) {
                s.policies += c.policies.size();
                s.claims += c.claims.size();
              }
              s.pressure = watched_pressure(self->state.env, cfg);
              rp.deliver(s);
            },
            [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
  });
}

void policies(control_self self, caf::typed_response_promise<std::vector<policy_info>> rp) {
  with_config(self, rp, [=](registry_actor reg, config::agent cfg) mutable {
    self->request(reg, internal_timeout, atom::list_v)
        .then(
            [=](std::vector<cgroup_status> &all) mutable {
              std::vector<policy_info> out;
              for (auto &p : cfg.policies) {
                auto type = find_policy_type(p.type);
                policy_info info{p.name, p.type, to_string(type->scope), p.interval.count(), 0};
                for (auto &c : all)
                  for (auto &live : c.policies)
                    info.live += live.rfind(p.name + ":", 0) == 0;
                if (type->scope == policy_scope::group)
                  info.live = 1;
                out.push_back(std::move(info));
              }
              rp.deliver(std::move(out));
            },
            [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
  });
}

control_actor::behavior_type control(control_self self, supervisor_actor supervisor,
                                     control_env env) {
  self->state.supervisor = std::move(supervisor);
  self->state.env = std::move(env);
  log::set_listener([w = self->state.watching](log::level l, std::string_view source,
                                               std::string_view text, const log::event_data &e) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    w->send({"", ms,
             l == log::level::info   ? "info"
             : l == log::level::warn ? "warn"
                                     : "error",
             std::string(source), std::string(text), std::string(e.kind), e.fields});
  });
  self->set_down_handler([=](caf::down_msg &dm) { self->state.watching->drop(dm.source); });

  return {
      [=](const credential &who, atom::status) {
        auto rp = self->make_response_promise<agent_status>();
        if (!self->state.env.gate.refuse(rp, who, access::read, "status"))
          status(self, rp);
        return rp;
      },
      [=](const credential &who, atom::cgroups) {
        auto rp = self->make_response_promise<std::vector<cgroup_status>>();
        if (!self->state.env.gate.refuse(rp, who, access::read, "cgroups"))
          with_config(self, rp, [=](registry_actor reg, config::agent) mutable {
            rp.delegate(reg, atom::list_v);
          });
        return rp;
      },
      [=](const credential &who, atom::policies) {
        auto rp = self->make_response_promise<std::vector<policy_info>>();
        if (!self->state.env.gate.refuse(rp, who, access::read, "policies"))
          policies(self, rp);
        return rp;
      },
      [=](const credential &who, atom::dry_run) {
        auto rp = self->make_response_promise<bool>();
        if (!self->state.env.gate.refuse(rp, who, access::read, "dry-run"))
          with_config(self, rp,
                      [=](registry_actor, config::agent cfg) mutable { rp.deliver(cfg.dry_run); });
        return rp;
      },
      [=](const credential &who, atom::dry_run, bool on) {
        auto rp = self->make_response_promise<apply_result>();
        if (!self->state.env.gate.refuse(rp, who, access::change,
                                         on ? "dry-run on" : "dry-run off"))
          with_config(self, rp, [=](registry_actor, config::agent cfg) mutable {
            auto next = cfg;
            next.dry_run = on;
            rp.deliver(apply(self, std::move(cfg), std::move(next)));
          });
        return rp;
      },
      [=](const credential &who, atom::apply, std::string &text) {
        auto rp = self->make_response_promise<apply_result>();
        if (self->state.env.gate.refuse(rp, who, access::change, "apply"))
          return rp;
        auto checked = check_config(text);
        if (!checked.value) {
          apply_result refused;
          for (auto &e : checked.errors)
            refused.errors.push_back(e.to_string());
          log::warn("control", "config refused: ", refused.errors.front(),
                    refused.errors.size() > 1 ? " (and more)" : "");
          rp.deliver(std::move(refused));
          return rp;
        }
        with_config(
            self, rp,
            [=, next = std::move(*checked.value)](registry_actor, config::agent cfg) mutable {
              rp.deliver(apply(self, std::move(cfg), std::move(next)));
            });
        return rp;
      },
      [=](const credential &who, atom::config) {
        auto rp = self->make_response_promise<config::agent>();
        if (!self->state.env.gate.refuse(rp, who, access::read, "config"))
          with_config(self, rp, [=](registry_actor, config::agent cfg) mutable {
            rp.deliver(std::move(cfg));
          });
        return rp;
      },
      [=](const credential &who, atom::apply, config::agent &next) {
        auto rp = self->make_response_promise<apply_result>();
        if (self->state.env.gate.refuse(rp, who, access::change, "apply"))
          return rp;
        if (auto errors = compile_policies(next); !errors.empty()) {
          apply_result refused;
          for (auto &e : errors)
            refused.errors.push_back(e.to_string());
          rp.deliver(std::move(refused));
          return rp;
        }
        with_config(self, rp, [=](registry_actor, config::agent cfg) mutable {
          rp.deliver(apply(self, std::move(cfg), std::move(next)));
        });
        return rp;
      },
      [=](const credential &who, atom::freeze, std::string &path) {
        auto rp = self->make_response_promise<bool>();
        if (!self->state.env.gate.refuse(rp, who, access::change, "freeze"))
          with_cgroup(self, rp, path, [=](cgroup_actor cg, bool) mutable {
            self->request(cg, internal_timeout,
                          claim_request{std::string(knobs::cgroup_freeze.name), "1",
                                        control_priority, "control: freeze"})
                .then([=](claim_reply &r) mutable { rp.deliver(!r.dry_run); },
                      [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
          });
        return rp;
      },
      [=](const credential &who, atom::thaw, std::string &path) {
        auto rp = self->make_response_promise<bool>();
        if (!self->state.env.gate.refuse(rp, who, access::change, "thaw"))
          with_cgroup(self, rp, path, [=](cgroup_actor cg, bool dry_run) mutable {
            self->send(cg, atom::unclaim_v, std::string(knobs::cgroup_freeze.name));
            rp.deliver(!dry_run);
          });
        return rp;
      },
      [=](const credential &who, atom::release, std::string &path) {
        auto rp = self->make_response_promise<uint64_t>();
        if (self->state.env.gate.refuse(rp, who, access::change, "release") ||
            refuse_outside_root(self, rp, path))
          return rp;
        with_config(self, rp, [=](registry_actor reg, config::agent) mutable {
          log::info("control", "releasing every claim on ", path, "; its policies start afresh");
          rp.delegate(reg, atom::release_v, path);
        });
        return rp;
      },
      [=](const credential &who, atom::watch) -> caf::result<bool> {
        if (auto refusal = self->state.env.gate.check(who, access::read, "watch"))
          return refusal;
        return self->state.watching->add_sender(self);
      },
      [=](const credential &who, atom::challenge) -> caf::result<std::string> {
        if (auto refusal = self->state.env.gate.check(who, access::change, "run"))
          return refusal;
        return challenge(self);
      },
      [=](const credential &who, job_request &r) {
        auto rp = self->make_response_promise<job_info>();
        if (self->state.env.gate.refuse(rp, who, access::change, "run"))
          return rp;
        auto uid = client_uid(self, r);
        if (!uid)
          rp.deliver(caf::make_error(caf::sec::invalid_argument, "refused: " + uid.err().message));
        else
          rp.delegate(self->state.env.jobs, std::move(r), *uid);
        return rp;
      },
      [=](const credential &who, atom::jobs) {
        auto rp = self->make_response_promise<std::vector<job_info>>();
        if (!self->state.env.gate.refuse(rp, who, access::read, "jobs"))
          rp.delegate(self->state.env.jobs, atom::jobs_v);
        return rp;
      },
      [=](const credential &who, job_command &c) {
        auto rp = self->make_response_promise<job_info>();
        auto what = c.verb == "inspect" || c.verb == "wait" ? access::read : access::change;
        if (!c.rule.empty() || !c.reason.empty() || c.verb == "demote" || c.verb == "restore")
          rp.deliver(caf::make_error(caf::sec::invalid_argument,
                                     "refused: a rule, a reason, demote and restore are the "
                                     "agent's own response's"));
        else if (!self->state.env.gate.refuse(rp, who, what, c.verb))
          rp.delegate(self->state.env.jobs, std::move(c));
        return rp;
      },
      [=](const credential &who, atom::stats) {
        auto rp = self->make_response_promise<std::vector<pressure_line>>();
        if (!self->state.env.gate.refuse(rp, who, access::read, "stats")) {
          std::vector<pressure_line> lines;
          for (auto &[resource, l] : jobs::read_host_psi(self->state.env.proc_root))
            lines.push_back({resource, l.avg10, l.avg60, l.avg300, l.total_us});
          rp.deliver(std::move(lines));
        }
        return rp;
      },
      [=](const credential &who, job_log_cursor &at) {
        auto rp = self->make_response_promise<job_log_chunk>();
        if (!self->state.env.gate.refuse(rp, who, access::change, "logs"))
          rp.delegate(self->state.env.jobs, std::move(at));
        return rp;
      },
      [=](atom::tick) {}, // the coordinator's timer; nothing to do here
      [=](atom::tick, uint64_t) {},
      [=](const credential &, atom::fleet) -> caf::result<fleet_status> {
        return caf::make_error(caf::sec::invalid_argument, "this is an agent, not a coordinator");
      },
      [=](const credential &, fleet_apply &) -> caf::result<fleet_apply_result> {
        return caf::make_error(caf::sec::invalid_argument, "this is an agent, not a coordinator");
      },
  };
}

} // namespace

control_actor spawn_control(caf::actor_system &sys, supervisor_actor supervisor, control_env env) {
  return sys.spawn(control, std::move(supervisor), std::move(env));
}

} // namespace ballast
