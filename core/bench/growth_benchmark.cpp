#include "core/bench/growth_benchmark.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/growth/t5_growth.h"

namespace gs {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double peak_resident_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) * 1024.0;  // kilobytes on Linux
}

}  // namespace

GrowthBenchmarkResult run_growth_benchmark(const T5Config& source_config, const T5Config& target_config,
                                           const GrowthOptions& options, int repeats) {
    GrowthBenchmarkResult result;
    T5Model source(source_config);
    result.source_parameters = source->parameter_count();
    // The first growth measures memory: the peak is monotonic, so later repeats cannot raise it.
    const double before = peak_resident_bytes();
    result.grow_seconds = std::numeric_limits<double>::infinity();
    for (int r = 0; r < std::max(1, repeats); ++r) {
        auto start = std::chrono::steady_clock::now();
        const GrowthPlan plan = plan_growth(source_config, target_config, options);
        result.plan_seconds = seconds_since(start);
        start = std::chrono::steady_clock::now();
        T5Model grown = grow_t5_model(source, plan);
        result.grow_seconds = std::min(result.grow_seconds, seconds_since(start));
        result.target_parameters = grown->parameter_count();
        if (r == 0) result.peak_extra_bytes = peak_resident_bytes() - before;
    }
    result.target_bytes = static_cast<double>(result.target_parameters) * sizeof(float);
    return result;
}

}  // namespace gs
