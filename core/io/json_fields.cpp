#include "core/io/json_fields.h"

#include <sstream>

namespace gs {

namespace {

std::string listed(const std::set<std::string>& names) {
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
    return list;
}

}  // namespace

JsonFields::JsonFields(const nlohmann::json& json, std::string source, std::string prefix)
    : json_(json), source_(std::move(source)), prefix_(std::move(prefix)) {
    if (!json_.is_object()) fail("", "expected an object");
}

JsonFields::JsonFields(const nlohmann::json& json, std::string source, std::string prefix,
                       const std::set<std::string>& known)
    : JsonFields(json, std::move(source), std::move(prefix)) {
    for (const auto& [key, value] : json_.items()) {
        if (!known.count(key)) fail(key, "unknown field (expected one of " + listed(known) + ")");
    }
}

void JsonFields::fail(const std::string& key, const std::string& message) const {
    const std::string field = "field '" + (key.empty() ? prefix_ : path(key)) + "': " + message;
    throw std::invalid_argument(source_.empty() ? field : source_ + ": " + field);
}

void JsonFields::text(const std::string& key, std::string& target) const {
    if (!has(key)) return;
    if (!at(key).is_string()) fail(key, "expected a string");
    target = at(key).get<std::string>();
}

void JsonFields::flag(const std::string& key, bool& target) const {
    if (!has(key)) return;
    if (!at(key).is_boolean()) fail(key, "expected true or false");
    target = at(key).get<bool>();
}

void JsonFields::number(const std::string& key, double& target, double minimum) const {
    if (!has(key)) return;
    if (!at(key).is_number() || at(key).get<double>() < minimum) {
        std::ostringstream bound;
        bound << minimum;  // "0", "1", "0.5": not std::to_string's "0.000000"
        fail(key, "expected a number >= " + bound.str());
    }
    target = at(key).get<double>();
}

void JsonFields::choice(const std::string& key, std::string& target, const std::set<std::string>& allowed) const {
    text(key, target);
    if (has(key) && !allowed.count(target)) fail(key, "'" + target + "', expected one of " + listed(allowed));
}

std::string JsonFields::with_source(const std::string& key, const std::string& message) const {
    if (source_.empty() || message.rfind(source_, 0) == 0) return message;
    return source_ + ": " + (message.rfind("field", 0) == 0 ? message : "field '" + path(key) + "': " + message);
}

}  // namespace gs
