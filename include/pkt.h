/* pkt.h - pure parsing and building of IPv4/IPv6 headers and SCTP packets.
 * No sockets, no globals, no logging: every function takes a buffer. */
#ifndef SCTPGW_PKT_H
#define SCTPGW_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define IPPROTO_SCTP_NUM 132
#define SCTP_COMMON_HDR_LEN 12

enum sctp_chunk_type {
	SCTP_CT_DATA = 0,
	SCTP_CT_INIT = 1,
	SCTP_CT_INIT_ACK = 2,
	SCTP_CT_SACK = 3,
	SCTP_CT_HEARTBEAT = 4,
	SCTP_CT_HEARTBEAT_ACK = 5,
	SCTP_CT_ABORT = 6,
	SCTP_CT_SHUTDOWN = 7,
	SCTP_CT_SHUTDOWN_ACK = 8,
	SCTP_CT_ERROR = 9,
	SCTP_CT_COOKIE_ECHO = 10,
	SCTP_CT_COOKIE_ACK = 11,
	SCTP_CT_ECNE = 12,
	SCTP_CT_CWR = 13,
	SCTP_CT_SHUTDOWN_COMPLETE = 14,
	SCTP_CT_AUTH = 15,
};

/* Parameter types inside INIT / INIT-ACK (RFC 9260 3.3.2). */
#define SCTP_PARAM_IPV4 5
#define SCTP_PARAM_IPV6 6

/* Error cause codes (RFC 9260 3.3.10). */
#define SCTP_CAUSE_RESTART_NEW_ADDR 11
#define SCTP_CAUSE_PROTOCOL_VIOLATION 13
/* RFC 6951: "Restart of an Association with New Encapsulation Port" */
#define SCTP_CAUSE_RESTART_NEW_ENCAPS_PORT 14
#define SCTP_CAUSE_VTAG_COLLISION 0x00b0 /* draft-ietf-tsvwg-natsupp: VTag and port collision */

enum pkt_err {
	PKT_OK = 0,
	PKT_ERR_IP_SHORT = -1,      /* shorter than the IP header */
	PKT_ERR_IP_VERSION = -2,    /* not IPv4 / IPv6 */
	PKT_ERR_IP_HDRLEN = -3,     /* IPv4 IHL < 5 or beyond the buffer */
	PKT_ERR_IP_TOTLEN = -4,     /* IP total / payload length disagrees with the buffer */
	PKT_ERR_IP_FRAGMENT = -5,   /* a fragment: cannot see the SCTP header */
	PKT_ERR_NOT_SCTP = -6,      /* protocol / next header is not 132 */
	PKT_ERR_SCTP_SHORT = -7,    /* less than the 12-byte common header */
	PKT_ERR_NO_CHUNK = -8,      /* common header but no chunk */
	PKT_ERR_CHUNK_LEN = -9,     /* a chunk length < 4 or running past the packet */
	PKT_ERR_INIT_LEN = -10,     /* INIT / INIT-ACK shorter than its fixed part */
	PKT_ERR_INIT_PARAM = -11,   /* an INIT parameter length < 4 or overrunning the chunk */
	PKT_ERR_INIT_BUNDLED = -12, /* INIT bundled with other chunks (RFC 9260 6.10) */
	PKT_ERR_INIT_VTAG = -13,    /* INIT with non-zero verification tag */
	PKT_ERR_INIT_TAG0 = -14,    /* INIT / INIT-ACK with initiate tag 0 */
	PKT_ERR_ZERO_VTAG = -15,    /* non-INIT packet with verification tag 0 (no T bit) */
	PKT_ERR_PORT0 = -16,        /* source or destination port 0 */
};
#define PKT_ERR_COUNT 17
const char *pkt_strerror(int err);

struct pkt_ip {
	struct gw_addr src, dst;
	uint8_t version;    /* 4 or 6 */
	uint8_t tos;        /* IPv4 TOS / IPv6 traffic class (ECN in low 2 bits) */
	uint8_t ttl;        /* TTL / hop limit */
	uint8_t proto;      /* upper-layer protocol */
	uint16_t hdr_len;   /* bytes before the upper-layer header */
	uint16_t total_len; /* header + payload, as the header says (<= buffer length) */
};

