// Shared helpers for the engine tests.
#pragma once

#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>

#include "tolerance.h"

namespace gs::test {

inline std::string data_path(const std::string& relative) { return std::string(GS_TEST_DATA_DIR) + "/" + relative; }

// A fresh empty folder under the system temp folder, removed when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

double max_abs_diff(const at::Tensor& a, const at::Tensor& b);

// What summation order can change between two trainings of tests/data/experiments/tiny_T_d_S.json
// (one process or several, one kernel or another): its larger stage S, its batch, its peak
// learning rate (tolerance.h).
TrainingBounds tiny_experiment_bounds(int64_t gradient_accumulation = 1);

}  // namespace gs::test
