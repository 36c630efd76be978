/* output.h - how sctpgwctl prints what the daemon sent: one struct output with a text
 * implementation for people and a JSON one for scripts (-j), chosen once in main. The
 * daemon's records are passed as received; every function returns 0, or -1 when the
 * output could not be produced (allocation or write failure). */
#ifndef SCTPGW_CTL_OUTPUT_H
#define SCTPGW_CTL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctlproto.h"

enum output_action {
	OUTPUT_RELOADED, /* reload: no count */
	OUTPUT_FLUSHED,  /* flush: associations removed */
	OUTPUT_UPDATED,  /* set remote-udp-port: associations changed */
};

struct output {
	/* show associations: the whole list, so columns can be sized from the data */
	int (*assoc_list)(FILE *f, const struct ctl_assoc_rec *recs, size_t n);
	/* show association ID: every field of one association */
	int (*assoc_detail)(FILE *f, const struct ctl_assoc_rec *r);
	int (*stats)(FILE *f, const struct ctl_stat_rec *recs, size_t n);
	int (*config)(FILE *f, const char *text, size_t len);
	/* show rules: the queueing header and the rules in the daemon's order */
	int (*rules)(FILE *f, const struct ctl_rules_hdr *h, const struct ctl_rule_rec *recs,
		     size_t n);
	int (*result)(FILE *f, enum output_action what, uint32_t count);
};

extern const struct output output_text;
extern const struct output output_json;

/* show stats --prometheus: the Prometheus text exposition format. */
int output_stats_prometheus(FILE *f, const struct ctl_stat_rec *recs, size_t n);

#endif
