// Questions BPF sources ask of the kernel's BTF before they load, so that a
// program this kernel cannot attach is left out with a reason instead of
// failing the whole load.
#pragma once

struct btf;

namespace ballast {

// Whether this kernel has the raw tracepoint `name` (its btf_trace_ typedef,
// as libbpf looks it up to attach tp_btf programs). False without BTF.
bool has_tracepoint(const btf *vmlinux, const char *name);

} // namespace ballast
