#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/runtime/runtime_info.h"

namespace gs::cli {

namespace {

std::string gibibytes(int64_t bytes) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0) << " GiB";
    return out.str();
}

nlohmann::json to_json(const RuntimeInfo& info) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& device : info.cuda_devices) {
        devices.push_back({{"index", device.index}, {"name", device.name}, {"total_memory_bytes", device.total_memory_bytes},
                           {"free_memory_bytes", device.free_memory_bytes}});
    }
    return {{"growthstudio", info.app_version}, {"libtorch", info.libtorch_version}, {"cuda", info.cuda_version},
            {"qt", nullptr}, {"sentencepiece", info.sentencepiece_version}, {"sqlite", info.sqlite_version},
            {"cpu_threads", info.cpu_threads}, {"hardware_threads", info.hardware_threads}, {"blas", info.blas},
            {"mkldnn", info.mkldnn}, {"cuda_devices", devices}};
}

}  // namespace

void apply_thread_option(const Arguments& args) {
    const int64_t threads = args.integer("threads", 0);
    if (threads < 0) throw UsageError("option --threads: must be 0 (all cores) or positive");
    configure_threads(static_cast<int>(threads));
}

int run_info(const Words& words) {
    Arguments args(words, {{"threads"}, {"json"}});
    apply_thread_option(args);
    const RuntimeInfo info = collect_runtime_info();
    if (args.has("json")) {
        std::cout << to_json(info).dump() << "\n";
        return 0;
    }
    std::cout << "GrowthStudio   " << info.app_version << "\n"
              << "LibTorch       " << info.libtorch_version << (info.cuda_version.empty() ? " (CPU build)" : "") << "\n";
    if (!info.cuda_version.empty()) std::cout << "CUDA runtime   " << info.cuda_version << "\n";
    std::cout << "Qt             not linked (headless tool)\n"
              << "sentencepiece  " << info.sentencepiece_version << "\n"
              << "SQLite         " << info.sqlite_version << "\n"
              << "BLAS           " << info.blas << "\n"
              << "oneDNN         " << (info.mkldnn ? "yes" : "no") << "\n"
              << "CPU            " << info.cpu_threads << " LibTorch threads of " << info.hardware_threads
              << " hardware threads\n";
    if (info.cuda_devices.empty()) std::cout << "CUDA devices   none\n";
    for (const auto& device : info.cuda_devices) {
        std::cout << "cuda:" << device.index << "         " << device.name;
        if (device.total_memory_bytes > 0) {
            std::cout << ", " << gibibytes(device.total_memory_bytes) << " (" << gibibytes(device.free_memory_bytes)
                      << " free)";
        }
        std::cout << "\n";
    }
    return 0;
}

}  // namespace gs::cli
