/* output.c - text and JSON renderings of the daemon's records for sctpgwctl.
 *
 * JSON keys are snake_case and stable: scripts depend on them. Text is for people and
 * may change; its table columns are sized from the data so IPv6 never breaks them. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "assoc.h"
#include "counters.h"
#include "output.h"

#define CELL_LEN 96

/* How relay ports are read, worded for people and scripts alike. */
static const char *relay_ingest_name(uint8_t i)
{
	return i == 1 ? "raw SCTP socket" : i == 2 ? "input hook (queue)" : "none";
}

static const char *origin_name(uint8_t origin)
{
	return origin == ASSOC_FROM_OUTSIDE ? "outside" : "inside";
}

static const char *state_name(uint8_t state)
{
	return assoc_state_name((enum assoc_state)state);
}

static const char *fmt_addr(const struct ctl_addr *a, char *buf, size_t len)
{
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "-");
	return buf;
}

/* addr:port, IPv6 as [addr]:port. */
static const char *fmt_addr_port(const struct ctl_addr *a, uint16_t port, char *buf, size_t len)
{
	char ab[INET6_ADDRSTRLEN];

	fmt_addr(a, ab, sizeof(ab));
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ab, port);
	return buf;
}

/* Short human durations: 850ms, 12.3s, 4m05s, 2h07m, 3d04h. */
static const char *fmt_duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (ms == UINT64_MAX)
		snprintf(buf, len, "never");
	else if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else if (s < 60)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", s, (ms % 1000) / 100);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	return buf;
}

/* addr/len; "-" for a missing address. */
static const char *fmt_prefix(const struct ctl_addr *a, uint8_t len, char *buf, size_t blen)
{
	char ab[INET6_ADDRSTRLEN];

	fmt_addr(a, ab, sizeof(ab));
	snprintf(buf, blen, "%s/%u", ab, len);
	return buf;
}

static unsigned rec_npaths(const struct ctl_assoc_rec *r)
{
	return r->npaths < ASSOC_MAX_PATHS ? r->npaths : ASSOC_MAX_PATHS;
}

static unsigned rec_niaddrs(const struct ctl_assoc_rec *r)
{
	return r->niaddrs < ASSOC_MAX_IADDRS ? r->niaddrs : ASSOC_MAX_IADDRS;
}

/* ---- text ---- */

enum { COL_ID, COL_STATE, COL_INTERNAL, COL_REMOTE, COL_UDP, COL_TAGS, COL_PKTS, COL_IDLE, NCOL };

static const char *const col_head[NCOL] = {
	"ID", "STATE", "INTERNAL", "REMOTE", "UDP-PORT", "TAGS(INT/REM)", "PKTS(OUT/IN)", "IDLE",
};

/* Cells of one output line: line 0 is the association, line k its remote address k (a
 * continuation line with only REMOTE and UDP-PORT, so each address shows its port). */
static void text_cells(const struct ctl_assoc_rec *r, unsigned line, char cells[NCOL][CELL_LEN])
{
	char ab[INET6_ADDRSTRLEN + 16];

	for (int i = 0; i < NCOL; i++)
		cells[i][0] = '\0';
	if (line < rec_npaths(r)) {
		fmt_addr_port(&r->paths[line].addr, r->rport, cells[COL_REMOTE], CELL_LEN);
		snprintf(cells[COL_UDP], CELL_LEN, "%u", r->paths[line].udp_port);
	} else {
		snprintf(cells[COL_REMOTE], CELL_LEN, "-:%u", r->rport);
		snprintf(cells[COL_UDP], CELL_LEN, "-");
	}
	if (line)
		return;
	snprintf(cells[COL_ID], CELL_LEN, "%u", r->id);
	snprintf(cells[COL_STATE], CELL_LEN, "%s", state_name(r->state));
	fmt_addr_port(&r->iaddr, r->iport, ab, sizeof(ab));
	/* The port the peer sees, when translation changed it. */
	if (r->seen_port != r->iport)
		snprintf(cells[COL_INTERNAL], CELL_LEN, "%s(%u)", ab, r->seen_port);
	else
		snprintf(cells[COL_INTERNAL], CELL_LEN, "%s", ab);
	snprintf(cells[COL_TAGS], CELL_LEN, "0x%08x/0x%08x", r->itag, r->rtag);
	snprintf(cells[COL_PKTS], CELL_LEN, "%" PRIu64 "/%" PRIu64, r->pkts_out, r->pkts_in);
	fmt_duration(r->idle_ms, cells[COL_IDLE], CELL_LEN);
}

