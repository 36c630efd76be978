/* ctlcheck.c - the checks every control message passes before it is used. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctlcheck.h"

bool ctlcheck_read_only(uint16_t type)
{
	switch (type) {
	case CTL_REQ_SHOW_ASSOC:
	case CTL_REQ_SHOW_STATS:
	case CTL_REQ_SHOW_CONFIG:
	case CTL_REQ_SHOW_RULES:
		return true;
	default:
		return false;
	}
}

const char *ctlcheck_request_name(uint16_t type)
{
	switch (type) {
	case CTL_REQ_SHOW_ASSOC:
		return "show associations";
	case CTL_REQ_SHOW_STATS:
		return "show stats";
	case CTL_REQ_SHOW_CONFIG:
		return "show config";
	case CTL_REQ_SHOW_RULES:
		return "show rules";
	case CTL_REQ_RELOAD:
		return "reload";
	case CTL_REQ_FLUSH:
		return "flush";
	case CTL_REQ_SET_PORT:
		return "set remote-udp-port";
	default:
		return "request";
	}
}

long ctlcheck_request_hdr(const struct ctl_hdr *h, char *err, size_t errlen)
{
	long want;

	if (h->magic != CTL_MAGIC || h->version != CTL_VERSION) {
		snprintf(err, errlen, "protocol version mismatch: daemon speaks %u", CTL_VERSION);
		return -EPROTO;
	}
	if (h->len > CTL_MAX_PAYLOAD) {
		snprintf(err, errlen, "request payload too long: %u bytes", h->len);
		return -EINVAL;
	}
	switch (h->type) {
	case CTL_REQ_SHOW_ASSOC: /* the filter is optional */
		want = h->len == sizeof(struct ctl_assoc_filter) ? (long)h->len : 0;
		break;
	case CTL_REQ_SET_PORT:
		want = sizeof(struct ctl_set_port);
		break;
	case CTL_REQ_SHOW_STATS:
	case CTL_REQ_RELOAD:
	case CTL_REQ_FLUSH:
	case CTL_REQ_SHOW_CONFIG:
	case CTL_REQ_SHOW_RULES:
		want = 0;
		break;
	default:
		snprintf(err, errlen, "unknown request type %u", h->type);
		return -EOPNOTSUPP;
	}
	if ((long)h->len != want) {
		snprintf(err, errlen, "wrong payload size %u for request type %u", h->len, h->type);
		return -EINVAL;
	}
	return want;
}

int ctlcheck_request(const struct ctl_hdr *h, const void *payload, size_t payload_len, char *err,
		     size_t errlen)
{
	long want = ctlcheck_request_hdr(h, err, errlen);
	struct ctl_set_port sp;

	if (want < 0)
		return (int)want;
	if (payload_len != (size_t)want) {
		snprintf(err, errlen, "request type %u: %zu payload bytes, header says %u", h->type,
			 payload_len, h->len);
		return -EINVAL;
	}
	if (h->type == CTL_REQ_SET_PORT) {
		memcpy(&sp, payload, sizeof(sp));
		if ((sp.addr.family != AF_INET && sp.addr.family != AF_INET6) || !sp.udp_port) {
			snprintf(err, errlen, "invalid address family or UDP port 0");
			return -EINVAL;
		}
	}
	return 0;
}

long ctlcheck_reply_hdr(const struct ctl_hdr *h, char *err, size_t errlen)
{
	long want;

	if (h->magic != CTL_MAGIC) {
		snprintf(err, errlen, "the socket does not speak the sctp-udp-gw control protocol");
		return -EPROTO;
	}
	if (h->version != CTL_VERSION) {
		snprintf(err, errlen, "protocol version mismatch: daemon speaks %u, sctpgwctl %u",
			 h->version, CTL_VERSION);
		return -EPROTO;
	}
	switch (h->type) {
	case CTL_REP_ASSOC:
		want = sizeof(struct ctl_assoc_rec);
		break;
	case CTL_REP_STAT:
		want = sizeof(struct ctl_stat_rec);
		break;
	case CTL_REP_RULES_HDR:
		want = sizeof(struct ctl_rules_hdr);
		break;
	case CTL_REP_RULE:
		want = sizeof(struct ctl_rule_rec);
		break;
	case CTL_REP_DONE:
		want = h->len == 0 ? 0 : (long)sizeof(struct ctl_done);
		break;
	case CTL_REP_CONFIG:
	case CTL_REP_ERROR:
		want = -1;
		break;
	default:
		snprintf(err, errlen, "unexpected reply type %u from the daemon", h->type);
		return -EPROTO;
	}
	if (h->len > CTL_MAX_PAYLOAD || (want >= 0 && (long)h->len != want)) {
		snprintf(err, errlen, "malformed reply from the daemon (type %u, %u bytes)",
			 h->type, h->len);
		return -EPROTO;
	}
	return want;
}

void ctlcheck_reply_begin(struct ctlcheck_reply *st, uint16_t request, uint32_t assoc_id)
{
	memset(st, 0, sizeof(*st));
	st->request = request;
	st->assoc_id = request == CTL_REQ_SHOW_ASSOC ? assoc_id : 0;
}

