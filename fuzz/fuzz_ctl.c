/* fuzz_ctl.c - libFuzzer target for the control protocol's message checks in ctlcheck.c.
 * The input is a header and a payload, checked as a request (as the daemon does) and as
 * a reply header (as sctpgwctl does). Read again as a request followed by the messages
 * of its reply, it goes through ctlcheck_reply() as sctpgwctl's reply_add() does. The
 * checks must agree with each other and with the protocol: any accepted request fits
 * the daemon's buffer and has exactly its header's size; an accepted reply message has
 * its type's size, a type its request is answered with, and usable fields; nothing is
 * accepted after the end of a reply. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const char *err, size_t errlen)
{
	if (strnlen(err, errlen) == errlen || !err[0])
		abort(); /* every refusal carries a terminated, non-empty message */
}

/* One accepted reply message against the protocol. */
static void check_reply_msg(const struct ctlcheck_reply *st, const struct ctl_hdr *h,
			    const uint8_t *payload, int rc)
{
	struct ctl_assoc_rec a;
	struct ctl_stat_rec s;
	char err[128];
	long want = ctlcheck_reply_hdr(h, err, sizeof(err));

	if ((want >= 0 && (uint32_t)want != h->len) || want < -1)
		abort();
	if (rc == 0) {
		if (h->type != CTL_REP_DONE && h->type != CTL_REP_ERROR)
			abort();
		if (h->type == CTL_REP_DONE && st->assoc_id && st->records != 1)
			abort();
		if (h->type == CTL_REP_DONE && st->request == CTL_REQ_SHOW_RULES && !st->rules_hdr)
			abort();
		return;
	}
	switch (h->type) {
	case CTL_REP_ASSOC:
		memcpy(&a, payload, sizeof(a));
		if (st->request != CTL_REQ_SHOW_ASSOC || a.npaths > ASSOC_MAX_PATHS ||
		    (st->assoc_id && (a.id != st->assoc_id || st->records != 1)))
			abort();
		break;
	case CTL_REP_STAT:
		memcpy(&s, payload, sizeof(s));
		if (st->request != CTL_REQ_SHOW_STATS || !memchr(s.name, 0, sizeof(s.name)))
			abort();
		break;
	case CTL_REP_CONFIG:
		if (st->request != CTL_REQ_SHOW_CONFIG)
			abort();
		break;
	case CTL_REP_RULES_HDR:
	case CTL_REP_RULE:
		if (st->request != CTL_REQ_SHOW_RULES || !st->rules_hdr)
			abort();
		break;
	default:
		abort();
	}
}

/* The input as a request (its header and payload) and the messages of its reply. */
static void check_reply_stream(const uint8_t *data, size_t size)
{
	struct ctlcheck_reply st;
	struct ctl_assoc_filter f = { 0 };
	struct ctl_hdr h;
	char err[128];
	long want;
	size_t off;
	int rc = 1;

	memcpy(&h, data, sizeof(h));
	want = ctlcheck_request_hdr(&h, err, sizeof(err));
	if (want < 0 || size - sizeof(h) < (size_t)want)
		return;
	if (h.type == CTL_REQ_SHOW_ASSOC && want)
		memcpy(&f, data + sizeof(h), sizeof(f));
	ctlcheck_reply_begin(&st, h.type, f.id);
	for (off = sizeof(h) + (size_t)want; rc > 0 && size - off >= sizeof(h);) {
		size_t plen;

		memcpy(&h, data + off, sizeof(h));
		off += sizeof(h);
		/* A truncated last payload is passed as it is: it must be refused. */
		plen = h.len < size - off ? h.len : size - off;
		memset(err, 0, sizeof(err));
		rc = ctlcheck_reply(&st, &h, data + off, plen, err, sizeof(err));
		off += plen;
		if (rc < 0) {
			if (rc != -EPROTO)
				abort();
			check_msg(err, sizeof(err));
		} else {
			if (rc > 1 || plen != h.len)
				abort();
			check_reply_msg(&st, &h, data + off - plen, rc);
		}
	}
	/* A complete reply takes nothing more, not even its own last message again. */
	if (rc == 0 &&
	    ctlcheck_reply(&st, &h, data + off - h.len, h.len, err, sizeof(err)) != -EPROTO)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_hdr h;
	const uint8_t *payload;
	size_t plen;
	char err[128];
	long want;
	int rc;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	payload = data + sizeof(h);
	plen = size - sizeof(h);

	memset(err, 0, sizeof(err));
	want = ctlcheck_request_hdr(&h, err, sizeof(err));
	if (want >= 0) {
		if ((size_t)want > CTLCHECK_MAX_REQUEST || (uint32_t)want != h.len)
			abort();
	} else {
		if (want != -EPROTO && want != -EINVAL && want != -EOPNOTSUPP)
			abort();
		check_msg(err, sizeof(err));
	}

	memset(err, 0, sizeof(err));
	rc = ctlcheck_request(&h, payload, plen, err, sizeof(err));
	if (rc == 0) {
		if (want < 0 || plen != (size_t)want)
			abort();
		/* Only show requests are read-only, and every accepted type has a name. */
		if (ctlcheck_read_only(h.type) !=
		    (h.type == CTL_REQ_SHOW_ASSOC || h.type == CTL_REQ_SHOW_STATS ||
		     h.type == CTL_REQ_SHOW_CONFIG || h.type == CTL_REQ_SHOW_RULES))
			abort();
		if (!strcmp(ctlcheck_request_name(h.type), "request"))
			abort();
	} else {
		if (rc > 0 || (want >= 0 && rc != -EINVAL))
			abort();
		check_msg(err, sizeof(err));
	}

	memset(err, 0, sizeof(err));
	want = ctlcheck_reply_hdr(&h, err, sizeof(err));
	if (want >= 0) {
		if ((uint32_t)want != h.len || h.len > CTL_MAX_PAYLOAD)
			abort();
	} else if (want == -1) {
		if (h.type != CTL_REP_CONFIG && h.type != CTL_REP_ERROR)
			abort();
		if (h.len > CTL_MAX_PAYLOAD)
			abort();
	} else {
		if (want != -EPROTO)
			abort();
		check_msg(err, sizeof(err));
	}

	check_reply_stream(data, size);
	return 0;
}
