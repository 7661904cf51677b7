#include "core/thread_placement.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cbtrade {

namespace {
pid_t current_tid() noexcept {
    return static_cast<pid_t>(::syscall(SYS_gettid));
}
}  // namespace

std::vector<int> allowed_cores() {
    std::vector<int> out;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) out.push_back(c);
    }
    if (out.empty()) {
        const long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (int c = 0; c < std::max(1L, n); ++c) out.push_back(c);
    }
    return out;
}

bool core_allowed(int core) {
    const std::vector<int> cores = allowed_cores();
    return std::find(cores.begin(), cores.end(), core) != cores.end();
}

PlacementOutcome pin_current_thread(int core) {
    if (core < 0 || core >= CPU_SETSIZE) return {false, "core " + std::to_string(core) + " does not exist"};
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0) return {false, "cannot pin to core " + std::to_string(core) + ": " + std::strerror(rc)};
    return {true, "pinned to core " + std::to_string(core)};
}

PlacementOutcome make_current_thread_background() {
    sched_param param{};
    param.sched_priority = 0;
    if (sched_setscheduler(current_tid(), SCHED_IDLE, &param) == 0) return {true, "SCHED_IDLE"};
    const int idle_errno = errno;
    // setpriority on a thread id changes that thread only (Linux keeps nice per thread).
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(current_tid()), 19) == 0) return {true, "nice 19"};
    return {false, std::string("cannot lower the priority (SCHED_IDLE: ") + std::strerror(idle_errno) +
                       ", nice 19: " + std::strerror(errno) + ")"};
}

PlacementOutcome try_realtime_priority(int priority) {
    if (priority < 1 || priority > 99)
        return {false, "real-time priority " + std::to_string(priority) + " is outside 1..99"};
    sched_param param{};
    param.sched_priority = priority;
    const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    if (rc == 0) return {true, "SCHED_FIFO priority " + std::to_string(priority)};
    return {false, "real-time priority refused (" + std::string(std::strerror(rc)) +
                       "): needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least " + std::to_string(priority) +
                       " (e.g. LimitRTPRIO= in the systemd unit); running at normal priority"};
}

void name_current_thread(const std::string& name) noexcept {
    char buf[16] = {};
    std::strncpy(buf, name.c_str(), sizeof buf - 1);
    (void)pthread_setname_np(pthread_self(), buf);
}

}  // namespace cbtrade