/* The data message types a request is answered with. */
static bool reply_type_fits(uint16_t request, uint16_t type)
{
	switch (request) {
	case CTL_REQ_SHOW_ASSOC:
		return type == CTL_REP_ASSOC;
	case CTL_REQ_SHOW_STATS:
		return type == CTL_REP_STAT;
	case CTL_REQ_SHOW_CONFIG:
		return type == CTL_REP_CONFIG;
	case CTL_REQ_SHOW_RULES:
		return type == CTL_REP_RULES_HDR || type == CTL_REP_RULE;
	default:
		return false;
	}
}

/* A record's fields: strings terminated, counts in range, the one association asked for.
 * The payload is copied out: it need not be aligned. 0 or -EPROTO. */
static int reply_fields_check(const struct ctlcheck_reply *st, const struct ctl_hdr *h,
			      const void *payload, char *err, size_t errlen)
{
	union {
		struct ctl_assoc_rec a;
		struct ctl_stat_rec s;
		struct ctl_rules_hdr rh;
	} r;

	switch (h->type) {
	case CTL_REP_ASSOC:
		memcpy(&r.a, payload, sizeof(r.a));
		if (r.a.npaths > ASSOC_MAX_PATHS) {
			snprintf(err, errlen,
				 "the daemon sent association %u with %u remote "
				 "addresses (at most %u)",
				 r.a.id, r.a.npaths, ASSOC_MAX_PATHS);
			return -EPROTO;
		}
		if (r.a.niaddrs > ASSOC_MAX_IADDRS) {
			snprintf(err, errlen,
				 "the daemon sent association %u with %u internal "
				 "addresses (at most %u)",
				 r.a.id, r.a.niaddrs, ASSOC_MAX_IADDRS);
			return -EPROTO;
		}
		if (st->assoc_id && r.a.id != st->assoc_id) {
			snprintf(err, errlen, "the daemon sent association %u for association %u",
				 r.a.id, st->assoc_id);
			return -EPROTO;
		}
		if (st->assoc_id && st->records) {
			snprintf(err, errlen,
				 "the daemon sent more than one record for "
				 "association %u",
				 st->assoc_id);
			return -EPROTO;
		}
		break;
	case CTL_REP_STAT:
		memcpy(&r.s, payload, sizeof(r.s));
		if (strnlen(r.s.name, sizeof(r.s.name)) == sizeof(r.s.name)) {
			snprintf(err, errlen, "the daemon sent a statistic name with no end");
			return -EPROTO;
		}
		break;
	case CTL_REP_RULES_HDR:
		memcpy(&r.rh, payload, sizeof(r.rh));
		if (strnlen(r.rh.queue_mechanism, sizeof(r.rh.queue_mechanism)) ==
		    sizeof(r.rh.queue_mechanism)) {
			snprintf(err, errlen, "the daemon sent a queue mechanism with no end");
			return -EPROTO;
		}
		break;
	}
	return 0;
}

/* A data message's place in the reply, then its fields; 0 or -EPROTO. */
static int reply_record_check(const struct ctlcheck_reply *st, const struct ctl_hdr *h,
			      const void *payload, char *err, size_t errlen)
{
	const char *wrong = NULL;

	if (!reply_type_fits(st->request, h->type)) {
		snprintf(err, errlen, "unexpected reply type %u from the daemon", h->type);
		return -EPROTO;
	}
	if (st->records >= CTLCHECK_MAX_RECORDS)
		wrong = "the reply is too large";
	else if (h->type == CTL_REP_RULES_HDR && st->rules_hdr)
		wrong = "the daemon sent a second rules header";
	else if (h->type == CTL_REP_RULE && !st->rules_hdr)
		wrong = "the daemon sent a rule before the rules header";
	if (wrong) {
		snprintf(err, errlen, "%s", wrong);
		return -EPROTO;
	}
	return reply_fields_check(st, h, payload, err, errlen);
}

/* DONE or ERROR: whether the reply is whole; 0 or -EPROTO. */
static int reply_end_check(const struct ctlcheck_reply *st, const struct ctl_hdr *h, char *err,
			   size_t errlen)
{
	if (h->type == CTL_REP_ERROR)
		return 0;
	if (st->assoc_id && st->records != 1) {
		snprintf(err, errlen, "the daemon sent %u records for association %u", st->records,
			 st->assoc_id);
		return -EPROTO;
	}
	if (st->request == CTL_REQ_SHOW_RULES && !st->rules_hdr) {
		snprintf(err, errlen, "the daemon sent no rules header");
		return -EPROTO;
	}
	return 0;
}

int ctlcheck_reply(struct ctlcheck_reply *st, const struct ctl_hdr *h, const void *payload,
		   size_t payload_len, char *err, size_t errlen)
{
	long want = ctlcheck_reply_hdr(h, err, errlen);
	int rc;

	if (want < -1)
		return (int)want;
	if (payload_len != h->len) {
		snprintf(err, errlen, "reply type %u: %zu payload bytes, header says %u", h->type,
			 payload_len, h->len);
		return -EPROTO;
	}
	if (st->complete) {
		snprintf(err, errlen, "reply type %u after the end of the reply", h->type);
		return -EPROTO;
	}
	if (h->type == CTL_REP_DONE || h->type == CTL_REP_ERROR) {
		rc = reply_end_check(st, h, err, errlen);
		if (!rc)
			st->complete = true;
		return rc;
	}
	rc = reply_record_check(st, h, payload, err, errlen);
	if (rc)
		return rc;
	st->records++;
	if (h->type == CTL_REP_RULES_HDR)
		st->rules_hdr = true;
	return 1;
}
