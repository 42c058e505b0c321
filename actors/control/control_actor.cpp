#include "actors/control/control_actor.hpp"

#include "actors/control/watchers.hpp"

#include "actors/policies/policy.hpp"
#include "ballast_version.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"

#include <caf/all.hpp>

#include <mutex>

namespace ballast {

namespace {

using namespace std::chrono_literals;
constexpr auto internal_timeout = 5s;
constexpr int32_t control_priority = 1000;  // a freeze from an operator wins

struct control_state {
  static constexpr const char* name = "control";

  supervisor_actor supervisor;
  control_env env;
  std::shared_ptr<watchers> watching = std::make_shared<watchers>();

  // Not an aggregate: CAF would try to build the state from its actor pointer.
  control_state() = default;
  ~control_state() { log::set_listener({}); }
};

using control_self = control_actor::stateful_pointer<control_state>;

// The highest "some" avg10 of cpu, memory and io at the top of each watched
// subtree: the part of an include glob before its first wildcard ("/**"
// is the whole host: /proc/pressure).
double watched_pressure(const control_env& env, const config::agent& cfg) {
  double worst = 0;
  for (auto& glob : cfg.watch_include) {
    auto top = glob.substr(0, glob.find_first_of("*?"));
    top = top.substr(0, top.rfind('/'));
    for (auto r : {"cpu", "memory", "io"}) {
      auto file = top.empty() ? env.proc_root + "/pressure/" + r
                              : sys::join_cgroup_path(env.cgroup_root, top) + "/" + r + ".pressure";
      auto text = sys::read_small_file(file);
      auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
      if (psi)
        worst = std::max(worst, psi->some.avg10);
    }
  }
  return worst;
}

// Runs `then(registry, config)` with what the supervisor holds; errors go to rp.
template <class Promise, class F>
void with_config(control_self self, Promise rp, F then) {
  self->request(self->state.supervisor, internal_timeout, atom::config_v)
    .then([=](caf::actor& reg, config::agent& cfg) mutable {
            then(caf::actor_cast<registry_actor>(reg), std::move(cfg));
          },
          [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
}

// Runs `then(cgroup_actor)` for a confined, watched path; errors go to rp.
template <class Promise, class F>
void with_cgroup(control_self self, Promise rp, const std::string& path, F then) {
  auto confined = sys::confine_cgroup_path(self->state.env.cgroup_root, path);
  if (!confined) {
    rp.deliver(caf::make_error(caf::sec::invalid_argument, "refused: " + confined.err().message));
    return;
  }
  with_config(self, rp, [=](registry_actor reg, config::agent) mutable {
    self->request(reg, internal_timeout, atom::find_v, path)
      .then([=](caf::actor& cg) mutable { then(caf::actor_cast<cgroup_actor>(cg)); },
            [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
  });
}

// Validates and applies `next` through the supervisor. The control settings
// in force stay: they change with a restart only.
apply_result apply(control_self self, config::agent running, config::agent next) {
  if (next.control_address != running.control_address || next.control_port != running.control_port ||
      next.tls_certificate != running.tls_certificate || next.tls_key != running.tls_key ||
      next.tls_ca != running.tls_ca)
    log::warn("control", "the new config changes the control listener or TLS: that takes a restart");
  next.control_address = running.control_address;
  next.control_port = running.control_port;
  next.tls_certificate = running.tls_certificate;
  next.tls_key = running.tls_key;
  next.tls_ca = running.tls_ca;
  auto hash = config::config_hash(next);
  log::info("control", "applying config ", hash, " (", next.policies.size(), " policies",
            next.dry_run ? ", dry-run" : "", ")");
  self->send(self->state.supervisor, atom::reload_v, std::move(next));
  return {true, {}, hash};
}

caf::result<agent_status> status(control_self self) {
  auto rp = self->make_response_promise<agent_status>();
  with_config(self, rp, [=](registry_actor reg, config::agent cfg) mutable {
    self->request(reg, internal_timeout, atom::list_v)
      .then([=](std::vector<cgroup_status>& all) mutable {
              agent_status s;
              s.version = BALLAST_VERSION;
              s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                         self->state.env.started).count();
              s.config_hash = config::config_hash(cfg);
              s.dry_run = cfg.dry_run;
              s.cgroups = all.size();
              for (auto& c : all) {
                s.policies += c.policies.size();
                s.claims += c.claims.size();
              }
              s.pressure = watched_pressure(self->state.env, cfg);
              rp.deliver(s);
            },
            [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
  });
  return rp;
}

caf::result<std::vector<policy_info>> policies(control_self self) {
  auto rp = self->make_response_promise<std::vector<policy_info>>();
  with_config(self, rp, [=](registry_actor reg, config::agent cfg) mutable {
    self->request(reg, internal_timeout, atom::list_v)
      .then([=](std::vector<cgroup_status>& all) mutable {
              std::vector<policy_info> out;
              for (auto& p : cfg.policies) {
                auto type = find_policy_type(p.type);
                policy_info info{p.name, p.type, to_string(type->scope), p.interval.count(), 0};
                for (auto& c : all)
                  for (auto& live : c.policies)
                    info.live += live.rfind(p.name + ":", 0) == 0;
                if (type->scope == policy_scope::group)
                  info.live = 1;
                out.push_back(std::move(info));
              }
              rp.deliver(std::move(out));
            },
            [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
  });
  return rp;
}

control_actor::behavior_type control(control_self self, supervisor_actor supervisor,
                                     control_env env) {
  self->state.supervisor = std::move(supervisor);
  self->state.env = std::move(env);
  log::set_listener([w = self->state.watching](log::level l, std::string_view source,
                                               std::string_view text) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
    w->send({"", ms, l == log::level::info ? "info" : l == log::level::warn ? "warn" : "error",
             std::string(source), std::string(text)});
  });
  self->set_down_handler([=](caf::down_msg& dm) { self->state.watching->drop(dm.source); });
  return {
    [=](atom::status) { return status(self); },
    [=](atom::cgroups) {
      auto rp = self->make_response_promise<std::vector<cgroup_status>>();
      with_config(self, rp, [=](registry_actor reg, config::agent) mutable {
        rp.delegate(reg, atom::list_v);
      });
      return rp;
    },
    [=](atom::policies) { return policies(self); },
    [=](atom::dry_run) {
      auto rp = self->make_response_promise<bool>();
      with_config(self, rp, [=](registry_actor, config::agent cfg) mutable { rp.deliver(cfg.dry_run); });
      return rp;
    },
    [=](atom::dry_run, bool on) {
      auto rp = self->make_response_promise<apply_result>();
      with_config(self, rp, [=](registry_actor, config::agent cfg) mutable {
        auto next = cfg;
        next.dry_run = on;
        rp.deliver(apply(self, std::move(cfg), std::move(next)));
      });
      return rp;
    },
    [=](atom::apply, std::string& text) {
      auto rp = self->make_response_promise<apply_result>();
      auto checked = check_config(text);
      if (!checked.value) {
        apply_result refused;
        for (auto& e : checked.errors)
          refused.errors.push_back(e.to_string());
        log::warn("control", "config refused: ", refused.errors.front(),
                  refused.errors.size() > 1 ? " (and more)" : "");
        rp.deliver(std::move(refused));
        return rp;
      }
      with_config(self, rp, [=, next = std::move(*checked.value)](registry_actor, config::agent cfg) mutable {
        rp.deliver(apply(self, std::move(cfg), std::move(next)));
      });
      return rp;
    },
    [=](atom::config) {
      auto rp = self->make_response_promise<config::agent>();
      with_config(self, rp, [=](registry_actor, config::agent cfg) mutable { rp.deliver(std::move(cfg)); });
      return rp;
    },
    [=](atom::apply, config::agent& next) {
      auto rp = self->make_response_promise<apply_result>();
      if (auto errors = check_policies(next); !errors.empty()) {
        apply_result refused;
        for (auto& e : errors)
          refused.errors.push_back(e.to_string());
        rp.deliver(std::move(refused));
        return rp;
      }
      with_config(self, rp, [=](registry_actor, config::agent cfg) mutable {
        rp.deliver(apply(self, std::move(cfg), std::move(next)));
      });
      return rp;
    },
    [=](atom::freeze, std::string& path) {
      auto rp = self->make_response_promise<bool>();
      with_cgroup(self, rp, path, [=](cgroup_actor cg) mutable {
        self->request(cg, internal_timeout,
                      claim_request{"cgroup.freeze", "1", control_priority, "control: freeze"})
          .then([=](claim_reply&) mutable { rp.deliver(true); },
                [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
      });
      return rp;
    },
    [=](atom::thaw, std::string& path) {
      auto rp = self->make_response_promise<bool>();
      with_cgroup(self, rp, path, [=](cgroup_actor cg) mutable {
        self->send(cg, atom::release_v, std::string("cgroup.freeze"));
        rp.deliver(true);
      });
      return rp;
    },
    [=](atom::release, std::string& path) {
      auto rp = self->make_response_promise<uint64_t>();
      with_cgroup(self, rp, path, [=](cgroup_actor cg) mutable {
        log::info("control", "releasing every claim on ", path);
        rp.delegate(cg, atom::release_v, atom::all_v);
      });
      return rp;
    },
    [=](atom::watch) { return self->state.watching->add_sender(self); },
    [=](atom::tick) {},  // the coordinator's timer; nothing to do here
    [=](atom::tick, uint64_t) {},
    [=](atom::fleet) -> caf::result<fleet_status> {
      return caf::make_error(caf::sec::invalid_argument, "this is an agent, not a coordinator");
    },
    [=](fleet_apply&) -> caf::result<fleet_apply_result> {
      return caf::make_error(caf::sec::invalid_argument, "this is an agent, not a coordinator");
    },
  };
}

} // namespace

control_actor spawn_control(caf::actor_system& sys, supervisor_actor supervisor, control_env env) {
  return sys.spawn(control, std::move(supervisor), std::move(env));
}

} // namespace ballast
