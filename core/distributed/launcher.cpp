#include "core/distributed/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace gs {

namespace {

volatile std::sig_atomic_t g_forward = 0;

void remember_signal(int signal) { g_forward = signal; }

pid_t start_rank(const std::string& program, const std::vector<std::string>& arguments, int rank, int processes, int port) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("cannot start rank ") + std::to_string(rank) + ": " + std::strerror(errno));
    if (pid > 0) return pid;
    setenv("RANK", std::to_string(rank).c_str(), 1);
    setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
    setenv("WORLD_SIZE", std::to_string(processes).c_str(), 1);
    setenv("LOCAL_WORLD_SIZE", std::to_string(processes).c_str(), 1);
    setenv("MASTER_ADDR", "127.0.0.1", 1);
    setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
}

std::string describe(int status) {
    if (WIFSIGNALED(status)) {
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    }
    return "exited with code " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

int free_local_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    close(fd);
    if (!ok) throw std::runtime_error(std::string("no free port on 127.0.0.1: ") + std::strerror(errno));
    return ntohs(address.sin_port);
}

std::string current_executable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

int launch_local_ranks(const std::string& program, const std::vector<std::string>& arguments, int processes,
                       std::ostream& log) {
    const int port = free_local_port();
    std::signal(SIGINT, remember_signal);
    std::signal(SIGTERM, remember_signal);
    std::vector<pid_t> ranks;
    for (int rank = 0; rank < processes; ++rank) ranks.push_back(start_rank(program, arguments, rank, processes, port));

    using Clock = std::chrono::steady_clock;
    std::vector<int> codes(processes, -1);
    int running = processes, failed_rank = -1;
    Clock::time_point kill_at = Clock::time_point::max();
    while (running > 0) {
        if (g_forward) {
            for (int r = 0; r < processes; ++r) {
                if (codes[r] < 0) kill(ranks[r], g_forward);
            }
            g_forward = 0;
        }
        if (Clock::now() >= kill_at) {
            for (int r = 0; r < processes; ++r) {
                if (codes[r] < 0) kill(ranks[r], SIGKILL);
            }
        }
        int status = 0;
        const pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        for (int r = 0; r < processes; ++r) {
            if (ranks[r] != pid) continue;
            --running;
            codes[r] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            const bool failure = WIFSIGNALED(status) || (codes[r] != 0 && codes[r] != 3);
            if (failure && failed_rank < 0) {
                failed_rank = r;
                log << "rank " << r << " of " << processes << " (pid " << pid << ") " << describe(status)
                    << "; the run stops\n";
                kill_at = Clock::now() + std::chrono::seconds(30);
            }
        }
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (failed_rank >= 0) return codes[failed_rank] >= 128 ? 1 : codes[failed_rank];
    return codes[0];  // rank 0's: done (0) or paused (3)
}

}  // namespace gs
