/* inject.h - raw sockets that put decapsulated SCTP on the wire as native packets,
 * marked so the daemon's own rules never queue them again. */
#ifndef SCTPGW_INJECT_H
#define SCTPGW_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct inject_sock {
	int fd4, fd6;
	int icmp4, icmp6; /* raw ICMP / ICMPv6 sockets for errors to internal hosts */
};

int inject_open(struct inject_sock *s, uint32_t mark, char *err, size_t errlen);
void inject_close(struct inject_sock *s);
/* Send the SCTP packet at sctp (with at least 40 bytes of writable headroom before it)
 * from src to dst. 0 or -errno. */
int inject_send(struct inject_sock *s, const struct gw_addr *src, const struct gw_addr *dst,
		uint8_t tos, uint8_t *sctp, size_t len);

/* The most packets one sendmmsg carries; larger batches are split. */
#define INJECT_BATCH_MAX 64

/* One packet of inject_send_batch. */
struct inject_out {
	struct gw_addr src, dst;
	uint8_t tos;
	uint8_t *sctp; /* with at least 40 bytes of writable headroom, as inject_send */
	size_t len;
	int err; /* out: 0 sent, or -errno for this packet (as inject_send) */
};

/* Send n packets as inject_send would, with one sendmmsg per run of the same family (at
 * most INJECT_BATCH_MAX each). All headers of a run are written before its first send, so
 * one packet's headroom must not overlap another's data. Every o[i].err is set; a failed
 * packet does not stop the rest. Returns how many were sent. */
unsigned inject_send_batch(struct inject_sock *s, struct inject_out *o, unsigned n);

/* Send an ICMP (IPv4 dst) or ICMPv6 (IPv6 dst) message; the kernel writes the IP header
 * with the gateway's address toward dst (and the ICMPv6 checksum). 0 or -errno. */
int inject_icmp(struct inject_sock *s, const struct gw_addr *dst, const void *msg, size_t len);

#endif