static unsigned text_lines(const struct ctl_assoc_rec *r)
{
	return rec_npaths(r) > 1 ? rec_npaths(r) : 1;
}

static void text_print_row_n(FILE *f, const char *const *cells, const size_t *width, int ncol)
{
	int last = ncol - 1;

	/* No trailing blanks on continuation lines. */
	while (last > 0 && !cells[last][0])
		last--;
	for (int i = 0; i < last; i++)
		fprintf(f, "%-*s  ", (int)width[i], cells[i]);
	fprintf(f, "%s\n", cells[last]);
}

static void text_print_row(FILE *f, const char *const *cells, const size_t *width)
{
	text_print_row_n(f, cells, width, NCOL);
}

static int text_assoc_list(FILE *f, const struct ctl_assoc_rec *recs, size_t n)
{
	char cells[NCOL][CELL_LEN];
	const char *row[NCOL];
	size_t width[NCOL];

	if (!n) {
		fprintf(f, "no associations\n");
		return 0;
	}
	for (int i = 0; i < NCOL; i++)
		width[i] = strlen(col_head[i]);
	/* Two passes (measure, then print) rather than keeping every cell of a large
	 * table in memory. */
	for (size_t k = 0; k < n; k++) {
		for (unsigned line = 0; line < text_lines(&recs[k]); line++) {
			text_cells(&recs[k], line, cells);
			for (int i = 0; i < NCOL; i++) {
				size_t l = strlen(cells[i]);

				if (l > width[i])
					width[i] = l;
			}
		}
	}
	text_print_row(f, col_head, width);
	for (int i = 0; i < NCOL; i++)
		row[i] = cells[i];
	for (size_t k = 0; k < n; k++) {
		for (unsigned line = 0; line < text_lines(&recs[k]); line++) {
			text_cells(&recs[k], line, cells);
			text_print_row(f, row, width);
		}
	}
	return 0;
}

