// Threads that must not take the CPU from the engine's loop, which carries every conversation's
// audio: the SIP stack's own thread (signalling tolerates milliseconds, audio does not) and the
// worker that checks desktop passwords (each check is ~0.1 s of deliberate hashing). On a busy
// machine the kernel then runs the loop first. Lowering a thread's priority needs no privilege.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace outpace {

// The kernel's ids of this process's threads.
inline std::set<long> thread_ids() {
    std::set<long> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec))
        out.insert(std::strtol(e.path().filename().c_str(), nullptr, 10));
    return out;
}

// Lowers thread `tid` (0: the calling one) by `steps` of nice, and names it for top and perf
// (at most 15 characters). Failures are harmless and ignored.
inline void lower_thread(long tid, int steps, const char* name) {
    if (tid == 0) tid = ::syscall(SYS_gettid);
    const int now = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), now + steps);
    std::ofstream("/proc/self/task/" + std::to_string(tid) + "/comm") << name;
}

}  // namespace outpace
