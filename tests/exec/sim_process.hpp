// A cbtrade-sim child process for tests: started with arguments, its port read from the first stdout
// line ("listening 127.0.0.1:<port>"), stopped (SIGTERM, then SIGKILL) when the object goes, its
// stderr kept in a file for the exit statistics. The simulator's path comes from $CBTRADE_SIM.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cbtrade::test {

inline std::string sim_path() {
    const char* p = std::getenv("CBTRADE_SIM");
    return p ? p : "";
}

class SimProcess {
public:
    explicit SimProcess(std::vector<std::string> args) {
        char tmpl[] = "/tmp/cbtrade-sim-err-XXXXXX";
        const int err_fd = mkstemp(tmpl);
        if (err_fd < 0) throw std::runtime_error("mkstemp failed");
        stderr_path_ = tmpl;
        int out[2];
        if (pipe(out) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(out[1], 1);
            dup2(err_fd, 2);
            close(out[0]);
            close(out[1]);
            std::vector<std::string> all{sim_path()};
            all.insert(all.end(), args.begin(), args.end());
            std::vector<char*> argv;
            argv.reserve(all.size() + 1);
            for (auto& a : all) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(out[1]);
        close(err_fd);
        stdout_fd_ = out[0];
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            pollfd p{stdout_fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char c[256];
            const ssize_t n = read(stdout_fd_, c, sizeof c);
            if (n <= 0) break;
            line.append(c, static_cast<std::size_t>(n));
        }
        const std::string prefix = "listening 127.0.0.1:";
        if (line.rfind(prefix, 0) != 0) {
            stop();
            throw std::runtime_error("cbtrade-sim did not start: " + line + " / " + stderr_text());
        }
        port_ = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
    }
    ~SimProcess() {
        stop();
        std::remove(stderr_path_.c_str());
    }
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string base_url() const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/api/v3/brokerage";
    }

    // Stops the simulator (its exit statistics are then in stderr_text()).
    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        for (int i = 0; i < 50; ++i) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        if (stdout_fd_ >= 0) close(stdout_fd_);
        stdout_fd_ = -1;
    }
    [[nodiscard]] std::string stderr_text() const {
        std::ifstream in(stderr_path_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // The value of "name=<n>" in the exit statistics (after stop()), or -1.
    [[nodiscard]] long long stat(const std::string& name) const {
        const std::string text = stderr_text();
        const auto at = text.rfind(" " + name + "=") != std::string::npos ? text.rfind(" " + name + "=") + 1
                                                                          : text.rfind("\n" + name + "=") + 1;
        if (at == 0 || text.compare(at, name.size() + 1, name + "=") != 0) return -1;
        return std::stoll(text.substr(at + name.size() + 1));
    }

private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::uint16_t port_ = 0;
    std::string stderr_path_;
};

}  // namespace cbtrade::test
