/* A slow disk for benchmarks, where device-mapper's dm-delay and cgroup v2's io controller are
 * not available (a container): preloaded into the engine (LD_PRELOAD), every fsync, fdatasync
 * and sync_file_range first sleeps SLOW_SYNC_MS milliseconds (default 200), as a write that must
 * reach a slow or busy disk would, then does the real one. Counts them and says so at exit.
 * Built by bench/agents.sh (gcc -shared -fPIC). Not part of the engine; never installed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_long delayed;
static long delay_ms = 200;

__attribute__((constructor)) static void start(void) {
    const char* v = getenv("SLOW_SYNC_MS");
    if (v) delay_ms = atol(v);
}

static void slow(void) {
    struct timespec t = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
    atomic_fetch_add(&delayed, 1);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow();
    return real(fd);
}

int sync_file_range(int fd, off_t offset, off_t n, unsigned int flags) {
    static int (*real)(int, off_t, off_t, unsigned int);
    if (!real) real = (int (*)(int, off_t, off_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
    slow();
    return real(fd, offset, n, flags);
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "slow_sync: %ld syncs each delayed by %ld ms\n", atomic_load(&delayed),
            delay_ms);
}