/* Parse an IPv4 or IPv6 header. IPv6 extension headers other than a fragment header are
 * walked (hop-by-hop, routing, destination options); a fragment gives PKT_ERR_IP_FRAGMENT
 * unless it is an atomic fragment (offset 0, M=0). Does not require proto == SCTP. */
int pkt_parse_ip(const uint8_t *buf, size_t len, struct pkt_ip *ip);

struct pkt_sctp {
	uint16_t src_port, dst_port;
	uint32_t vtag;        /* host byte order */
	uint32_t chunk_mask;  /* bit (1u << type) for every chunk type < 32 present */
	uint8_t first_chunk;  /* type of the first chunk */
	uint8_t first_flags;  /* flags of the first chunk */
	uint16_t nchunks;     /* number of chunks */
	bool t_bit;           /* ABORT or SHUTDOWN-COMPLETE with the T flag set */
	uint32_t init_tag;    /* initiate tag of an INIT / INIT-ACK chunk, else 0 */
	uint16_t init_off;    /* offset of the INIT / INIT-ACK chunk from the SCTP header, else 0 */
	uint16_t init_len;    /* its chunk length */
	uint16_t addr_params; /* number of IPv4 + IPv6 address parameters in INIT / INIT-ACK */
};

/* Parse and validate an SCTP packet (common header + all chunks). buf starts at the
 * SCTP common header; len is the SCTP length. Does not check the CRC32c. */
int pkt_parse_sctp(const uint8_t *buf, size_t len, struct pkt_sctp *s);

static inline bool pkt_has_chunk(const struct pkt_sctp *s, unsigned type)
{
	return type < 32 && (s->chunk_mask & (1u << type));
}

/* CRC32c over an SCTP packet with its checksum field taken as zero. */
uint32_t pkt_sctp_checksum(const uint8_t *buf, size_t len);
/* True when the checksum field (bytes 8..11) matches. */
bool pkt_sctp_checksum_ok(const uint8_t *buf, size_t len);
/* True when the checksum field is zero (RFC 9653 zero checksum, cannot be verified). */
bool pkt_sctp_checksum_zero(const uint8_t *buf, size_t len);
void pkt_sctp_set_checksum(uint8_t *buf, size_t len);

/* Write a 20-byte IPv4 header (DF set, id 0, checksum computed) for a payload of
 * payload_len bytes; returns 20, or 0 when the total would exceed 65535. */
size_t pkt_build_ipv4(uint8_t *hdr, const struct gw_addr *src, const struct gw_addr *dst,
		      uint8_t tos, uint8_t ttl, uint8_t proto, size_t payload_len);

/* Write a 40-byte IPv6 header; returns 40, or 0 when payload_len > 65535. */
size_t pkt_build_ipv6(uint8_t *hdr, const struct gw_addr *src, const struct gw_addr *dst,
		      uint8_t tclass, uint8_t hop_limit, uint8_t proto, size_t payload_len);

/* Build an SCTP packet holding one ABORT chunk (T flag as given) with an optional error
 * cause (cause 0 = none, with no cause data); CRC32c filled in. Returns its length or 0
 * when cap is too small. */
size_t pkt_build_abort(uint8_t *buf, size_t cap, uint16_t src_port, uint16_t dst_port,
		       uint32_t vtag, bool t_bit, uint16_t cause);

/* Remove every IPv4 / IPv6 address parameter from the INIT / INIT-ACK chunk of the SCTP
 * packet in buf (in place), fixing the chunk length; the caller recomputes the CRC32c.
 * Returns the new SCTP length (== len when nothing was removed), or a negative pkt_err. */
int pkt_sctp_strip_addr_params(uint8_t *buf, size_t len, unsigned *removed);

/* The IPv4 / IPv6 addresses listed in the INIT / INIT-ACK chunk of a packet that
 * pkt_parse_sctp accepted as s (parameters of a wrong length are skipped): up to max
 * into out. Returns how many. */
unsigned pkt_sctp_init_addrs(const uint8_t *buf, const struct pkt_sctp *s, struct gw_addr *out,
			     unsigned max);

#endif
