/* ctlcheck.h - the checks every control message passes before it is used (protocol in
 * ctlproto.h). Pure: the daemon, sctpgwctl and the fuzzer share them. */
#ifndef SCTPGW_CTLCHECK_H
#define SCTPGW_CTLCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "ctlproto.h"

/* The largest request payload (the daemon's receive buffer). */
#define CTLCHECK_MAX_REQUEST sizeof(struct ctl_set_port)

/* A request header: the payload size to read next (0 .. CTLCHECK_MAX_REQUEST), or
 * -errno (-EPROTO, -EINVAL, -EOPNOTSUPP) with a message for the client in err. */
long ctlcheck_request_hdr(const struct ctl_hdr *h, char *err, size_t errlen);
/* A whole request: the header as above, payload_len bytes of payload that must match
 * it, and the payload's fields. 0, or -errno with err set. */
int ctlcheck_request(const struct ctl_hdr *h, const void *payload, size_t payload_len, char *err,
		     size_t errlen);
/* Requests that change nothing (show ...): anyone who can connect may send them. */
bool ctlcheck_read_only(uint16_t type);
/* "reload", "flush", "set remote-udp-port", ... for messages; "request" if unknown. */
const char *ctlcheck_request_name(uint16_t type);

/* A reply header, on the client side: the payload size to read (exact), or -1 when any
 * size up to CTL_MAX_PAYLOAD is allowed and h->len is to be read; -errno with err set
 * for a reply that must not be used. */
long ctlcheck_reply_hdr(const struct ctl_hdr *h, char *err, size_t errlen);

/* Far beyond any table size the daemon accepts; stops a runaway reply. */
#define CTLCHECK_MAX_RECORDS (1u << 24)

/* One reply as the client reads it: the request it answers and what came so far. */
struct ctlcheck_reply {
	uint16_t request;  /* enum ctl_type of the request */
	uint32_t assoc_id; /* show association ID: the ID; 0 otherwise */
	uint32_t records;  /* data messages so far */
	bool rules_hdr;    /* CTL_REP_RULES_HDR seen */
	bool complete;     /* DONE or ERROR seen: nothing may follow */
};

void ctlcheck_reply_begin(struct ctlcheck_reply *st, uint16_t request, uint32_t assoc_id);
/* The next message of the reply, with payload_len bytes of payload: its header as
 * above, then that it has exactly that payload, is a type the request is answered with,
 * comes in order (one rules header before the rules; show association ID: exactly its
 * one association) and that its record's strings are terminated and counts in range.
 * 1: a data message, more follow; 0: DONE or ERROR, the reply is complete; -EPROTO with
 * err set for a reply that must not be used. */
int ctlcheck_reply(struct ctlcheck_reply *st, const struct ctl_hdr *h, const void *payload,
		   size_t payload_len, char *err, size_t errlen);

#endif
