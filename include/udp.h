/* udp.h - the encapsulation sockets: one IPv4 and one IPv6 UDP socket bound to the local
 * encapsulation port. */
#ifndef SCTPGW_UDP_H
#define SCTPGW_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct udp_sock {
	int fd4, fd6;
	uint16_t port;
};

/* Bind both families (v6 with IPV6_V6ONLY). 0, or -1 with err set (says clearly when the
 * port is busy, e.g. by a kernel SCTP net.sctp.udp_port). */
int udp_open(struct udp_sock *u, uint16_t port, uint32_t mark, char *err, size_t errlen);
void udp_close(struct udp_sock *u);
/* Send one datagram; 0 or -errno. */
int udp_send(struct udp_sock *u, const struct gw_addr *dst, uint16_t port, uint8_t tos,
	     const void *buf, size_t len);

struct udp_dgram {
	uint8_t *buf;   /* payload (caller-provided, with headroom before it) */
	size_t len;
	struct gw_addr src;
	uint16_t src_port;
	struct gw_addr dst; /* local address it arrived on */
	uint8_t tos;
};

/* Receive up to n datagrams from fd (non-blocking); each dg[i].buf must point to cap
 * bytes. Returns how many (0 when none), or -errno. */
int udp_recv_batch(int fd, struct udp_dgram *dg, unsigned n, size_t cap);

#endif