static int text_assoc_detail(FILE *f, const struct ctl_assoc_rec *r)
{
	char b[CELL_LEN];

#define KV(key, ...)                           \
	do {                                   \
		fprintf(f, "%-16s ", key ":"); \
		fprintf(f, __VA_ARGS__);       \
		fputc('\n', f);                \
	} while (0)
	KV("id", "%u", r->id);
	KV("state", "%s", state_name(r->state));
	KV("origin", "%s", origin_name(r->origin));
	KV("internal", "%s", fmt_addr(&r->iaddr, b, sizeof(b)));
	/* A multi-homed host's other addresses, and which one is in use. */
	for (unsigned i = 0; rec_niaddrs(r) > 1 && i < rec_niaddrs(r); i++)
		KV("  address", "%s%s", fmt_addr(&r->iaddrs[i], b, sizeof(b)),
		   ctl_addr_equal(&r->iaddrs[i], &r->iaddr) ? " (in use)" : "");
	KV("internal port", "%u", r->iport);
	KV("seen port", "%u", r->seen_port);
	KV("remote port", "%u", r->rport);
	if (r->relay_port)
		KV("relayed as", "%s", fmt_addr_port(&r->relay_addr, r->relay_port, b, sizeof(b)));
	KV("internal tag", "0x%08x", r->itag);
	KV("remote tag", "0x%08x", r->rtag);
	KV("age", "%s", fmt_duration(r->age_ms, b, sizeof(b)));
	KV("idle", "%s", fmt_duration(r->idle_ms, b, sizeof(b)));
	KV("packets out", "%" PRIu64, r->pkts_out);
	KV("bytes out", "%" PRIu64, r->bytes_out);
	KV("packets in", "%" PRIu64, r->pkts_in);
	KV("bytes in", "%" PRIu64, r->bytes_in);
	if (r->keepalive_s)
		KV("keepalive", "%us", r->keepalive_s);
	else
		KV("keepalive", "off");
	if (!rec_npaths(r))
		KV("remote address", "none yet");
	for (unsigned i = 0; i < rec_npaths(r); i++) {
		const struct ctl_path_rec *p = &r->paths[i];

		KV("remote address", "%s", fmt_addr(&p->addr, b, sizeof(b)));
		KV("  udp port", "%u", p->udp_port);
		KV("  idle", "%s", fmt_duration(p->idle_ms, b, sizeof(b)));
		KV("  packets in", "%" PRIu64, p->pkts_in);
		KV("  packets out", "%" PRIu64, p->pkts_out);
		if (p->ka_sent || p->ka_answered)
			KV("  keepalives", "%" PRIu64 " sent, %" PRIu64 " answered, rtt %u ms",
			   p->ka_sent, p->ka_answered, p->ka_rtt_ms);
	}
#undef KV
	return 0;
}

static int text_stats(FILE *f, const struct ctl_stat_rec *recs, size_t n)
{
	int width = 0;

	for (size_t i = 0; i < n; i++) {
		int l = (int)strnlen(recs[i].name, CTL_STAT_NAME_LEN);

		if (l > width)
			width = l;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%-*.*s  %" PRIu64 "\n", width, CTL_STAT_NAME_LEN, recs[i].name,
			recs[i].value);
	return 0;
}

static int text_config(FILE *f, const char *text, size_t len)
{
	return fwrite(text, 1, len, f) == len ? 0 : -1;
}

enum { RCOL_LINE, RCOL_RULE, RCOL_MATCH, RCOL_ACTION, RCOL_ASSOC, NRCOL };

static const char *const rcol_head[NRCOL] = {
	"LINE", "RULE", "MATCH", "ACTION", "ASSOCIATIONS",
};

/* One encapsulate or forward rule as table cells, worded like the configuration. */
static void text_rule_cells(const struct ctl_rule_rec *r, char cells[NRCOL][CELL_LEN])
{
	char b[INET6_ADDRSTRLEN + 8], port[16] = "";

	snprintf(cells[RCOL_LINE], CELL_LEN, "%u", r->line);
	snprintf(cells[RCOL_ASSOC], CELL_LEN, "%" PRIu64, r->hits);
	if (r->kind == CTL_RULE_ENCAPSULATE) {
		if (r->port)
			snprintf(port, sizeof(port), " port %u", r->port);
		snprintf(cells[RCOL_RULE], CELL_LEN, "encapsulate");
		snprintf(cells[RCOL_MATCH], CELL_LEN, "to %s%s",
			 r->any ? "any" : fmt_prefix(&r->addr, r->prefix_len, b, sizeof(b)), port);
		snprintf(cells[RCOL_ACTION], CELL_LEN, "remote-udp-port %u", r->remote_udp_port);
	} else if (r->kind == CTL_RULE_RELAY) {
		snprintf(cells[RCOL_RULE], CELL_LEN, "relay");
		snprintf(cells[RCOL_MATCH], CELL_LEN, "port %u", r->port);
		snprintf(cells[RCOL_ACTION], CELL_LEN, "to %s port %u remote-udp-port %u",
			 fmt_addr(&r->addr, b, sizeof(b)), r->to_port, r->remote_udp_port);
	} else {
		snprintf(cells[RCOL_RULE], CELL_LEN, "forward");
		snprintf(cells[RCOL_MATCH], CELL_LEN, "port %u", r->port);
		snprintf(cells[RCOL_ACTION], CELL_LEN, "to %s port %u",
			 fmt_addr(&r->addr, b, sizeof(b)), r->to_port);
	}
}

