/* ctlreply.c - daemon state turned into reply records (ctlreply.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlreply.h"

static uint64_t ctlreply_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

void ctlreply_assoc(struct ctl_assoc_rec *r, const struct assoc *a, uint64_t now_ms)
{
	unsigned n = a->npaths < ASSOC_MAX_PATHS ? a->npaths : ASSOC_MAX_PATHS;

	memset(r, 0, sizeof(*r));
	r->id = a->id;
	r->state = a->state;
	r->origin = a->origin;
	r->npaths = (uint8_t)n;
	ctl_addr_from_gw_addr(&r->iaddr, &a->iaddr);
	r->iport = a->iport;
	r->seen_port = a->seen_port;
	r->rport = a->rport;
	r->itag = a->itag;
	r->rtag = a->rtag;
	r->age_ms = ctlreply_since(now_ms, a->created_ms);
	r->idle_ms = ctlreply_since(now_ms, a->last_ms);
	r->pkts_out = a->pkts_out;
	r->bytes_out = a->bytes_out;
	r->pkts_in = a->pkts_in;
	r->bytes_in = a->bytes_in;
	if (a->relay_port) {
		ctl_addr_from_gw_addr(&r->relay_addr, &a->relay_addr);
		r->relay_port = a->relay_port;
	}
	r->keepalive_s = a->ka_interval_s;
	r->niaddrs = a->niaddrs < ASSOC_MAX_IADDRS ? a->niaddrs : ASSOC_MAX_IADDRS;
	for (unsigned i = 0; i < r->niaddrs; i++)
		ctl_addr_from_gw_addr(&r->iaddrs[i], &a->iaddrs[i].addr);
	for (unsigned i = 0; i < n; i++) {
		const struct assoc_path *p = &a->paths[i];
		struct ctl_path_rec *pr = &r->paths[i];

		ctl_addr_from_gw_addr(&pr->addr, &p->addr);
		pr->udp_port = p->udp_port;
		pr->idle_ms =
			p->last_seen_ms ? ctlreply_since(now_ms, p->last_seen_ms) : UINT64_MAX;
		pr->pkts_in = p->pkts_in;
		pr->pkts_out = p->pkts_out;
		pr->ka_sent = p->ka_sent;
		pr->ka_answered = p->ka_answered;
		pr->ka_rtt_ms = p->ka_rtt_ms;
	}
}

/* counters.h's list as data: a value's offset in struct ctlreply_view, or the drops. */
static const struct ctlreply_stat {
	const char *name; /* NULL: every drop reason here */
	size_t off;
} ctlreply_stat_list[] = {
#define CTLREPLY_STAT(field, name, type, help) \
	{ name, offsetof(struct ctlreply_view, stats.field) },
#define CTLREPLY_DROPS() { NULL, 0 },
#define CTLREPLY_VALUE(field, name, type, help) { name, offsetof(struct ctlreply_view, field) },
	GW_COUNTERS(CTLREPLY_STAT, CTLREPLY_DROPS, CTLREPLY_VALUE)
#undef CTLREPLY_STAT
#undef CTLREPLY_DROPS
#undef CTLREPLY_VALUE
};

static void ctlreply_stat(struct ctl_stat_rec *r, const char *prefix, const char *name,
			  uint64_t value)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s%s", prefix, name);
	r->value = value;
}

size_t ctlreply_stats(const struct ctlreply_view *v, struct ctl_stat_rec out[CTLREPLY_NSTATS])
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(ctlreply_stat_list) / sizeof(ctlreply_stat_list[0]); i++) {
		const struct ctlreply_stat *s = &ctlreply_stat_list[i];
		uint64_t value;

		if (!s->name) {
			for (int d = 0; d < DROP_COUNT; d++)
				ctlreply_stat(&out[n++], "drop_", stats_drop_name((enum gw_drop)d),
					      v->stats.drops[d]);
			continue;
		}
		memcpy(&value, (const char *)v + s->off, sizeof(value));
		ctlreply_stat(&out[n++], "", s->name, value);
	}
	return n;
}

