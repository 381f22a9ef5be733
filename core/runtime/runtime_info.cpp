#include "core/runtime/runtime_info.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <sqlite3.h>
#include <torch/cuda.h>
#include <torch/version.h>

#ifdef GS_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace gs {

namespace {

// The file a dynamic symbol was loaded from, with links resolved.
std::string library_of_symbol(const char* symbol) {
    void* address = dlsym(RTLD_DEFAULT, symbol);
    Dl_info info{};
    if (!address || !dladdr(address, &info) || !info.dli_fname) return "";
    char resolved[PATH_MAX];
    return realpath(info.dli_fname, resolved) ? std::string(resolved) : std::string(info.dli_fname);
}

std::string describe_blas() {
    using ConfigFunction = char* (*)();
    if (auto openblas_config = reinterpret_cast<ConfigFunction>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
        return std::string(openblas_config()) + " (" + library_of_symbol("sgemm_") + ")";
    }
    const std::string library = library_of_symbol("sgemm_");
    if (!library.empty()) {
        // Debian's reference BLAS lives in .../blas/libblas.so.3 and is ~20x slower.
        const bool reference = library.find("/blas/") != std::string::npos;
        return (reference ? "reference BLAS (slow; install libopenblas0-openmp) " : "BLAS ") + library;
    }
    if (at::hasMKL()) return "Intel MKL (linked into LibTorch)";
    return "none found";
}

std::vector<AcceleratorInfo> cuda_devices() {
    std::vector<AcceleratorInfo> devices;
    if (!torch::cuda::is_available()) return devices;
    const int count = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < count; ++i) {
        AcceleratorInfo info;
        info.index = i;
#ifdef GS_WITH_CUDA
        cudaDeviceProp properties{};
        if (cudaGetDeviceProperties(&properties, i) == cudaSuccess) {
            info.name = properties.name;
            info.total_memory_bytes = static_cast<int64_t>(properties.totalGlobalMem);
        }
        size_t free_bytes = 0, total_bytes = 0;
        if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
            info.free_memory_bytes = static_cast<int64_t>(free_bytes);
        }
#else
        info.name = "CUDA device (memory unknown: built without the CUDA runtime headers)";
#endif
        devices.push_back(info);
    }
    return devices;
}

}  // namespace

RuntimeInfo collect_runtime_info() {
    RuntimeInfo info;
#ifdef GS_VERSION
    info.app_version = GS_VERSION;
#endif
    info.libtorch_version = TORCH_VERSION;
#ifdef GS_SENTENCEPIECE_VERSION
    info.sentencepiece_version = GS_SENTENCEPIECE_VERSION;
#endif
#ifdef GS_WITH_CUDA
    int runtime_version = 0;
    if (cudaRuntimeGetVersion(&runtime_version) == cudaSuccess) {
        info.cuda_version = std::to_string(runtime_version / 1000) + "." + std::to_string(runtime_version % 1000 / 10);
    }
#endif
    info.sqlite_version = sqlite3_libversion();
    info.cpu_threads = at::get_num_threads();
    info.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
    info.blas = describe_blas();
    info.mkldnn = at::hasMKLDNN();
    info.cuda_devices = cuda_devices();
    return info;
}

void configure_allocator() {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's largest: bigger blocks are always mapped
    mallopt(M_TRIM_THRESHOLD, INT_MAX);  // about 2 GB
    mallopt(M_TOP_PAD, 512 * 1024 * 1024);
}

void configure_threads(int threads) {
    if (threads < 0) throw std::invalid_argument("thread count must be 0 (all cores) or positive");
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    at::set_num_threads(threads);
}

std::string resolve_device_name(const std::string& requested) {
    if (requested == "cpu") return "cpu";
    if (requested == "auto" || requested.empty()) return torch::cuda::is_available() ? "cuda:0" : "cpu";
    if (requested.rfind("cuda", 0) == 0) {
        int index = 0;
        if (requested.size() > 4) {
            if (requested[4] != ':' || requested.size() == 5) throw std::invalid_argument("device '" + requested + "': expected cuda:N");
            char* end = nullptr;
            index = static_cast<int>(std::strtol(requested.c_str() + 5, &end, 10));
            if (*end != '\0' || index < 0) throw std::invalid_argument("device '" + requested + "': expected cuda:N");
        }
        const int available = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
        if (index >= available) {
            throw std::invalid_argument("device '" + requested + "': this machine has " + std::to_string(available) +
                                        " CUDA device(s)");
        }
        return "cuda:" + std::to_string(index);
    }
    throw std::invalid_argument("device '" + requested + "': expected cpu, cuda, cuda:N or auto");
}

namespace {

// The free and total memory of "cuda" or "cuda:N"; false when it cannot be read.
bool cuda_memory(const std::string& device, size_t& free_bytes, size_t& total_bytes) {
#ifdef GS_WITH_CUDA
    const int index = device.size() > 5 ? std::stoi(device.substr(5)) : 0;
    return cudaSetDevice(index) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess;
#else
    (void)device, (void)free_bytes, (void)total_bytes;
    return false;
#endif
}

}  // namespace

int64_t memory_in_use_bytes(const std::string& device) {
    if (device.rfind("cuda", 0) == 0) {
        size_t free_bytes = 0, total_bytes = 0;
        return cuda_memory(device, free_bytes, total_bytes) ? static_cast<int64_t>(total_bytes - free_bytes) : 0;
    }
    // /proc/self/statm: size, then resident pages.
    FILE* file = std::fopen("/proc/self/statm", "r");
    if (!file) return 0;
    long long size = 0, resident = 0;
    const int read = std::fscanf(file, "%lld %lld", &size, &resident);
    std::fclose(file);
    return read == 2 ? resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

int64_t memory_capacity_bytes(const std::string& device) {
    if (device.rfind("cuda", 0) == 0) {
        size_t free_bytes = 0, total_bytes = 0;
        return cuda_memory(device, free_bytes, total_bytes) ? static_cast<int64_t>(total_bytes) : 0;
    }
    return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

std::string host_name() {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return name;
}

}  // namespace gs