static bool rule_in_table(const struct ctl_rule_rec *r)
{
	return r->kind == CTL_RULE_ENCAPSULATE || r->kind == CTL_RULE_FORWARD ||
	       r->kind == CTL_RULE_RELAY;
}

static int text_rules(FILE *f, const struct ctl_rules_hdr *h, const struct ctl_rule_rec *recs,
		      size_t n)
{
	char cells[NRCOL][CELL_LEN], b[CELL_LEN];
	const char *row[NRCOL];
	size_t width[NRCOL];

	fprintf(f, "%-16s %s\n", "queue mechanism:", h->queue_mechanism);
	if (h->queue_count > 1)
		fprintf(f, "%-16s %u-%u (%u workers)\n", "queues:", h->queue_num,
			h->queue_num + h->queue_count - 1, h->queue_count);
	else
		fprintf(f, "%-16s %u\n", "queue:", h->queue_num);
	fprintf(f, "%-16s 0x%08x\n", "mark:", h->mark);
	fprintf(f, "%-16s %s\n", "host mode:", h->host_mode ? "yes (output hook)" : "no");
	if (h->relay_ingest)
		fprintf(f, "%-16s %s\n", "relay ingest:", relay_ingest_name(h->relay_ingest));
	for (size_t k = 0; k < n; k++) {
		if (recs[k].kind == CTL_RULE_INTERNAL)
			fprintf(f, "%-16s %s\n", "internal:",
				fmt_prefix(&recs[k].addr, recs[k].prefix_len, b, sizeof(b)));
	}
	fputc('\n', f);
	for (int i = 0; i < NRCOL; i++)
		width[i] = strlen(rcol_head[i]);
	for (size_t k = 0; k < n; k++) {
		if (!rule_in_table(&recs[k]))
			continue;
		text_rule_cells(&recs[k], cells);
		for (int i = 0; i < NRCOL; i++) {
			size_t l = strlen(cells[i]);

			if (l > width[i])
				width[i] = l;
		}
	}
	text_print_row_n(f, rcol_head, width, NRCOL);
	for (int i = 0; i < NRCOL; i++)
		row[i] = cells[i];
	for (size_t k = 0; k < n; k++) {
		if (!rule_in_table(&recs[k]))
			continue;
		text_rule_cells(&recs[k], cells);
		text_print_row_n(f, row, width, NRCOL);
	}
	return 0;
}

static int text_result(FILE *f, enum output_action what, uint32_t count)
{
	const char *noun = count == 1 ? "association" : "associations";

	switch (what) {
	case OUTPUT_RELOADED:
		fprintf(f, "reloaded\n");
		break;
	case OUTPUT_FLUSHED:
		fprintf(f, "flushed %u %s\n", count, noun);
		break;
	case OUTPUT_UPDATED:
		fprintf(f, "updated %u %s\n", count, noun);
		break;
	}
	return 0;
}

const struct output output_text = {
	.assoc_list = text_assoc_list,
	.assoc_detail = text_assoc_detail,
	.stats = text_stats,
	.config = text_config,
	.rules = text_rules,
	.result = text_result,
};

/* ---- JSON ---- */

