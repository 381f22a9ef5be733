// Shared helpers for the engine tests.
#pragma once

#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>

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

}  // namespace gs::test
