// libbpf's own messages go to the agent's log: warnings as warnings, the rest
// at debug level. Called by every BPF source before it opens its skeleton.
#pragma once

namespace ballast {

void route_libbpf_log();

} // namespace ballast
