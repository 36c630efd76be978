/* pktgen.h - build SCTP packets (optionally inside IPv4 / IPv6) for unit tests.
 *
 * Chunks are values: a helper returns a struct pktgen_chunk holding the chunk's type,
 * flags and value bytes, so a test writes its packet as an array:
 *
 *	struct pktgen_chunk c[] = {
 *		pktgen_data(100, 0, 0, 0, "hello", 5),
 *		pktgen_sack(99, 65536),
 *	};
 *	uint8_t buf[PKTGEN_MAX];
 *	size_t n = pktgen_sctp(buf, sizeof(buf), 5000, 7, 0x11223344, c, 2);
 *	n = pktgen_ipv4(buf, sizeof(buf), n, "10.0.0.5", "203.0.113.2", 0);
 *
 * pktgen_sctp writes the common header and the chunks (each padded to 4 bytes with
 * zeros) and fills in a correct CRC32c (little-endian in the field, as on the wire).
 * The code is independent of src/pkt.c (only crc32c() is shared), so tests of pkt.c
 * are not checking the code against itself. Misuse (a value too long for a chunk, an
 * address that does not parse) aborts: this is test code. */
#ifndef SCTPGW_TESTS_PKTGEN_H
#define SCTPGW_TESTS_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKTGEN_CHUNK_MAX 4096 /* value bytes one chunk may hold */
#define PKTGEN_MAX 65536      /* a buffer size that fits anything pktgen builds */

struct pktgen_chunk {
	uint8_t type;
	uint8_t flags;
	uint16_t len; /* bytes used in value (the chunk length is len + 4, before padding) */
	uint8_t value[PKTGEN_CHUNK_MAX];
};

/* Any chunk: type, flags and value bytes as given. */
struct pktgen_chunk pktgen_raw(uint8_t type, uint8_t flags, const void *value, size_t len);

/* Append a TLV (type, length = 4 + len, value) to a chunk's value: an INIT / INIT-ACK
 * parameter, an ABORT / ERROR cause, a HEARTBEAT info. The previous TLV is padded to 4
 * bytes first; the last one's padding is left to the chunk padding (RFC 9260 3.2). */
void pktgen_add_param(struct pktgen_chunk *c, uint16_t type, const void *value, size_t len);

/* Append an IPv4 (type 5) or IPv6 (type 6) address parameter from a numeric string. */
void pktgen_add_addr(struct pktgen_chunk *c, const char *addr);

/* INIT: initiate tag, a_rwnd, outbound streams, max inbound streams, initial TSN, and
 * naddrs address parameters from the numeric strings in addrs (may be NULL / 0). */
struct pktgen_chunk pktgen_init(uint32_t itag, uint32_t a_rwnd, uint16_t os, uint16_t mis,
				uint32_t tsn, const char *const *addrs, unsigned naddrs);

/* INIT-ACK: as INIT, then a State Cookie parameter (type 7) when cookie_len > 0. */
struct pktgen_chunk pktgen_init_ack(uint32_t itag, uint32_t a_rwnd, uint16_t os, uint16_t mis,
				    uint32_t tsn, const char *const *addrs, unsigned naddrs,
				    const void *cookie, size_t cookie_len);

/* DATA, unfragmented (B and E flags): TSN, stream id, stream sequence, PPID, payload. */
struct pktgen_chunk pktgen_data(uint32_t tsn, uint16_t sid, uint16_t ssn, uint32_t ppid,
				const void *payload, size_t len);

/* SACK with no gap blocks and no duplicate TSNs. */
struct pktgen_chunk pktgen_sack(uint32_t cum_tsn, uint32_t a_rwnd);

/* ABORT with the T flag as given and no error cause (add one with pktgen_add_param). */
struct pktgen_chunk pktgen_abort(bool t_bit);

struct pktgen_chunk pktgen_shutdown(uint32_t cum_tsn);
struct pktgen_chunk pktgen_shutdown_ack(void);
struct pktgen_chunk pktgen_shutdown_complete(bool t_bit);
struct pktgen_chunk pktgen_cookie_echo(const void *cookie, size_t len);
struct pktgen_chunk pktgen_cookie_ack(void);
/* HEARTBEAT / HEARTBEAT-ACK carrying one Heartbeat Info parameter (type 1). */
struct pktgen_chunk pktgen_heartbeat(const void *info, size_t len);
struct pktgen_chunk pktgen_heartbeat_ack(const void *info, size_t len);

/* Write an SCTP packet (common header + n chunks, CRC32c filled in) at buf. Returns its
 * length, or 0 when it does not fit in cap. */
size_t pktgen_sctp(uint8_t *buf, size_t cap, uint16_t sport, uint16_t dport, uint32_t vtag,
		   const struct pktgen_chunk *chunks, unsigned n);

/* Recompute the CRC32c of an SCTP packet after a test edited it. */
void pktgen_sctp_fix_crc(uint8_t *sctp, size_t len);

/* Prepend an IP header to the len payload bytes at buf (they move up by 20 / 40 bytes):
 * protocol 132, TTL / hop limit 64, IPv4 with DF and a correct header checksum. src and
 * dst are numeric addresses of the right family. Returns the new length, or 0 when it
 * does not fit in cap or exceeds 65535. */
size_t pktgen_ipv4(uint8_t *buf, size_t cap, size_t len, const char *src, const char *dst,
		   uint8_t tos);
size_t pktgen_ipv6(uint8_t *buf, size_t cap, size_t len, const char *src, const char *dst,
		   uint8_t tclass);

#endif
