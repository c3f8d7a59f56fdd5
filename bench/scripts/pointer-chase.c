/* What a dependent random read costs on this machine: a random cyclic walk through an array of
 * SIZE_MIB mebibytes (with HUGE 1, backed by transparent huge pages where the kernel gives them).
 * Identity rebuilds, links and lookups are bound by exactly this, so it says how far a run's
 * figures can be compared with another machine's (BENCHMARKS.md).
 *   gcc -O2 -o /tmp/pointer-chase bench/scripts/pointer-chase.c
 *   for m in 4 32 1024; do /tmp/pointer-chase $m 0; done; /tmp/pointer-chase 1024 1 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pointer-chase SIZE_MIB HUGE(0|1)\n");
        return 2;
    }
    size_t count = (size_t)atol(argv[1]) * 1024 * 1024 / sizeof(uint64_t);
    uint64_t *next = mmap(NULL, count * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (next == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    if (atoi(argv[2])) {
        madvise(next, count * sizeof(uint64_t), MADV_HUGEPAGE);
    }
    /* Sattolo's shuffle of the identity: one cycle through every element, in a fixed-seed order. */
    for (size_t i = 0; i < count; i++) {
        next[i] = i;
    }
    uint64_t state = 12345;
    for (size_t i = count - 1; i > 0; i--) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t j = (state >> 17) % i;
        uint64_t swap = next[i];
        next[i] = next[j];
        next[j] = swap;
    }
    const int steps = 5000000;
    size_t at = 0;
    double start = seconds();
    for (int i = 0; i < steps; i++) {
        at = next[at];
    }
    double elapsed = seconds() - start;
    printf("%s MiB, huge pages %s: %.1f ns per dependent read (%zu)\n", argv[1], argv[2], elapsed / steps * 1e9, at & 1);
    return 0;
}
