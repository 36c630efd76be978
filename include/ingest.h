/* ingest.h - relay mode where the kernel has no SCTP: raw IPPROTO_SCTP sockets that read
 * native SCTP addressed to the gateway itself. With a raw socket for the protocol open,
 * the kernel delivers such packets to it and answers nothing itself (no ICMP protocol
 * unreachable), so the internal host's association is the daemon's to carry. */
#ifndef SCTPGW_INGEST_H
#define SCTPGW_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ingest_sock {
	int fd4, fd6;  /* fd6 -1 when the host has no IPv6 */
	uint32_t mark; /* packets carrying it are the daemon's own (host mode): skipped */
};

/* True when this network namespace's kernel has SCTP (the module is loaded). */
bool ingest_kernel_has_sctp(void);

/* 0, or -1 with err set. */
int ingest_open(struct ingest_sock *s, uint32_t mark, char *err, size_t errlen);
void ingest_close(struct ingest_sock *s);

/* Read one packet from fd (of s) into buf, IP header first: IPv6 raw sockets hand over
 * only the payload, so the IPv6 header is rebuilt in front of it from the addresses
 * and traffic class the kernel reports. 1 with *len and *mark (the packet's firewall
 * mark, 0 without SO_RCVMARK) set, 0 when nothing is waiting (or the packet was the
 * daemon's own and skipped), -errno on error. */
int ingest_recv(const struct ingest_sock *s, int fd, uint8_t *buf, size_t cap, size_t *len,
		uint32_t *mark);

#endif
