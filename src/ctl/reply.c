/* reply.c - check, collect and show one reply of the daemon (see reply.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "reply.h"

void reply_begin(struct reply *r, uint16_t request, uint32_t assoc_id)
{
	memset(r, 0, sizeof(*r));
	ctlcheck_reply_begin(&r->check, request, assoc_id);
}

void reply_free(struct reply *r)
{
	free(r->data);
	r->data = NULL;
	r->len = r->cap = 0;
}

static int reply_append(struct reply *r, const void *p, size_t len)
{
	if (len > r->cap - r->len) {
		size_t cap = r->cap ? r->cap : 4096;
		uint8_t *d;

		while (cap - r->len < len)
			cap *= 2;
		d = realloc(r->data, cap);
		if (!d)
			return -1;
		r->data = d;
		r->cap = cap;
	}
	memcpy(r->data + r->len, p, len);
	r->len += len;
	return 0;
}

/* The daemon's message text, made safe for a terminal. */
static void reply_print_error(const struct ctl_hdr *h, const uint8_t *text, FILE *err)
{
	int status = h->status < 0 ? -h->status : EIO;

	if (!h->len) {
		fprintf(err, "sctpgwctl: %s\n", strerror(status));
		return;
	}
	fputs("sctpgwctl: ", err);
	for (uint32_t i = 0; i < h->len; i++)
		fputc(text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i], err);
	fputc('\n', err);
}

int reply_add(struct reply *r, const struct ctl_hdr *h, const void *payload, FILE *err)
{
	char msg[160];
	int rc = ctlcheck_reply(&r->check, h, payload, h->len, msg, sizeof(msg));

	if (rc < 0) {
		fprintf(err, "sctpgwctl: %s\n", msg);
		return -1;
	}
	switch (h->type) {
	case CTL_REP_ERROR:
		reply_print_error(h, payload, err);
		return -1;
	case CTL_REP_DONE:
		if (h->len)
			memcpy(&r->count, payload, sizeof(r->count));
		return 0;
	case CTL_REP_RULES_HDR:
		memcpy(&r->rules_hdr, payload, sizeof(r->rules_hdr));
		return 1;
	default:
		if (reply_append(r, payload, h->len) < 0) {
			fprintf(err, "sctpgwctl: out of memory\n");
			return -1;
		}
		return 1;
	}
}

static bool assoc_filter_match(const struct assoc_filter *f, const struct ctl_assoc_rec *r)
{
	bool found = false;

	if (f->has_state && r->state != f->state)
		return false;
	if (f->has_internal && !ctl_addr_equal(&r->iaddr, &f->internal))
		return false;
	for (unsigned i = 0; f->has_remote && i < r->npaths && !found; i++)
		found = ctl_addr_equal(&r->paths[i].addr, &f->remote);
	if (f->has_remote && !found)
		return false;
	if (f->has_port && r->iport != f->port && r->seen_port != f->port && r->rport != f->port)
		return false;
	return true;
}

static int show_assoc(struct reply *r, const struct reply_view *v, FILE *out)
{
	struct ctl_assoc_rec *recs = (struct ctl_assoc_rec *)r->data;
	size_t n = 0, total = r->len / sizeof(*recs);

	if (r->check.assoc_id)
		return v->out->assoc_detail(out, recs);
	for (size_t i = 0; i < total; i++) {
		if (!v->filter || assoc_filter_match(v->filter, &recs[i]))
			recs[n++] = recs[i];
	}
	return v->out->assoc_list(out, recs, n);
}

int reply_show(struct reply *r, const struct reply_view *v, FILE *out, FILE *err)
{
	const struct ctl_stat_rec *stats = (const struct ctl_stat_rec *)r->data;
	size_t nstats = r->len / sizeof(*stats);
	int rc = -1;

	switch (r->check.request) {
	case CTL_REQ_SHOW_ASSOC:
		rc = show_assoc(r, v, out);
		break;
	case CTL_REQ_SHOW_STATS:
		rc = v->prometheus ? output_stats_prometheus(out, stats, nstats)
				   : v->out->stats(out, stats, nstats);
		break;
	case CTL_REQ_SHOW_CONFIG:
		rc = v->out->config(out, r->data ? (const char *)r->data : "", r->len);
		if (rc < 0)
			fprintf(err, "sctpgwctl: cannot print the configuration\n");
		break;
	case CTL_REQ_SHOW_RULES:
		rc = v->out->rules(out, &r->rules_hdr, (const struct ctl_rule_rec *)r->data,
				   r->len / sizeof(struct ctl_rule_rec));
		break;
	case CTL_REQ_RELOAD:
		rc = v->out->result(out, OUTPUT_RELOADED, 0);
		break;
	case CTL_REQ_FLUSH:
		rc = v->out->result(out, OUTPUT_FLUSHED, r->count);
		break;
	case CTL_REQ_SET_PORT:
		rc = v->out->result(out, OUTPUT_UPDATED, r->count);
		break;
	}
	return rc < 0 ? EXIT_FAILURE : 0;
}
