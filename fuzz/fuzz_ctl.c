/* fuzz_ctl.c - libFuzzer target for the control protocol's message checks: the input
 * is a header and a payload, checked as a request (as the daemon does) and as a reply
 * (as sctpgwctl does). The checks must agree with each other and with the protocol:
 * any accepted request fits the daemon's buffer and has exactly its header's size. */
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
	return 0;
}
