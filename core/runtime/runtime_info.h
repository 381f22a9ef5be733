// What the engine runs on: library versions, devices, BLAS and thread settings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gs {

struct AcceleratorInfo {
    int index = 0;
    std::string name;
    int64_t total_memory_bytes = 0;
    int64_t free_memory_bytes = 0;
};

struct RuntimeInfo {
    std::string app_version;
    std::string libtorch_version;
    std::string cuda_version;           // empty when LibTorch was built without CUDA
    std::string sentencepiece_version;  // the version the project was built against
    std::string sqlite_version;
    int cpu_threads = 0;                // threads LibTorch uses for intra-op work
    int hardware_threads = 0;
    std::string blas;                   // the BLAS library actually loaded
    bool mkldnn = false;
    std::vector<AcceleratorInfo> cuda_devices;
};

RuntimeInfo collect_runtime_info();

// Sets LibTorch's intra-op (and OpenMP/BLAS) thread count; 0 means one per hardware thread.
// Debian's LibTorch starts with a single thread, so every executable calls this at start-up.
void configure_threads(int threads = 0);

// glibc's allocator hands every block of 32 MB or more (attention scores, activations) back to
// the kernel when it is freed, so each training step pays page faults for memory it used a step
// before: 10-15 % of a Small step on the CPU. Keeping freed memory in the heap (trimmed only
// above 2 GB) and growing it in 512 MB steps removes most of that; the price is that the process
// keeps up to 2 GB it no longer uses. Called once at start-up.
void configure_allocator();

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when present). Throws std::invalid_argument for an
// unknown name or a CUDA device that is not there.
std::string resolve_device_name(const std::string& requested);

// This machine's name, as runs record it (RunRecord::host).
std::string host_name();

// Memory in use on a device: the process's resident memory for "cpu", the device's used memory
// (all processes) for "cuda:N"; 0 when it cannot be read.
int64_t memory_in_use_bytes(const std::string& device);

// The memory a device has: physical RAM for "cpu", the device's memory for "cuda:N"; 0 when it
// cannot be read.
int64_t memory_capacity_bytes(const std::string& device);

}  // namespace gs
