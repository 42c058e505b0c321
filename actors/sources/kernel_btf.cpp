#include "actors/sources/kernel_btf.hpp"

#include <bpf/btf.h>

#include <string>

namespace ballast {

bool has_tracepoint(const btf *vmlinux, const char *name) {
  return vmlinux && btf__find_by_name_kind(vmlinux, (std::string("btf_trace_") + name).c_str(),
                                           BTF_KIND_TYPEDEF) >= 0;
}

} // namespace ballast
