#ifndef RUNNEL_BENCH_HEAP_H
#define RUNNEL_BENCH_HEAP_H

#include <stddef.h>

/// The bytes the C allocator has handed out and not had back (arenas and mapped blocks), for
/// the benchmark's memory scenario; 0 where the C library cannot say. glibc's `mallinfo2` is
/// declared in <malloc.h>, which Swift's Glibc module does not import.
size_t runnel_bench_heap_in_use(void);

#endif
