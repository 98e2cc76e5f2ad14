// CRC-32C with the CPU's instruction, for the log's RecordBatch checksums. Swift cannot reach
// these intrinsics, so this small C target does; Runnel falls back to a table when the CPU
// lacks them (see Sources/Runnel/Log/CRC32C.swift).
#include "runnel_crc32c.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int runnel_crc32c_has_hardware(void) {
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t runnel_crc32c_hardware(uint32_t state, const void *data, size_t length) {
    const unsigned char *bytes = (const unsigned char *)data;
    uint64_t crc = state;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        crc = _mm_crc32_u64(crc, word);
        bytes += 8;
        length -= 8;
    }
    uint32_t crc32 = (uint32_t)crc;
    while (length > 0) {
        crc32 = _mm_crc32_u8(crc32, *bytes);
        bytes += 1;
        length -= 1;
    }
    return crc32;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#include <arm_acle.h>

int runnel_crc32c_has_hardware(void) {
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0;
}

__attribute__((target("crc")))
uint32_t runnel_crc32c_hardware(uint32_t state, const void *data, size_t length) {
    const unsigned char *bytes = (const unsigned char *)data;
    uint32_t crc = state;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        crc = __crc32cd(crc, word);
        bytes += 8;
        length -= 8;
    }
    while (length > 0) {
        crc = __crc32cb(crc, *bytes);
        bytes += 1;
        length -= 1;
    }
    return crc;
}

#else

int runnel_crc32c_has_hardware(void) {
    return 0;
}

uint32_t runnel_crc32c_hardware(uint32_t state, const void *data, size_t length) {
    (void)data;
    (void)length;
    return state;
}

#endif
