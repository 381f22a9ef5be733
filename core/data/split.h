// The deterministic train/validation split by document, as in the study (199:1). Each document
// is placed by a hash of the seed and its text, so the split does not depend on the order of
// the files, and adding files never moves a document that was already there (identical
// documents land together, so a duplicate cannot leak from train into validation).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/common/hash.h"

namespace gs {

struct SplitOptions {
    uint32_t train_parts = 199;
    uint32_t validation_parts = 1;
    uint64_t seed = 0;
};

// "TRAIN:VALIDATION" (two whole numbers above 0, e.g. "199:1") into `split`; false when it is
// not that. A part of 0 would leave the run nothing to train on or nothing to validate with.
inline bool parse_split_ratio(const std::string& text, SplitOptions& split) {
    unsigned train = 0, validation = 0;
    char rest = 0;
    if (text.find('-') != std::string::npos) return false;  // %u would wrap a negative number around
    if (std::sscanf(text.c_str(), "%u:%u%c", &train, &validation, &rest) != 2) return false;
    if (train == 0 || validation == 0) return false;
    split.train_parts = train;
    split.validation_parts = validation;
    return true;
}

inline bool is_validation_document(std::string_view text, const SplitOptions& split) {
    const uint64_t parts = uint64_t(split.train_parts) + split.validation_parts;
    return hash_text(text, split.seed ^ 0x5d1e7a11d0c5ULL) % parts < split.validation_parts;
}

}  // namespace gs
