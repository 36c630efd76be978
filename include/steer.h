/* steer.h - several workers: classic BPF programs that send each packet from outside to
 * the worker whose table holds its association, computing exactly xlate_steer(). Pure:
 * they only build instructions; udp.c / ingest.c attach them. */
#ifndef SCTPGW_STEER_H
#define SCTPGW_STEER_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/filter.h>

#include "conf.h"

/* Enough for every forward or relay rule (5 instructions each) and the frame. */
#define STEER_MAX_INSNS (5 * (CONF_MAX_FORWARD > CONF_MAX_RELAY ? CONF_MAX_FORWARD : \
			      CONF_MAX_RELAY) + 16)

/* SO_ATTACH_REUSEPORT_CBPF for the UDP sockets (the program sees the UDP payload, the
 * SCTP common header): returns the index of the worker's socket, xlate_steer(dst port,
 * src port). Returns the number of instructions written to out. */
size_t steer_udp_prog(const struct gw_conf *c, struct sock_filter *out);

/* SO_ATTACH_FILTER for worker's raw SCTP socket (relay ingest): accept a packet to a
 * relay port P with source port S when (S ^ Q) & mask is this worker (Q: the rule's
 * remote port, which the peer's answers will carry), and on worker 0 every packet to
 * another port (to be counted). IPv4 raw sockets filter from the IP header, IPv6 ones
 * from the SCTP header (v6). */
size_t steer_raw_prog(const struct gw_conf *c, unsigned worker, bool v6, struct sock_filter *out);

#endif
