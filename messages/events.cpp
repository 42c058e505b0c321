// Label values for event kinds.
#include "messages/events.hpp"

namespace ballast {

const char *to_string(event_kind k) {
  switch (k) {
  case event_kind::cgroup_mkdir:
    return "cgroup_mkdir";
  case event_kind::cgroup_rmdir:
    return "cgroup_rmdir";
  case event_kind::attach:
    return "attach";
  case event_kind::exec:
    return "exec";
  case event_kind::exit:
    return "exit";
  }
  return "unknown";
}

} // namespace ballast
