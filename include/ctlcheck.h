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
int ctlcheck_request(const struct ctl_hdr *h, const void *payload, size_t payload_len,
		     char *err, size_t errlen);
/* Requests that change nothing (show ...): anyone who can connect may send them. */
bool ctlcheck_read_only(uint16_t type);
/* "reload", "flush", "set remote-udp-port", ... for messages; "request" if unknown. */
const char *ctlcheck_request_name(uint16_t type);

/* A reply header, on the client side: the payload size to read (exact), or -1 when any
 * size up to CTL_MAX_PAYLOAD is allowed and h->len is to be read; -errno with err set
 * for a reply that must not be used. */
long ctlcheck_reply_hdr(const struct ctl_hdr *h, char *err, size_t errlen);

#endif
