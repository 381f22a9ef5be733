# Third-party dependencies, all from Debian 12 packages (scripts/install-deps.sh installs them).

find_package(Torch REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
# 0.1.97: EncodeAsImmutableProto, whose piece offsets map answers back to the text (fine-tuning).
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece>=0.1.97)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
# Parquet pages (core/io/parquet.cpp): SNAPPY is the default codec of most writers; ZSTD is
# read when libzstd-dev is installed.
pkg_check_modules(SNAPPY REQUIRED IMPORTED_TARGET snappy)
pkg_check_modules(ZSTD IMPORTED_TARGET libzstd)
# The downstream metrics lower-case and split text as Python does (core/eval/unicode_text.cpp);
# ICU 70 is the first with Unicode 14.0, the version Python 3.11 knows.
find_package(ICU 70 REQUIRED COMPONENTS uc)

# TorchConfig exports its flags (the C++ ABI define) as a string, not on a target. The flags go
# wherever core's interface goes (a std::string passed to core must have LibTorch's ABI); torch's
# headers only where gs_torch is linked: core's own sources, the CLI's benchmarks and the engine
# tests, never ui/ (tests/layering checks it).
add_library(gs_torch_abi INTERFACE)
separate_arguments(GS_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(gs_torch_abi INTERFACE ${GS_TORCH_CXX_FLAGS})
add_library(gs_torch INTERFACE)
target_link_libraries(gs_torch INTERFACE ${TORCH_LIBRARIES} gs_torch_abi)
# Debian's TorchConfig does not add the C++ frontend's include folder on every version.
foreach(dir IN ITEMS ${TORCH_INCLUDE_DIRS})
  if(EXISTS "${dir}/torch/csrc/api/include")
    target_include_directories(gs_torch SYSTEM INTERFACE "${dir}/torch/csrc/api/include")
  endif()
endforeach()
target_include_directories(gs_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

if(NOT GS_CORE_ONLY)
  find_package(Qt6 6.2 REQUIRED COMPONENTS Core Gui Widgets PrintSupport Svg Test)
  find_package(QCustomPlotQt6 REQUIRED)
endif()

if(GS_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
