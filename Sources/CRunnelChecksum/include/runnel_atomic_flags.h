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

/// A spin lock for critical sections of a few instructions (a KV store's "load the current
/// version and retain it"), where a mutex's call costs more than the work it guards.
static inline void runnel_spin_lock(uint32_t *lock) {
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#elif defined(__aarch64__)
            __asm__ __volatile__("yield");
#endif
        }
    }
}

static inline void runnel_spin_unlock(uint32_t *lock) {
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

#endif
