#include "app/cli/arguments.h"

namespace gs::cli {

Arguments::Arguments(const std::vector<std::string>& words, const ArgumentSpec& command_spec) {
    ArgumentSpec spec = command_spec;
    spec.options.insert("threads");
    spec.flags.insert("help");
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        if (word.rfind("--", 0) != 0) {
            positional_.push_back(word);
            continue;
        }
        const std::string name = word.substr(2);
        if (spec.flags.count(name)) {
            flags_.insert(name);
        } else if (spec.options.count(name)) {
            if (i + 1 >= words.size()) throw UsageError("option --" + name + " needs a value");
            values_[name] = words[++i];
        } else {
            throw UsageError("unknown option " + word);
        }
    }
    if (integer("threads", 0) < 0) throw UsageError("option --threads: expected a whole number >= 0 (0: every core)");
    if (flags_.count("help")) throw HelpRequested();
}

bool Arguments::has(const std::string& name) const { return values_.count(name) || flags_.count(name); }

std::string Arguments::text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

std::string Arguments::required(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw UsageError("option --" + name + " is required");
    return it->second;
}

namespace {

// The whole text must be a number: "12abc" is an error, not 12.
template <typename Number, typename Parse>
Number parse_whole(const std::string& name, const std::string& text, Parse parse, const char* what) {
    try {
        size_t used = 0;
        const Number value = parse(text, &used);
        if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
    throw UsageError("option --" + name + ": '" + text + "' is not " + what);
}

}  // namespace

int64_t Arguments::integer(const std::string& name, int64_t fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    return parse_whole<int64_t>(name, it->second, [](const std::string& t, size_t* used) { return std::stoll(t, used); },
                                "an integer");
}

double Arguments::real(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    return parse_whole<double>(name, it->second, [](const std::string& t, size_t* used) { return std::stod(t, used); },
                               "a number");
}

}  // namespace gs::cli
