/* ctlreply.h - daemon state turned into the control protocol's reply records
 * (ctlproto.h). Pure: no sockets, no locks, no clock (the caller passes the time);
 * control.c frames the records and sends them. */
#ifndef SCTPGW_CTLREPLY_H
#define SCTPGW_CTLREPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assoc.h"
#include "conf.h"
#include "counters.h"
#include "ctlproto.h"
#include "stats.h"

/* What show stats and show rules report, taken at one moment. One member per VALUE line
 * of counters.h besides the configuration and the summed counters. */
struct ctlreply_view {
	const struct gw_conf *conf; /* the live configuration */
	struct gw_stats stats;      /* every worker's counters added up */
	uint64_t associations_active, associations_capacity;
	uint64_t control_refused; /* state-changing requests refused (control.c) */
	uint64_t workers;
	uint64_t uptime_seconds;
	const char *queue_mechanism; /* nft_queue_kind_name() */
	uint8_t relay_ingest;        /* enum conf_relay_ingest in use; auto: no relay rule */
};

/* How many records show stats sends: one per STAT and VALUE line, one per drop reason. */
#define CTLREPLY_NSTATS (0 GW_COUNTERS(COUNTER_ONE, COUNTER_NONE, COUNTER_ONE) + DROP_COUNT)

void ctlreply_assoc(struct ctl_assoc_rec *r, const struct assoc *a, uint64_t now_ms);
/* The records of show stats, in the order of counters.h; returns CTLREPLY_NSTATS. */
size_t ctlreply_stats(const struct ctlreply_view *v, struct ctl_stat_rec out[CTLREPLY_NSTATS]);
void ctlreply_rules_hdr(const struct ctlreply_view *v, struct ctl_rules_hdr *h);
/* Record i of show rules: the internal prefixes, then the encapsulate, forward and relay
 * rules, each in file order, with the associations created through it. false past the
 * last rule. */
bool ctlreply_rule(const struct ctlreply_view *v, size_t i, struct ctl_rule_rec *r);
/* show config: the configuration in file syntax (conf_dump); malloc'd, not
 * NUL-terminated, *len bytes. NULL when out of memory. */
char *ctlreply_config(const struct gw_conf *c, size_t *len);

#endif
