// A stand-in for libnvidia-ml.so.1 in tests: the NVML entry points the GPU
// source uses, over devices, processes and utilization samples a test sets
// through the functions below. Built as a shared library and loaded by
// path, as the real one is; tests link it too, to reach these setters.
#pragma once

extern "C" {
// No devices, nothing set; nvmlInit returns init_result (0: success).
void fake_nvml_reset(int init_result);
void fake_nvml_add_device(unsigned domain, unsigned bus, unsigned device);
// A process with a context on a device (compute, or graphics when
// graphics != 0), using memory bytes (~0ULL: not available).
void fake_nvml_add_process(unsigned device, unsigned pid, unsigned long long memory, int graphics);
void fake_nvml_clear_processes(unsigned device);
// One utilization sample, in percent.
void fake_nvml_add_sample(unsigned device, unsigned pid, unsigned long long timestamp_us,
                          unsigned sm, unsigned enc, unsigned dec);
// Whether nvmlShutdown was called since the last nvmlInit.
int fake_nvml_shut_down();
}
