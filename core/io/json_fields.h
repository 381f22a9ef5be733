// Reads the fields of one JSON object of a settings file, naming "file: field 'a.b'" in every
// error. Given the keys it knows, it refuses any other (a typo must not silently become a default).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace gs {

class JsonFields {
public:
    // `source` names the file ("" when the caller adds it); `prefix` is this object's path.
    JsonFields(const nlohmann::json& json, std::string source, std::string prefix);
    // Refuses any key but `known`.
    JsonFields(const nlohmann::json& json, std::string source, std::string prefix, const std::set<std::string>& known);

    bool has(const std::string& key) const { return json_.contains(key); }
    const nlohmann::json& at(const std::string& key) const { return json_.at(key); }
    std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

    [[noreturn]] void fail(const std::string& key, const std::string& message) const;

    void text(const std::string& key, std::string& target) const;
    void flag(const std::string& key, bool& target) const;
    void number(const std::string& key, double& target, double minimum) const;
    void choice(const std::string& key, std::string& target, const std::set<std::string>& allowed) const;
    // A whole number from `minimum` up to what `target` holds (a larger one would wrap around).
    template <typename Integer>
    void whole(const std::string& key, Integer& target, int64_t minimum) const {
        if (!has(key)) return;
        const nlohmann::json& value = at(key);
        if (!value.is_number_integer()) fail(key, "expected a whole number >= " + std::to_string(minimum));
        // nlohmann keeps a non-negative number unsigned, so it is compared as one.
        const bool below = value.is_number_unsigned()
                               ? minimum > 0 && value.get<uint64_t>() < static_cast<uint64_t>(minimum)
                               : value.get<int64_t>() < minimum;
        if (below) fail(key, "expected a whole number >= " + std::to_string(minimum));
        const uint64_t maximum = std::min<uint64_t>(std::numeric_limits<Integer>::max(), std::numeric_limits<int64_t>::max());
        if (value.is_number_unsigned() && value.get<uint64_t>() > maximum) {
            fail(key, value.dump() + " is too large (at most " + std::to_string(maximum) + ")");
        }
        target = static_cast<Integer>(value.get<int64_t>());
    }

    // Runs a nested reader, putting this file's name (and the field, when the message has none)
    // in front of its errors.
    template <typename Read>
    auto nested(const std::string& key, Read read) const -> decltype(read()) {
        try {
            return read();
        } catch (const std::invalid_argument& error) {
            throw std::invalid_argument(with_source(key, error.what()));
        }
    }

private:
    std::string with_source(const std::string& key, const std::string& message) const;

    const nlohmann::json& json_;
    std::string source_;
    std::string prefix_;
};

}  // namespace gs
