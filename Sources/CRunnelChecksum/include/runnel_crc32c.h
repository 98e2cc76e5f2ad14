#ifndef RUNNEL_CRC32C_H
#define RUNNEL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction (x86-64 SSE4.2, or the ARMv8 CRC extension).
int runnel_crc32c_has_hardware(void);

/// Continues a CRC-32C over `length` bytes with the CPU instruction. `state` is the running,
/// not yet inverted register (start with 0xFFFFFFFF; invert the result at the end).
/// Only call when runnel_crc32c_has_hardware() returned 1.
uint32_t runnel_crc32c_hardware(uint32_t state, const void *data, size_t length);

#endif