/* Counters are uint64_t; JSON integers (json_int_t) are signed. */
static json_t *json_u64(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *json_addr(const struct ctl_addr *a)
{
	char b[INET6_ADDRSTRLEN];

	return json_string(fmt_addr(a, b, sizeof(b)));
}

/* Prints root followed by a newline and releases it; NULL root means a failed build. */
static int json_emit(FILE *f, json_t *root, bool ok)
{
	int rc = -1;

	if (root && ok && json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
		fputc('\n', f);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* [{"address": A, "in_use": true}, ...]; the address in use alone when the record
 * lists none. */
static json_t *json_iaddrs(const struct ctl_assoc_rec *r)
{
	json_t *arr = json_array();

	for (unsigned i = 0; arr && i < (rec_niaddrs(r) ? rec_niaddrs(r) : 1); i++) {
		const struct ctl_addr *a = rec_niaddrs(r) ? &r->iaddrs[i] : &r->iaddr;
		json_t *o = json_object();

		if (!o || json_object_set_new(o, "address", json_addr(a)) ||
		    json_object_set_new(o, "in_use", json_boolean(ctl_addr_equal(a, &r->iaddr))) ||
		    json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *json_assoc(const struct ctl_assoc_rec *r)
{
	json_t *o = json_object(), *paths = json_array();
	int err = 0;

	if (!o || !paths) {
		json_decref(o);
		json_decref(paths);
		return NULL;
	}
	err |= json_object_set_new(o, "id", json_integer(r->id));
	err |= json_object_set_new(o, "state", json_string(state_name(r->state)));
	err |= json_object_set_new(o, "origin", json_string(origin_name(r->origin)));
	err |= json_object_set_new(o, "internal_address", json_addr(&r->iaddr));
	err |= json_object_set_new(o, "internal_addresses", json_iaddrs(r));
	err |= json_object_set_new(o, "internal_port", json_integer(r->iport));
	err |= json_object_set_new(o, "seen_port", json_integer(r->seen_port));
	err |= json_object_set_new(o, "remote_port", json_integer(r->rport));
	if (r->relay_port) {
		err |= json_object_set_new(o, "relay_address", json_addr(&r->relay_addr));
		err |= json_object_set_new(o, "relay_port", json_integer(r->relay_port));
	}
	err |= json_object_set_new(o, "internal_tag", json_integer(r->itag));
	err |= json_object_set_new(o, "remote_tag", json_integer(r->rtag));
	err |= json_object_set_new(o, "age_ms", json_u64(r->age_ms));
	err |= json_object_set_new(o, "idle_ms", json_u64(r->idle_ms));
	err |= json_object_set_new(o, "packets_out", json_u64(r->pkts_out));
	err |= json_object_set_new(o, "bytes_out", json_u64(r->bytes_out));
	err |= json_object_set_new(o, "packets_in", json_u64(r->pkts_in));
	err |= json_object_set_new(o, "bytes_in", json_u64(r->bytes_in));
	err |= json_object_set_new(o, "keepalive_interval", json_integer(r->keepalive_s));
	for (unsigned i = 0; i < rec_npaths(r); i++) {
		const struct ctl_path_rec *p = &r->paths[i];
		json_t *po = json_object();

		if (!po) {
			err = -1;
			break;
		}
		err |= json_object_set_new(po, "address", json_addr(&p->addr));
		err |= json_object_set_new(po, "udp_port", json_integer(p->udp_port));
		err |= json_object_set_new(po, "idle_ms",
					   p->idle_ms == UINT64_MAX ? json_null()
								    : json_u64(p->idle_ms));
		err |= json_object_set_new(po, "packets_in", json_u64(p->pkts_in));
		err |= json_object_set_new(po, "packets_out", json_u64(p->pkts_out));
		err |= json_object_set_new(po, "keepalives_sent", json_u64(p->ka_sent));
		err |= json_object_set_new(po, "keepalives_answered", json_u64(p->ka_answered));
		err |= json_object_set_new(po, "keepalive_rtt_ms", json_integer(p->ka_rtt_ms));
		err |= json_array_append_new(paths, po);
	}
	err |= json_object_set_new(o, "remote_addresses", paths);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int json_assoc_list(FILE *f, const struct ctl_assoc_rec *recs, size_t n)
{
	json_t *root = json_object(), *arr = json_array();
	bool ok = root && arr;

	for (size_t i = 0; ok && i < n; i++)
		ok = json_array_append_new(arr, json_assoc(&recs[i])) == 0;
	if (json_object_set_new(root, "associations", arr) < 0)
		ok = false;
	return json_emit(f, root, ok);
}

/* Same shape as the list, so scripts read one association like many. */
static int json_assoc_detail(FILE *f, const struct ctl_assoc_rec *r)
{
	return json_assoc_list(f, r, 1);
}

static int json_stats(FILE *f, const struct ctl_stat_rec *recs, size_t n)
{
	json_t *root = json_object(), *st = json_object();
	bool ok = root && st;

	for (size_t i = 0; ok && i < n; i++) {
		char name[CTL_STAT_NAME_LEN + 1];

		snprintf(name, sizeof(name), "%.*s", CTL_STAT_NAME_LEN, recs[i].name);
		ok = json_object_set_new(st, name, json_u64(recs[i].value)) == 0;
	}
	if (json_object_set_new(root, "stats", st) < 0)
		ok = false;
	return json_emit(f, root, ok);
}

static int json_config(FILE *f, const char *text, size_t len)
{
	json_t *root = json_object();
	/* json_stringn refuses invalid UTF-8; the configuration is ASCII in practice. */
	bool ok = root && json_object_set_new(root, "config", json_stringn(text, len)) == 0;

	return json_emit(f, root, ok);
}

static json_t *json_prefix(const struct ctl_addr *a, uint8_t len)
{
	char b[CELL_LEN];

	return json_string(fmt_prefix(a, len, b, sizeof(b)));
}

static json_t *json_rule(const struct ctl_rule_rec *r)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	if (r->kind == CTL_RULE_ENCAPSULATE) {
		err |= json_object_set_new(o, "to",
					   r->any ? json_string("any")
						  : json_prefix(&r->addr, r->prefix_len));
		err |= json_object_set_new(o, "port", json_integer(r->port));
		err |= json_object_set_new(o, "remote_udp_port", json_integer(r->remote_udp_port));
	} else {
		err |= json_object_set_new(o, "port", json_integer(r->port));
		err |= json_object_set_new(o, "to", json_addr(&r->addr));
		err |= json_object_set_new(o, "to_port", json_integer(r->to_port));
		if (r->kind == CTL_RULE_RELAY)
			err |= json_object_set_new(o, "remote_udp_port",
						   json_integer(r->remote_udp_port));
	}
	err |= json_object_set_new(o, "line", json_integer(r->line));
	err |= json_object_set_new(o, "associations", json_u64(r->hits));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int json_rules(FILE *f, const struct ctl_rules_hdr *h, const struct ctl_rule_rec *recs,
		      size_t n)
{
	json_t *root = json_object(), *rules = json_object();
	json_t *internal = json_array(), *encap = json_array(), *fwd = json_array();
	json_t *relay = json_array();
	bool ok = root && rules && internal && encap && fwd && relay;

	if (ok) {
		ok = json_object_set_new(rules, "queue_mechanism",
					 json_string(h->queue_mechanism)) == 0 &&
		     json_object_set_new(rules, "queue", json_integer(h->queue_num)) == 0 &&
		     json_object_set_new(rules, "workers",
					 json_integer(h->queue_count ? h->queue_count : 1)) == 0 &&
		     json_object_set_new(rules, "mark", json_integer(h->mark)) == 0 &&
		     json_object_set_new(rules, "host_mode", json_boolean(h->host_mode)) == 0 &&
		     json_object_set_new(rules, "relay_ingest",
					 h->relay_ingest
						 ? json_string(relay_ingest_name(h->relay_ingest))
						 : json_null()) == 0;
	}
	for (size_t i = 0; ok && i < n; i++) {
		const struct ctl_rule_rec *r = &recs[i];

		if (r->kind == CTL_RULE_INTERNAL)
			ok = json_array_append_new(internal,
						   json_prefix(&r->addr, r->prefix_len)) == 0;
		else if (r->kind == CTL_RULE_ENCAPSULATE)
			ok = json_array_append_new(encap, json_rule(r)) == 0;
		else if (r->kind == CTL_RULE_FORWARD)
			ok = json_array_append_new(fwd, json_rule(r)) == 0;
		else if (r->kind == CTL_RULE_RELAY)
			ok = json_array_append_new(relay, json_rule(r)) == 0;
	}
	/* set_new takes the reference even when it fails, so every call is made: each
	 * array is then released exactly once, with root. */
	if ((json_object_set_new(rules, "internal", internal) |
	     json_object_set_new(rules, "encapsulate", encap) |
	     json_object_set_new(rules, "forward", fwd) |
	     json_object_set_new(rules, "relay", relay) |
	     json_object_set_new(root, "rules", rules)) != 0)
		ok = false;
	return json_emit(f, root, ok);
}

static int json_result(FILE *f, enum output_action what, uint32_t count)
{
	json_t *root = json_object();
	bool ok = root && json_object_set_new(root, "result", json_string("ok")) == 0;

	if (ok && what != OUTPUT_RELOADED)
		ok = json_object_set_new(root, "count", json_integer(count)) == 0;
	return json_emit(f, root, ok);
}

const struct output output_json = {
	.assoc_list = json_assoc_list,
	.assoc_detail = json_assoc_detail,
	.stats = json_stats,
	.config = json_config,
	.rules = json_rules,
	.result = json_result,
};

/* ---- Prometheus ---- */

/* The statistics this sctpgwctl knows (counters.h); drops are known by their prefix. */
static const struct prom_stat {
	const char *name, *help;
	enum counter_type type;
} prom_known[] = {
#define PROM_KNOWN(field, name, type, help) { name, help, type },
	GW_COUNTERS(PROM_KNOWN, COUNTER_NONE, PROM_KNOWN)
#undef PROM_KNOWN
};

static const struct prom_stat *prom_find(const char *name)
{
	for (size_t i = 0; i < sizeof(prom_known) / sizeof(prom_known[0]); i++) {
		if (!strcmp(name, prom_known[i].name))
			return &prom_known[i];
	}
	return NULL;
}

int output_stats_prometheus(FILE *f, const struct ctl_stat_rec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char name[CTL_STAT_NAME_LEN + 1], help[CTL_STAT_NAME_LEN + 64];
		const char *type = "counter", *suffix = "_total";
		const struct prom_stat *known;
		bool drop;

		/* Metric names allow [a-zA-Z0-9_:]; the daemon sends snake_case anyway. */
		snprintf(name, sizeof(name), "%.*s", CTL_STAT_NAME_LEN, recs[i].name);
		for (char *p = name; *p; p++) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '_'))
				*p = '_';
		}
		known = prom_find(name);
		drop = !strncmp(name, "drop_", 5);
		if (known)
			snprintf(help, sizeof(help), "%s", known->help);
		else if (drop)
			snprintf(help, sizeof(help), "Packets dropped: %s.", name + 5);
		else
			snprintf(help, sizeof(help), "sctp-udp-gw statistic %s.", name);
		if (known && known->type == COUNTER_GAUGE) {
			type = "gauge";
			suffix = "";
		} else if (!known && !drop) {
			/* A statistic this sctpgwctl does not know yet: no claim about it. */
			type = "untyped";
			suffix = "";
		}
		fprintf(f, "# HELP sctp_udp_gw_%s%s %s\n", name, suffix, help);
		fprintf(f, "# TYPE sctp_udp_gw_%s%s %s\n", name, suffix, type);
		fprintf(f, "sctp_udp_gw_%s%s %" PRIu64 "\n", name, suffix, recs[i].value);
	}
	return 0;
}
