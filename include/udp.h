/* udp.h - the encapsulation sockets: one IPv4 and one IPv6 UDP socket bound to the local
 * encapsulation port. */
#ifndef SCTPGW_UDP_H
#define SCTPGW_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct udp_sock {
	int fd4, fd6;
	uint16_t port;
};

/* Bind both families (v6 with IPV6_V6ONLY); with reuseport as members of a reuseport
 * group (one per worker). 0, or -1 with err set (says clearly when the port is busy,
 * e.g. by a kernel SCTP net.sctp.udp_port). */
int udp_open(struct udp_sock *u, uint16_t port, uint32_t mark, bool reuseport, char *err,
	     size_t errlen);
void udp_close(struct udp_sock *u);
/* Send one datagram; 0 or -errno. A send that only returned the pending error an ICMP
 * message left on the socket is tried once more. */
int udp_send(struct udp_sock *u, const struct gw_addr *dst, uint16_t port, uint8_t tos,
	     const void *buf, size_t len);
/* The same, but the kernel may fragment this one datagram to the path MTU (IPv4: DF
 * clear); the socket keeps refusing to fragment every other. 0 or -errno. */
int udp_send_frag(struct udp_sock *u, const struct gw_addr *dst, uint16_t port, uint8_t tos,
		  const void *buf, size_t len);

/* The most datagrams one sendmmsg / recvmmsg call carries: udp_send_batch splits larger
 * batches, udp_recv_batch reads at most this many. */
#define UDP_BATCH_MAX 64

/* One datagram of udp_send_batch. */
struct udp_out {
	struct gw_addr dst;
	uint16_t port;
	uint8_t tos;
	const uint8_t *data;
	size_t len;
	int err; /* out: 0 sent, or -errno for this datagram (as udp_send) */
};

/* Send n datagrams, each as udp_send would (its own destination, ECN bits, the retry
 * after a stale ICMP error, -EMSGSIZE above the path MTU), with one sendmmsg per run of
 * the same family (at most UDP_BATCH_MAX each). Every o[i].err is set; a failed
 * datagram does not stop the rest. Returns how many were sent. */
unsigned udp_send_batch(struct udp_sock *u, struct udp_out *o, unsigned n);

struct udp_dgram {
	uint8_t *buf; /* payload (caller-provided, with headroom before it) */
	size_t len;
	struct gw_addr src;
	uint16_t src_port;
	struct gw_addr dst; /* local address it arrived on */
	uint8_t tos;
};

/* Receive up to n datagrams from fd (non-blocking); each dg[i].buf must point to cap
 * bytes. Returns how many (0 when none), or -errno. */
int udp_recv_batch(int fd, struct udp_dgram *dg, unsigned n, size_t cap);

/* One entry of a UDP socket's error queue (IP_RECVERR): an ICMP error about one of our
 * datagrams, or a local one (EMSGSIZE above the path MTU). */
struct udp_err {
	uint32_t errnum;    /* ee_errno */
	uint8_t origin;     /* SO_EE_ORIGIN_LOCAL / _ICMP / _ICMP6 */
	uint8_t type, code; /* of the ICMP message */
	uint32_t info;      /* the MTU for fragmentation needed / packet too big */
	struct gw_addr dst; /* where the datagram was going */
	uint16_t dst_port;
	struct gw_addr offender; /* who sent the error (family 0: unknown) */
	uint8_t *payload;        /* the quoted UDP payload (caller's buffer), may be cut short */
	size_t len;
};

/* Read one error-queue entry of fd into e, its quoted payload into buf (cap bytes).
 * 1 when one was read, 0 when the queue is empty, or -errno. */
int udp_recv_error(int fd, struct udp_err *e, uint8_t *buf, size_t cap);
/* The path MTU toward dst as the kernel knows it (learned PMTU or the route's), through a
 * short-lived connected socket with the daemon's mark. The MTU, or -errno. */
int udp_path_mtu(const struct gw_addr *dst, uint32_t mark);

#endif
