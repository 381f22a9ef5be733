// Progress on stderr for a user who waits: on a terminal one line rewritten in place; in a log
// (stderr a file or a pipe) a new line when a phase starts or ends and at most every
// kLogIntervalSeconds in between, so that a log shows steady progress without a line per step.
#pragma once

#include <chrono>
#include <string>

namespace gs::cli {

class ProgressLine {
public:
    static constexpr double kLogIntervalSeconds = 10;

    ProgressLine();
    bool terminal() const { return terminal_; }
    // `text` for `phase`; `phase_done`: its last report, always shown and ended with a newline.
    void show(const std::string& phase, const std::string& text, bool phase_done = false);
    // A line of its own ("warning: ..."), always shown; on a terminal the progress line is redrawn after it.
    void warn(const std::string& text);

private:
    bool terminal_;
    std::string phase_;
    std::string last_text_;
    std::chrono::steady_clock::time_point last_line_;
};

// "0:03:25", or "?" for a negative (unknown) time.
std::string clock_text(double seconds);

}  // namespace gs::cli
