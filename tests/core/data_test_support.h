// Helpers for the data pipeline tests; free of torch so that data tests compile quickly.
#pragma once

#include <cstdint>
#include <string>

#include "core/tokenizer/tokenizer.h"

namespace gs::test {

inline std::string resource_path(const std::string& relative) { return std::string(GS_RESOURCE_DIR) + "/" + relative; }

// The default Korean corpus committed under resources/corpus.
inline std::string korean_corpus_path() { return resource_path("corpus/ko-httpd-manual.jsonl"); }

void write_text(const std::string& path, const std::string& text);
void write_gzip(const std::string& path, const std::string& text);

// A unigram tokenizer of kKoreanVocab pieces trained on the default Korean corpus; trained once
// and kept in the build folder, since every test runs in its own process under CTest.
constexpr int64_t kKoreanVocab = 2000;
const Tokenizer& korean_tokenizer();

// GS_SHARED_DATA_DIR (the shared Korean task data), or "" when unset.
std::string shared_data_dir();

}  // namespace gs::test
