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

int ctlcheck_request(const struct ctl_hdr *h, const void *payload, size_t payload_len,
		     char *err, size_t errlen)
{
	long want = ctlcheck_request_hdr(h, err, errlen);
	struct ctl_set_port sp;

	if (want < 0)
		return (int)want;
	if (payload_len != (size_t)want) {
		snprintf(err, errlen, "request type %u: %zu payload bytes, header says %u",
			 h->type, payload_len, h->len);
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
		snprintf(err, errlen, "does not speak the sctp-udp-gw control protocol");
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
