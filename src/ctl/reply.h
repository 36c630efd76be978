/* reply.h - one reply of the daemon as sctpgwctl shows it: every message is checked by
 * ctlcheck_reply() and collected, and the complete reply is shown through struct
 * output. No sockets here: sctpgwctl.c reads the messages, tests/ctl builds them. */
#ifndef SCTPGW_CTL_REPLY_H
#define SCTPGW_CTL_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctlcheck.h"
#include "output.h"

/* show associations filters, all of which must match. The daemon sends every
 * association and the CLI selects: the table is read once either way. */
struct assoc_filter {
	bool has_state, has_internal, has_remote, has_port;
	uint8_t state;
	struct ctl_addr internal, remote;
	uint16_t port;
};

/* How to show a reply, from the command line. */
struct reply_view {
	const struct output *out;
	bool prometheus;                   /* show stats --prometheus */
	const struct assoc_filter *filter; /* show associations; NULL: every one */
};

struct reply {
	struct ctlcheck_reply check;
	uint8_t *data; /* the records of the request's data type, or the configuration text */
	size_t len, cap;
	struct ctl_rules_hdr rules_hdr; /* show rules */
	uint32_t count;                 /* DONE's, when it has one */
};

/* A reply to request (enum ctl_type); assoc_id: show association ID's, else 0. */
void reply_begin(struct reply *r, uint16_t request, uint32_t assoc_id);
/* The next message, with its h->len bytes of payload: 1 when more are to come, 0 when
 * the reply is complete (DONE), -1 when it failed (the daemon's ERROR, a malformed
 * message, no memory) with the reason printed on err. */
int reply_add(struct reply *r, const struct ctl_hdr *h, const void *payload, FILE *err);
/* A complete reply on out: 0, or EXIT_FAILURE when it could not be printed. */
int reply_show(struct reply *r, const struct reply_view *v, FILE *out, FILE *err);
void reply_free(struct reply *r);

#endif
