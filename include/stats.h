/* stats.h - the daemon's counters. Drop reasons are an enum with names so every
 * place that drops a packet counts it under a reason the operator can read. */
#ifndef SCTPGW_STATS_H
#define SCTPGW_STATS_H

#include <stdint.h>

#include "conf.h"

enum gw_drop {
	DROP_OUT_MALFORMED,    /* queued packet did not parse */
	DROP_OUT_BAD_CRC,      /* queued packet with a wrong CRC32c */
	DROP_OUT_NO_ASSOC,     /* queued non-INIT packet with no association and no rule */
	DROP_OUT_TABLE_FULL,   /* INIT when the table is full */
	DROP_OUT_SEND,         /* sendmsg on the UDP socket failed */
	DROP_OUT_TOO_BIG,      /* datagram would exceed 65535 / the path MTU */
	DROP_IN_SHORT,         /* datagram shorter than the SCTP common header */
	DROP_IN_MALFORMED,     /* datagram did not parse as SCTP */
	DROP_IN_BAD_CRC,       /* datagram with a wrong CRC32c */
	DROP_IN_NO_ASSOC,      /* no association for its ports and tag */
	DROP_IN_NO_FORWARD,    /* INIT with no forward rule for its port */
	DROP_IN_TABLE_FULL,    /* INIT when the table is full */
	DROP_IN_INJECT,        /* raw send failed */
	DROP_IN_UNVERIFIED,    /* zero checksum on a packet that would create state */
	DROP_IN_INIT_PORT_CHANGE, /* INIT for a live association from a new UDP port */
	DROP_OUT_UNVERIFIED,   /* zero checksum on a queued packet that would create state */
	DROP_IN_FAMILY,        /* peer and internal host of different address families */
	DROP_OUT_NO_PORT,      /* port collision and no free port to translate to */
	DROP_IN_INIT_RATE,     /* INIT from outside over the init-rate limits */
	DROP_IN_TAG_COLLISION, /* INIT colliding with a live association's ports and tag */
	DROP_ICMP_UNVERIFIED,  /* ICMP error naming no association (ports, tag) or too short */
	DROP_ICMP_IGNORED,     /* ICMP error of a type / code not translated */
	DROP_ICMP_RATE,        /* ICMP error for an internal host over the rate limit */
	DROP_ICMP_SEND,        /* sending an ICMP error to an internal host failed */
	DROP_RELAY_NOT_INTERNAL, /* to a relay port from outside the internal networks */
	DROP_RELAY_RECV_ERROR, /* reading the raw SCTP socket failed, or the packet was cut */
	DROP_IN_TOO_BIG,       /* datagram longer than the receive buffer (cut) */
	DROP_COUNT
};

const char *stats_drop_name(enum gw_drop d); /* stable snake_case */

struct gw_stats {
	uint64_t out_pkts, out_bytes;   /* native -> UDP, sent */
	uint64_t in_pkts, in_bytes;     /* UDP -> native, injected */
	uint64_t out_accepted;          /* queued packets not for us, accepted unchanged */
	uint64_t drops[DROP_COUNT];
	uint64_t assoc_created, assoc_expired, assoc_closed;
	uint64_t port_changes;          /* learned remote UDP port moved */
	uint64_t aborts_sent;
	uint64_t addr_params_removed;
	uint64_t ports_translated;      /* associations given another source port */
	uint64_t assoc_relearned;       /* associations re-learned from mid-association traffic */
	uint64_t nfq_enobufs;           /* queue overruns seen by the socket */
	/* The kernel's queue counters (read once a second; 32-bit in the kernel) and ours. */
	uint64_t nfq_waiting;           /* packets waiting for a verdict (a gauge) */
	uint64_t nfq_queue_dropped;     /* dropped by the kernel: queue full */
	uint64_t nfq_user_dropped;      /* dropped by the kernel: delivery to us failed */
	uint64_t nfq_batch_verdicts;    /* NFQNL_MSG_VERDICT_BATCH messages sent */
	uint64_t nfq_single_verdicts;   /* per-packet verdict messages sent */
	uint64_t icmp_received;         /* ICMP errors about our datagrams (error queue) */
	uint64_t icmp_sent;             /* ICMP errors sent to internal hosts */
	uint64_t relay_ingested;        /* native SCTP to the gateway itself read (relay) */
	uint64_t relay_no_rule;         /* ... for a port no relay rule has: left alone */
	/* Associations created or re-learned through each rule, indexed like conf->encap /
	 * conf->forward / conf->relay. A reload zeroes them: the indexes then name other rules. */
	struct gw_rule_hits {
		uint64_t encap[CONF_MAX_ENCAP];
		uint64_t forward[CONF_MAX_FORWARD];
		uint64_t relay[CONF_MAX_RELAY];
	} rule_hits;
};

#endif
