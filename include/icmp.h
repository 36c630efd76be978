/* icmp.h - ICMP errors about the gateway's datagrams, told to the internal host
 * (RFC 6951 5.5): classify an error-queue entry, find the association from the SCTP
 * header quoted in it, and build the ICMP / ICMPv6 error the native host understands,
 * quoting its packet as it sent it. Pure: buffers in, bytes out; no sockets, no logging. */
#ifndef SCTPGW_ICMP_H
#define SCTPGW_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "assoc.h"

/* The largest error we build: an ICMPv4 error fits in 576 bytes (RFC 1812 4.3.2.3), an
 * ICMPv6 one in the minimum MTU of 1280 (RFC 4443 2.4 c); the IP header is the kernel's. */
#define ICMP_HDR_LEN 8
#define ICMP_MAX_MSG4 (576 - 20)
#define ICMP_MAX_MSG6 (1280 - 40)
#define ICMP_MAX_MSG ICMP_MAX_MSG6

enum icmp_kind {
	ICMP_KIND_OTHER = 0,     /* not translated */
	ICMP_KIND_UNREACH,       /* port unreachable: the peer has no UDP listener */
	ICMP_KIND_TOO_BIG,       /* fragmentation needed / packet too big */
	ICMP_KIND_LOCAL_TOO_BIG, /* our own send failed with EMSGSIZE (no quote) */
};

/* Classify an error-queue entry by the fields of its struct sock_extended_err
 * (ee_origin, ee_type, ee_code, ee_errno). */
enum icmp_kind icmp_classify(uint8_t origin, uint8_t type, uint8_t code, uint32_t errnum);

/* The start of an SCTP packet quoted in an ICMP error. */
struct icmp_quote {
	uint16_t src_port, dst_port;
	uint32_t vtag;
	bool has_chunk; /* the first chunk's type and flags were quoted */
	uint8_t chunk_type, chunk_flags;
	uint32_t init_tag; /* initiate tag of a quoted INIT chunk, else 0 */
};

/* Parse the quoted start of an SCTP packet (common header first, possibly truncated).
 * 0, or -1 when fewer than the 8 bytes of ports and tag are there. */
int icmp_parse_quote(const uint8_t *sctp, size_t len, struct icmp_quote *q);

/* The MTU to tell the internal host when the outer path MTU is path_mtu: its packet
 * travels inside an outer IP header of the same family and a UDP header instead of its
 * own inner_hdr_len-byte IP header. 0 when the result would be below the IPv4 minimum
 * of 68 (a nonsense report). */
uint32_t icmp_inner_mtu(int family, uint32_t path_mtu, size_t inner_hdr_len);

/* Build an ICMP (family AF_INET) or ICMPv6 (AF_INET6) error of the given kind into buf:
 * ICMP_KIND_UNREACH -> protocol unreachable (type 3 code 2) / parameter problem,
 * unrecognized next header (type 4 code 1, pointer 6); ICMP_KIND_TOO_BIG ->
 * fragmentation needed (type 3 code 4, next-hop MTU) / packet too big (type 2, MTU).
 * quote is the offending packet, IP header first; it is cut to fit ICMP_MAX_MSG4/6.
 * The ICMPv6 checksum covers a pseudo-header: it is computed when src and dst are given
 * and left 0 otherwise (an IPPROTO_ICMPV6 raw socket fills it in). Returns the message
 * length, or 0 when cap is too small or the arguments make no sense. */
size_t icmp_build_error(uint8_t *buf, size_t cap, int family, enum icmp_kind kind, uint32_t mtu,
			const struct gw_addr *src, const struct gw_addr *dst, const uint8_t *quote,
			size_t qlen);

/* The quote for an error about one of our datagrams: the IP header the internal host
 * put on its packet (iaddr to raddr, protocol SCTP, length as if the packet were
 * hdr + sctp_len long; raddr's family decides IPv4 / IPv6), then the quoted SCTP bytes
 * with the source port set back to iport (the peer may see a translated one). Returns
 * the length, or 0 (families differ, fewer than 8 SCTP bytes, cap too small). */
size_t icmp_build_quote(uint8_t *buf, size_t cap, const struct gw_addr *iaddr,
			const struct gw_addr *raddr, uint16_t iport, const uint8_t *sctp,
			size_t quoted_len, size_t sctp_len);

/* The ICMP the internal host gets for an error of this kind about one of our datagrams
 * to raddr whose UDP payload (our SCTP packet, perhaps truncated) the error quoted.
 * On success fills buf with the ICMP message, *a with the association and *to with the
 * internal host, and returns the length; else a negative icmp_err. */
enum icmp_err {
	ICMP_ERR_KIND = -1,     /* not a kind we translate */
	ICMP_ERR_SHORT = -2,    /* fewer than 8 SCTP bytes quoted */
	ICMP_ERR_NO_ASSOC = -3, /* no association with these ports and tag: unverifiable */
	ICMP_ERR_FAMILY = -4,   /* the internal host is of another family than raddr */
	ICMP_ERR_MTU = -5,      /* a nonsense MTU */
	ICMP_ERR_SPACE = -6,    /* cap too small */
};
int icmp_translate(struct assoc_table *t, enum icmp_kind kind, uint32_t path_mtu,
		   const struct gw_addr *raddr, const uint8_t *payload, size_t len, uint8_t *buf,
		   size_t cap, struct assoc **a, struct gw_addr *to);

/* The "fragmentation needed" / "packet too big" answer to a queued native packet (ip,
 * IP header first, as queued; its SCTP source port may since have been translated) of
 * association a that did not fit a path MTU of path_mtu. Returns the ICMP message length
 * or a negative icmp_err. */
int icmp_too_big_reply(const struct assoc *a, const uint8_t *ip, size_t len, uint32_t path_mtu,
		       uint8_t *buf, size_t cap);

#endif
