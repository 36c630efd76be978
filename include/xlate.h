/* xlate.h - the translation decisions: given a queued native packet or a received UDP
 * payload, update the association table and say what to send where. Pure: no sockets,
 * no clocks, no logging; the shells (nfq.c, udp.c, inject.c) carry out the result. */
#ifndef SCTPGW_XLATE_H
#define SCTPGW_XLATE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "assoc.h"
#include "conf.h"
#include "keepalive.h"
#include "stats.h"

/* Token buckets for associations opened from outside (INIT floods): one in total and
 * one per remote address, hashed into a fixed array (addresses sharing a bucket share
 * its budget; with a secret seed an attacker cannot aim at someone else's). */
#define XLATE_SRC_BUCKETS 1024
struct xlate_bucket {
	uint64_t last_ms; /* 0: never used (full) */
	uint64_t milli;   /* tokens * 1000 */
};
struct xlate_outside_init_limit {
	uint32_t seed;
	struct xlate_bucket total;
	struct xlate_bucket src[XLATE_SRC_BUCKETS];
};

struct xlate_ctx {
	const struct gw_conf *conf;
	struct assoc_table *tab;
	struct gw_stats *st;
	struct xlate_outside_init_limit *outside_inits; /* NULL: not rate-limited */
	unsigned worker;                                /* which worker's table this is (steer.h) */
	unsigned share;              /* the init rates are split among this many (0 = 1) */
	const struct ka_key *ka_key; /* the gateway's keepalive secret; NULL: no keepalives */
};

enum xlate_verdict {
	XV_ACCEPT,    /* not ours: let the native packet go on unchanged */
	XV_DROP,      /* drop; res->reason says why (already counted) */
	XV_ENCAP,     /* send res->sctp as UDP payload to res->peer:res->udp_port */
	XV_INJECT,    /* send res->sctp as native SCTP from res->peer to res->inner */
	XV_REPLY_UDP, /* send res->reply (an SCTP packet) as UDP back to res->peer:res->udp_port */
	XV_ABSORBED,  /* the answer to a keepalive of the gateway's own: nothing to send */
};

struct xlate_result {
	enum xlate_verdict verdict;
	enum gw_drop reason; /* with XV_DROP */
	struct assoc *assoc; /* the association, when there is one */
	uint8_t *sctp;       /* the SCTP packet to send (inside the caller's buffer) */
	size_t sctp_len;
	struct gw_addr peer;  /* remote address (UDP destination / datagram source) */
	struct gw_addr from;  /* with XV_INJECT: the injected packet's IP source (the
				  * peer, or for a relay association the gateway address the
				  * internal host addressed) */
	uint16_t udp_port;    /* remote UDP port */
	struct gw_addr inner; /* internal host (injected IP destination) */
	uint8_t tos;          /* TOS / traffic class to use (ECN copied, RFC 6951 5.8) */
	uint8_t reply[64];    /* with XV_REPLY_UDP */
	size_t reply_len;
	int pkt_err;       /* the pkt_err for malformed drops */
	bool port_changed; /* a learned remote UDP port moved */
	bool created;      /* a new association */
};

/* The keepalive interval an association gets from the rule that covers it (the rule it
 * was created by, as conf says now): for new associations and after a reload. */
uint16_t xlate_keepalive_of(const struct gw_conf *c, const struct assoc *a);

/* A native packet (IP header first) queued from the internal side. */
void xlate_outbound(struct xlate_ctx *x, uint8_t *ip, size_t len, uint64_t now_ms,
		    struct xlate_result *res);
/* A native packet (IP header first) an internal host sent to the gateway itself (relay
 * mode: raw SCTP socket or input hook). XV_ACCEPT when no relay rule claims its port. */
void xlate_relay(struct xlate_ctx *x, uint8_t *ip, size_t len, uint64_t now_ms,
		 struct xlate_result *res);
/* A UDP payload (SCTP common header first) from peer:udp_port, outer TOS tos. */
void xlate_inbound(struct xlate_ctx *x, const struct gw_addr *peer, uint16_t udp_port, uint8_t tos,
		   uint8_t *sctp, size_t len, uint64_t now_ms, struct xlate_result *res);

#endif
