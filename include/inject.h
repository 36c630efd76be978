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
/* Send an ICMP (IPv4 dst) or ICMPv6 (IPv6 dst) message; the kernel writes the IP header
 * with the gateway's address toward dst (and the ICMPv6 checksum). 0 or -errno. */
int inject_icmp(struct inject_sock *s, const struct gw_addr *dst, const void *msg, size_t len);

#endif
