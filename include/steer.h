/* steer.h - several workers: which worker owns an association, and the classic BPF
 * programs that send each packet from outside to it, computing exactly
 * steer_worker_of(). Pure: the programs are only built here; worker.c attaches them. */
#ifndef SCTPGW_STEER_H
#define SCTPGW_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>

#include "conf.h"

/*
 * The one rule of the workers (inline: the pure cores and the fuzzers use it without
 * linking this file). One worker per queue, 1, 2, 4 or 8 of them (conf.c checks); an
 * association's worker is the low bits of the XOR of its two SCTP ports, which outbound
 * packets (nft.c's dispatch chains) and inbound datagrams (the program below) both
 * carry. Association ids are worker + 1 + k * workers, so an id names its worker.
 */
static inline unsigned steer_workers(const struct gw_conf *c)
{
	return c->queue_count ? c->queue_count : 1;
}

static inline unsigned steer_mask(const struct gw_conf *c)
{
	return steer_workers(c) - 1u;
}

/* The worker of SCTP ports a and b, as a packet carries them (either order). */
static inline unsigned steer_key(const struct gw_conf *c, uint16_t a, uint16_t b)
{
	return (unsigned)(a ^ b) & steer_mask(c);
}

/* The worker whose table holds an association the peer sees with SCTP ports (seen_port,
 * rport), where its datagrams are steered: for a forward rule's port P the key uses its
 * target port Q (the internal host's packets carry Q, and outbound packets are
 * dispatched by their ports). 0 with one worker. */
static inline unsigned steer_worker_of(const struct gw_conf *c, uint16_t seen_port, uint16_t rport)
{
	const struct conf_forward *f;

	if (!steer_mask(c))
		return 0;
	f = conf_match_forward(c, seen_port);
	return steer_key(c, f ? f->to_port : seen_port, rport);
}

/* The first association id of worker, and the worker of an id (0: none, worker 0). */
static inline uint32_t steer_first_id(unsigned worker)
{
	return worker + 1u;
}

static inline unsigned steer_worker_of_id(unsigned workers, uint32_t id)
{
	return id && workers ? (id - 1u) % workers : 0;
}

/* Enough for every forward or relay rule (5 instructions each) and the frame. */
#define STEER_MAX_INSNS \
	(5 * (CONF_MAX_FORWARD > CONF_MAX_RELAY ? CONF_MAX_FORWARD : CONF_MAX_RELAY) + 16)

/* SO_ATTACH_REUSEPORT_CBPF for the UDP sockets (the program sees the UDP payload, the
 * SCTP common header): returns the index of the worker's socket, steer_worker_of(dst
 * port, src port). Returns the number of instructions written to out. */
size_t steer_udp_prog(const struct gw_conf *c, struct sock_filter *out);

/* SO_ATTACH_FILTER for worker's raw SCTP socket (relay ingest): accept a packet to a
 * relay port P with source port S when (S ^ Q) & mask is this worker (Q: the rule's
 * remote port, which the peer's answers will carry), and on worker 0 every packet to
 * another port (to be counted). IPv4 raw sockets filter from the IP header, IPv6 ones
 * from the SCTP header (v6). */
size_t steer_raw_prog(const struct gw_conf *c, unsigned worker, bool v6, struct sock_filter *out);

#endif
