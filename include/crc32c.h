/* crc32c.h - CRC32c (Castagnoli) as SCTP uses it (RFC 9260 appendix B). */
#ifndef SCTPGW_CRC32C_H
#define SCTPGW_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * crc32c(0, buf, len) is the standard CRC32c of buf (crc32c(0, "123456789", 9) ==
 * 0xE3069283); chaining works: crc32c(crc32c(0, a, la), b, lb) == crc32c(0, a||b).
 * The dispatching version picks the SSE4.2 instruction when the CPU has it.
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len);
/* Only valid when crc32c_hw_available(). */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);
bool crc32c_hw_available(void);
/* "sse4.2" or "portable": what crc32c() uses. */
const char *crc32c_impl_name(void);

#endif
