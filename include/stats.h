/* stats.h - the daemon's counters. Drop reasons are an enum with names so every
 * place that drops a packet counts it under a reason the operator can read; both are
 * listed, with their names and help texts, in counters.h. */
#ifndef SCTPGW_STATS_H
#define SCTPGW_STATS_H

#include <stdint.h>

#include "conf.h"
#include "counters.h"

/* One per GW_DROPS line of counters.h, in its order (the order `show stats` sends). */
enum gw_drop {
#define STATS_DROP_ENUM(id, name, what) id,
	GW_DROPS(STATS_DROP_ENUM)
#undef STATS_DROP_ENUM
		DROP_COUNT
};

const char *stats_drop_name(enum gw_drop d); /* stable snake_case */

struct gw_stats {
	uint64_t out_pkts, out_bytes; /* native -> UDP, sent */
	uint64_t in_pkts, in_bytes;   /* UDP -> native, injected */
	uint64_t out_accepted;        /* queued packets not for us, accepted unchanged */
	uint64_t drops[DROP_COUNT];
	uint64_t assoc_created, assoc_expired, assoc_closed;
	uint64_t port_changes; /* learned remote UDP port moved */
	uint64_t aborts_sent;
	uint64_t addr_params_removed;
	uint64_t ports_translated; /* associations given another source port */
	uint64_t assoc_relearned;  /* associations re-learned from mid-association traffic */
	uint64_t nfq_enobufs;      /* queue overruns seen by the socket */
	/* The kernel's queue counters (read once a second; 32-bit in the kernel) and ours. */
	uint64_t nfq_waiting;         /* packets waiting for a verdict (a gauge) */
	uint64_t nfq_queue_dropped;   /* dropped by the kernel: queue full */
	uint64_t nfq_user_dropped;    /* dropped by the kernel: delivery to us failed */
	uint64_t nfq_batch_verdicts;  /* NFQNL_MSG_VERDICT_BATCH messages sent */
	uint64_t nfq_single_verdicts; /* per-packet verdict messages sent */
	uint64_t icmp_received;       /* ICMP errors about our datagrams (error queue) */
	uint64_t icmp_sent;           /* ICMP errors sent to internal hosts */
	uint64_t relay_ingested;      /* native SCTP to the gateway itself read (relay) */
	uint64_t keepalives_sent;     /* the gateway's own HEARTBEATs (keepalive.h) */
	uint64_t keepalives_answered; /* their answers, verified and absorbed */
	uint64_t relay_no_rule;       /* ... for a port no relay rule has: left alone */
	/* Associations created or re-learned through each rule, indexed like conf->encap /
	 * conf->forward / conf->relay. A reload zeroes them: the indexes then name other rules. */
	struct gw_rule_hits {
		uint64_t encap[CONF_MAX_ENCAP];
		uint64_t forward[CONF_MAX_FORWARD];
		uint64_t relay[CONF_MAX_RELAY];
	} rule_hits;
};

/* Every uint64_t of struct gw_stats outside rule_hits is one STAT line of counters.h
 * (each line names its member, so ctlreply.c does not compile without it) or a drop. */
#define STATS_NSTAT (0 GW_COUNTERS(COUNTER_ONE, COUNTER_NONE, COUNTER_NONE))
_Static_assert(sizeof(struct gw_stats) ==
		       (STATS_NSTAT + DROP_COUNT) * sizeof(uint64_t) + sizeof(struct gw_rule_hits),
	       "struct gw_stats and GW_COUNTERS in counters.h disagree");

#endif
