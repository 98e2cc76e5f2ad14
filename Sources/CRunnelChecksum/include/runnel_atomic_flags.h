#ifndef RUNNEL_ATOMIC_FLAGS_H
#define RUNNEL_ATOMIC_FLAGS_H

#include <stdint.h>

/// One-byte flags shared between threads without a lock: a KV reader marks each block of a
/// mapped file once its checksum has been checked, and every thread reading the block after
/// that skips the check. Swift has no atomic access to an element of a raw buffer, so these
/// two lines do it.
static inline uint8_t runnel_flag_load(const uint8_t *flag) {
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static inline void runnel_flag_store(uint8_t *flag, uint8_t value) {
    __atomic_store_n(flag, value, __ATOMIC_RELEASE);
}

#endif