void ctlreply_rules_hdr(const struct ctlreply_view *v, struct ctl_rules_hdr *h)
{
	const struct gw_conf *c = v->conf;

	memset(h, 0, sizeof(*h));
	snprintf(h->queue_mechanism, sizeof(h->queue_mechanism), "%s", v->queue_mechanism);
	h->queue_num = c->queue_num;
	h->queue_count = c->queue_count;
	h->mark = c->mark;
	h->host_mode = c->host_mode;
	h->relay_ingest = v->relay_ingest;
}

/* Rule i of one kind into r (zeroed, kind set); only what that kind has. */
static void ctlreply_internal(struct ctl_rule_rec *r, const struct ctlreply_view *v, unsigned i)
{
	const struct conf_prefix *p = &v->conf->internal[i];

	ctl_addr_from_gw_addr(&r->addr, &p->addr);
	r->prefix_len = p->len;
}

static void ctlreply_encap(struct ctl_rule_rec *r, const struct ctlreply_view *v, unsigned i)
{
	const struct conf_encap *e = &v->conf->encap[i];

	r->any = e->any;
	if (!e->any) {
		ctl_addr_from_gw_addr(&r->addr, &e->dst.addr);
		r->prefix_len = e->dst.len;
	}
	r->port = e->port;
	r->remote_udp_port = e->remote_udp_port;
	r->line = e->line;
	r->hits = v->stats.rule_hits.encap[i];
}

static void ctlreply_forward(struct ctl_rule_rec *r, const struct ctlreply_view *v, unsigned i)
{
	const struct conf_forward *f = &v->conf->forward[i];

	ctl_addr_from_gw_addr(&r->addr, &f->to);
	r->port = f->port;
	r->to_port = f->to_port;
	r->line = f->line;
	r->hits = v->stats.rule_hits.forward[i];
}

static void ctlreply_relay(struct ctl_rule_rec *r, const struct ctlreply_view *v, unsigned i)
{
	const struct conf_relay *rl = &v->conf->relay[i];

	ctl_addr_from_gw_addr(&r->addr, &rl->to);
	r->port = rl->port;
	r->to_port = rl->to_port;
	r->remote_udp_port = rl->remote_udp_port;
	r->line = rl->line;
	r->hits = v->stats.rule_hits.relay[i];
}

/* The kinds in the order show rules sends them; count: offset of how many there are. */
static const struct ctlreply_rule_kind {
	uint8_t kind;
	size_t count;
	void (*fill)(struct ctl_rule_rec *r, const struct ctlreply_view *v, unsigned i);
} ctlreply_rule_kinds[] = {
	{ CTL_RULE_INTERNAL, offsetof(struct gw_conf, ninternal), ctlreply_internal },
	{ CTL_RULE_ENCAPSULATE, offsetof(struct gw_conf, nencap), ctlreply_encap },
	{ CTL_RULE_FORWARD, offsetof(struct gw_conf, nforward), ctlreply_forward },
	{ CTL_RULE_RELAY, offsetof(struct gw_conf, nrelay), ctlreply_relay },
};

bool ctlreply_rule(const struct ctlreply_view *v, size_t i, struct ctl_rule_rec *r)
{
	for (size_t k = 0; k < sizeof(ctlreply_rule_kinds) / sizeof(ctlreply_rule_kinds[0]); k++) {
		const struct ctlreply_rule_kind *rk = &ctlreply_rule_kinds[k];
		unsigned n;

		memcpy(&n, (const char *)v->conf + rk->count, sizeof(n));
		if (i >= n) {
			i -= n;
			continue;
		}
		memset(r, 0, sizeof(*r));
		r->kind = rk->kind;
		rk->fill(r, v, (unsigned)i);
		return true;
	}
	return false;
}

char *ctlreply_config(const struct gw_conf *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	conf_dump(c, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
