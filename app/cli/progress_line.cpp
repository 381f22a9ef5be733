#include "app/cli/progress_line.h"

#include <unistd.h>

#include <cstdio>
#include <iomanip>
#include <sstream>

namespace gs::cli {

ProgressLine::ProgressLine() : terminal_(isatty(STDERR_FILENO) != 0) {}

void ProgressLine::show(const std::string& phase, const std::string& text, bool phase_done) {
    const auto now = std::chrono::steady_clock::now();
    const bool new_phase = phase != phase_;
    phase_ = phase;
    last_text_ = text;
    if (terminal_) {
        std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), phase_done ? "\n" : "");
    } else if (new_phase || phase_done || now - last_line_ >= std::chrono::duration<double>(kLogIntervalSeconds)) {
        std::fprintf(stderr, "%s\n", text.c_str());
        last_line_ = now;
    }
    std::fflush(stderr);
}

void ProgressLine::warn(const std::string& text) {
    if (terminal_) {
        std::fprintf(stderr, "\r\033[Kwarning: %s\n%s", text.c_str(), last_text_.c_str());
    } else {
        std::fprintf(stderr, "warning: %s\n", text.c_str());
    }
    std::fflush(stderr);
}

std::string clock_text(double seconds) {
    if (seconds < 0) return "?";
    std::ostringstream out;
    const auto s = static_cast<int64_t>(seconds);
    out << s / 3600 << ":" << std::setw(2) << std::setfill('0') << s / 60 % 60 << ":" << std::setw(2) << s % 60;
    return out.str();
}

}  // namespace gs::cli
