/* conf.c - the configuration parser: pure, line by line, into struct gw_conf.
 *
 * Every mistake is an error naming the file, the line and the offending token; nothing
 * is silently defaulted or ignored, because a gateway that guesses routes traffic wrong. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"

#define CONF_MAX_LINE 1023
#define CONF_MAX_TOKENS 16
#define CONF_DEFAULT_REMOTE_UDP_PORT 9899

/* Single-valued statements: a bit in r->seen and a slot in r->seen_line each. */
enum conf_single {
	SEEN_UDP_PORT,
	SEEN_QUEUE,
	SEEN_MARK,
	SEEN_MAX_ASSOC,
	SEEN_TIMEOUT_INIT,
	SEEN_TIMEOUT_ESTABLISHED,
	SEEN_TIMEOUT_SHUTDOWN,
	SEEN_INIT_RATE,
	SEEN_INIT_RATE_SOURCE,
	SEEN_QUEUE_BYPASS,
	SEEN_HOST_MODE,
	SEEN_RELAY_INGEST,
	SEEN_QUEUE_LENGTH,
	SEEN_BUSY_POLL,
	SEEN_KEEPALIVE,
	SEEN_COUNT
};

_Static_assert(SEEN_COUNT <= sizeof(((struct conf_reader *)0)->seen_line) / sizeof(unsigned),
	       "conf_reader.seen_line too small");

struct conf_line {
	char *tok[CONF_MAX_TOKENS];
	int n;
};

static const char *conf_file_name(const struct conf_reader *r)
{
	return r->file ? r->file : "-";
}

static int conf_error(struct conf_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int conf_error(struct conf_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof(r->err), "%s:%u: ", conf_file_name(r), r->line);
	if (n < 0 || (size_t)n >= sizeof(r->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A token as it appears in a message: quoted, control bytes escaped, long ones cut, so
 * a binary file or a pasted megabyte still gives a readable one-line error. */
struct quoted {
	char s[96];
};

static struct quoted q(const char *tok)
{
	struct quoted o;
	size_t n = 0;

	o.s[n++] = '"';
	for (; *tok; tok++) {
		unsigned char ch = (unsigned char)*tok;

		if (n > sizeof(o.s) - 10) {
			memcpy(o.s + n, "...", 3);
			n += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			n += (size_t)snprintf(o.s + n, sizeof(o.s) - n, "\\x%02x", ch);
		else
			o.s[n++] = (char)ch;
	}
	o.s[n++] = '"';
	o.s[n] = '\0';
	return o;
}

/* Decimal digits only (0x hex when hex_ok): no sign, no spaces, no trailing junk, and
 * overflow is an error instead of wrapping as strtoul would. */
static int parse_num(const char *s, bool hex_ok, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (hex_ok && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		v = v * base + d;
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

static int parse_port(struct conf_reader *r, const char *tok, unsigned min, uint16_t *out)
{
	uint64_t v;

	if (parse_num(tok, false, 65535, &v) < 0 || v < min)
		return conf_error(r, "bad port %s (expected %u-65535%s)", q(tok).s, min,
				  min ? "" : ", 0 = any");
	*out = (uint16_t)v;
	return 0;
}

static int parse_addr(struct conf_reader *r, const char *tok, struct gw_addr *out)
{
	if (addr_parse(tok, out) < 0)
		return conf_error(r, "bad address %s (expected an IPv4 or IPv6 address)", q(tok).s);
	return 0;
}

static void prefix_mask(struct gw_addr *a, unsigned len)
{
	unsigned bits = a->family == AF_INET ? 32 : 128;

	for (unsigned i = len; i < bits; i++)
		a->bytes[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* ADDRESS or ADDRESS/LEN; a bare address is a host prefix. */
static int parse_prefix(struct conf_reader *r, const char *tok, struct conf_prefix *out)
{
	const char *slash = strchr(tok, '/');
	char abuf[GW_ADDRSTRLEN + 1];
	struct gw_addr masked;
	size_t alen = slash ? (size_t)(slash - tok) : strlen(tok);
	unsigned max;
	uint64_t len;

	memset(out, 0, sizeof(*out));
	if (alen >= sizeof(abuf))
		goto bad;
	memcpy(abuf, tok, alen);
	abuf[alen] = '\0';
	if (addr_parse(abuf, &out->addr) < 0)
		goto bad;
	max = out->addr.family == AF_INET ? 32 : 128;
	if (!slash) {
		out->len = (uint8_t)max;
		return 0;
	}
	if (parse_num(slash + 1, false, 255, &len) < 0 || len > max)
		return conf_error(r, "bad prefix length %s in %s (expected 0-%u)", q(slash + 1).s,
				  q(tok).s, max);
	out->len = (uint8_t)len;
	masked = out->addr;
	prefix_mask(&masked, out->len);
	if (!addr_equal(&masked, &out->addr)) {
		char mbuf[GW_ADDRSTRLEN];

		return conf_error(r, "host bits set in %.80s (did you mean %s/%u?)", tok,
				  addr_format(&masked, mbuf, sizeof(mbuf)), out->len);
	}
	return 0;
bad:
	return conf_error(r, "bad prefix %s (expected ADDRESS or ADDRESS/LENGTH)", q(tok).s);
}

static int need_arg(struct conf_reader *r, const struct conf_line *l, int i, const char *what,
		    const char *after)
{
	if (i < l->n)
		return 0;
	return conf_error(r, "missing %s after \"%s\"", what, after);
}

static int no_extra(struct conf_reader *r, const struct conf_line *l, int used)
{
	if (l->n <= used)
		return 0;
	return conf_error(r, "extra argument %s to \"%s\"", q(l->tok[used]).s, l->tok[0]);
}

static int expect_word(struct conf_reader *r, const struct conf_line *l, int i, const char *word,
		       const char *after)
{
	if (i >= l->n)
		return conf_error(r, "missing \"%s\" after \"%s\"", word, after);
	if (strcmp(l->tok[i], word) != 0)
		return conf_error(r, "expected \"%s\" after \"%s\", not %s", word, after,
				  q(l->tok[i]).s);
	return 0;
}

static int mark_seen(struct conf_reader *r, enum conf_single which, const char *name)
{
	if (r->seen & (1u << which))
		return conf_error(r, "\"%s\" already set on line %u", name, r->seen_line[which]);
	r->seen |= 1u << which;
	r->seen_line[which] = r->line;
	return 0;
}

/* The numeric single-valued statements differ only in their range and wording. */
struct conf_number {
	const char *name; /* as written, also in "already set" */
	const char *what; /* in "bad ... (expected ...)" */
	enum conf_single seen;
	uint64_t min, max;
	bool hex;
	const char *range; /* the expected values in words */
	size_t offset;     /* the field of struct gw_conf it sets */
	size_t size;       /* sizeof that field: 2 or 4 */
};
#define CONF_FIELD(f) offsetof(struct gw_conf, f), sizeof(((struct gw_conf *)0)->f)

static const struct conf_number num_udp_port = {
	"udp-port", "port", SEEN_UDP_PORT, 1, 65535, false, "1-65535", CONF_FIELD(udp_port)
};
static const struct conf_number num_busy_poll = {
	"busy-poll", "busy-poll time",       SEEN_BUSY_POLL,          0, 10000,
	false,       "0-10000 microseconds", CONF_FIELD(busy_poll_us)
};
static const struct conf_number num_queue_length = {
	"queue-length", "queue length", SEEN_QUEUE_LENGTH,   1,
	1048576,        false,          "1-1048576 packets", CONF_FIELD(queue_length)
};
static const struct conf_number num_mark = { "mark",
					     "mark",
					     SEEN_MARK,
					     1,
					     UINT32_MAX,
					     true,
					     "a non-zero 32-bit number, decimal or 0x hex",
					     CONF_FIELD(mark) };
static const struct conf_number num_max_assoc = { "max-associations", "max-associations",
						  SEEN_MAX_ASSOC,     1,
						  16777216,           false,
						  "1-16777216",       CONF_FIELD(max_assoc) };
static const struct conf_number num_init_rate = {
	"init-rate", "rate", SEEN_INIT_RATE,         1,
	1000000,     false,  "1-1000000 per second", CONF_FIELD(init_rate)
};
static const struct conf_number num_init_rate_source = { "init-rate-per-source",
							 "rate",
							 SEEN_INIT_RATE_SOURCE,
							 1,
							 1000000,
							 false,
							 "1-1000000 per second",
							 CONF_FIELD(init_rate_source) };
static const struct conf_number num_keepalive = {
	"keepalive", "keepalive interval",      SEEN_KEEPALIVE,       0, CONF_MAX_KEEPALIVE,
	false,       "0-3600 seconds, 0 = off", CONF_FIELD(keepalive)
};
static const struct conf_number num_timeout[] = {
	{ "timeout init", "timeout", SEEN_TIMEOUT_INIT, 1, 86400, false, "1-86400 seconds",
	  CONF_FIELD(timeout_init) },
	{ "timeout established", "timeout", SEEN_TIMEOUT_ESTABLISHED, 1, 86400, false,
	  "1-86400 seconds", CONF_FIELD(timeout_established) },
	{ "timeout shutdown", "timeout", SEEN_TIMEOUT_SHUTDOWN, 1, 86400, false, "1-86400 seconds",
	  CONF_FIELD(timeout_shutdown) },
};

/* "NAME VALUE" where NAME takes nargs tokens (1, or 2 for "timeout KIND"): the value is
 * checked against num's range and stored in num's field. */
static int st_number(struct conf_reader *r, const struct conf_line *l, int nargs,
		     const struct conf_number *num)
{
	uint8_t *field = (uint8_t *)r->conf + num->offset;
	const char *tok;
	uint64_t v;

	if (need_arg(r, l, nargs, "value", num->name) < 0)
		return -1;
	tok = l->tok[nargs];
	if (parse_num(tok, num->hex, num->max, &v) < 0 || v < num->min)
		return conf_error(r, "bad %s %s (expected %s)", num->what, q(tok).s, num->range);
	if (no_extra(r, l, nargs + 1) < 0 || mark_seen(r, num->seen, num->name) < 0)
		return -1;
	if (num->size == sizeof(uint16_t)) {
		uint16_t v16 = (uint16_t)v;

		memcpy(field, &v16, sizeof(v16));
	} else {
		uint32_t v32 = (uint32_t)v;

		memcpy(field, &v32, sizeof(v32));
	}
	return 0;
}

/* queue N, or queue N-M: one worker per queue, 1, 2, 4 or 8 of them (an association's
 * worker is chosen from the low bits of its SCTP ports). */
static int st_queue(struct conf_reader *r, const struct conf_line *l)
{
	char first[16];
	const char *tok, *dash;
	uint64_t lo, hi;
	size_t n;

	if (need_arg(r, l, 1, "value", "queue") < 0)
		return -1;
	tok = l->tok[1];
	dash = strchr(tok, '-');
	n = dash ? (size_t)(dash - tok) : strlen(tok);
	if (n >= sizeof(first))
		return conf_error(r, "bad queue number %s (expected 0-65535, or a range N-M)",
				  q(tok).s);
	memcpy(first, tok, n);
	first[n] = '\0';
	if (parse_num(first, false, 65535, &lo) < 0 ||
	    (dash && parse_num(dash + 1, false, 65535, &hi) < 0))
		return conf_error(r, "bad queue number %s (expected 0-65535, or a range N-M)",
				  q(tok).s);
	if (!dash)
		hi = lo;
	if (hi < lo)
		return conf_error(r,
				  "bad queue range %s (the first number must not be above "
				  "the second)",
				  q(tok).s);
	if (hi - lo + 1 > CONF_MAX_WORKERS || ((hi - lo + 1) & (hi - lo)) != 0)
		return conf_error(r,
				  "queue range %s has %u queues; a worker per queue needs "
				  "1, 2, 4 or 8 of them",
				  q(tok).s, (unsigned)(hi - lo + 1));
	if (no_extra(r, l, 2) < 0)
		return -1;
	r->conf->queue_num = (uint16_t)lo;
	r->conf->queue_count = (uint16_t)(hi - lo + 1);
	return mark_seen(r, SEEN_QUEUE, "queue");
}

/* yes|no statements. */
static int st_yes_no(struct conf_reader *r, const struct conf_line *l, bool *val,
		     enum conf_single which)
{
	const char *tok;

	if (need_arg(r, l, 1, "value", l->tok[0]) < 0)
		return -1;
	tok = l->tok[1];
	if (strcmp(tok, "yes") == 0)
		*val = true;
	else if (strcmp(tok, "no") == 0)
		*val = false;
	else
		return conf_error(r, "bad value %s for %s (expected yes or no)", q(tok).s,
				  l->tok[0]);
	if (no_extra(r, l, 2) < 0)
		return -1;
	return mark_seen(r, which, l->tok[0]);
}

/* queue-bypass yes|no: what the kernel does with queued SCTP while no daemon listens. */
static int st_queue_bypass(struct conf_reader *r, const struct conf_line *l)
{
	return st_yes_no(r, l, &r->conf->queue_bypass, SEEN_QUEUE_BYPASS);
}

/* host-mode yes|no: SCTP applications on the gateway host itself. */
static int st_host_mode(struct conf_reader *r, const struct conf_line *l)
{
	return st_yes_no(r, l, &r->conf->host_mode, SEEN_HOST_MODE);
}

static const char *const ingest_names[] = { "auto", "raw", "queue" };

const char *conf_relay_ingest_name(enum conf_relay_ingest i)
{
	return (unsigned)i < 3 ? ingest_names[i] : "?";
}

/* relay-ingest auto|raw|queue */
static int st_relay_ingest(struct conf_reader *r, const struct conf_line *l)
{
	if (need_arg(r, l, 1, "value", "relay-ingest") < 0)
		return -1;
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(l->tok[1], ingest_names[i]) != 0)
			continue;
		r->conf->relay_ingest = (uint8_t)i;
		if (no_extra(r, l, 2) < 0)
			return -1;
		return mark_seen(r, SEEN_RELAY_INGEST, "relay-ingest");
	}
	return conf_error(r, "bad value %s for relay-ingest (expected auto, raw or queue)",
			  q(l->tok[1]).s);
}

static int st_timeout(struct conf_reader *r, const struct conf_line *l)
{
	static const char *const kinds[] = { "init", "established", "shutdown" };
	if (l->n < 2)
		return conf_error(r, "missing init, established or shutdown after \"timeout\"");
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(l->tok[1], kinds[i]) != 0)
			continue;
		return st_number(r, l, 2, &num_timeout[i]);
	}
	return conf_error(r, "unknown timeout %s (expected init, established or shutdown)",
			  q(l->tok[1]).s);
}

static int st_internal(struct conf_reader *r, const struct conf_line *l)
{
	struct gw_conf *c = r->conf;
	struct conf_prefix p;

	if (need_arg(r, l, 1, "network prefix", "internal") < 0 ||
	    parse_prefix(r, l->tok[1], &p) < 0 || no_extra(r, l, 2) < 0)
		return -1;
	for (unsigned i = 0; i < c->ninternal; i++) {
		if (c->internal[i].len == p.len && addr_equal(&c->internal[i].addr, &p.addr))
			return conf_error(r, "internal network %s listed twice", l->tok[1]);
	}
	if (c->ninternal >= CONF_MAX_INTERNAL)
		return conf_error(r, "too many \"internal\" networks (at most %d)",
				  CONF_MAX_INTERNAL);
	c->internal[c->ninternal++] = p;
	return 0;
}

/* The options a rule takes after its fixed part, in any order, each at most once: the
 * ones whose pointer is set. */
struct rule_opts {
	uint16_t *port;
	unsigned port_min;
	uint16_t *remote_udp_port;
	uint16_t *keepalive;
};

static const char *rule_opts_expected(const struct rule_opts *o)
{
	if (o->remote_udp_port)
		return "\"port\", \"remote-udp-port\" or \"keepalive\"";
	return "\"port\" or \"keepalive\"";
}

static int rule_options(struct conf_reader *r, const struct conf_line *l, int first,
			const struct rule_opts *o)
{
	bool have_port = false, have_rport = false, have_ka = false;

	for (int i = first; i < l->n; i += 2) {
		const char *opt = l->tok[i];
		uint64_t v;

		if (o->port && strcmp(opt, "port") == 0) {
			if (have_port)
				return conf_error(r, "\"%s\" given twice", opt);
			if (need_arg(r, l, i + 1, "port number", opt) < 0 ||
			    parse_port(r, l->tok[i + 1], o->port_min, o->port) < 0)
				return -1;
			have_port = true;
		} else if (o->remote_udp_port && strcmp(opt, "remote-udp-port") == 0) {
			if (have_rport)
				return conf_error(r, "\"%s\" given twice", opt);
			if (need_arg(r, l, i + 1, "port number", opt) < 0 ||
			    parse_port(r, l->tok[i + 1], 1, o->remote_udp_port) < 0)
				return -1;
			have_rport = true;
		} else if (o->keepalive && strcmp(opt, "keepalive") == 0) {
			if (have_ka)
				return conf_error(r, "\"%s\" given twice", opt);
			if (need_arg(r, l, i + 1, "seconds", opt) < 0)
				return -1;
			if (parse_num(l->tok[i + 1], false, CONF_MAX_KEEPALIVE, &v) < 0)
				return conf_error(r,
						  "bad keepalive interval %s (expected 0-3600 "
						  "seconds, 0 = off)",
						  q(l->tok[i + 1]).s);
			*o->keepalive = (uint16_t)v;
			have_ka = true;
		} else {
			return conf_error(r, "unknown option %s (expected %s)", q(opt).s,
					  rule_opts_expected(o));
		}
	}
	return 0;
}

/* encapsulate to PREFIX|any [port P] [remote-udp-port U], options in any order, once. */
static int st_encapsulate(struct conf_reader *r, const struct conf_line *l)
{
	struct gw_conf *c = r->conf;
	struct conf_encap e;

	memset(&e, 0, sizeof(e));
	e.remote_udp_port = CONF_DEFAULT_REMOTE_UDP_PORT;
	e.keepalive = CONF_KEEPALIVE_UNSET;
	e.line = r->line;
	if (expect_word(r, l, 1, "to", "encapsulate") < 0 ||
	    need_arg(r, l, 2, "destination (a prefix or \"any\")", "encapsulate to") < 0)
		return -1;
	if (strcmp(l->tok[2], "any") == 0)
		e.any = true;
	else if (parse_prefix(r, l->tok[2], &e.dst) < 0)
		return -1;
	if (rule_options(r, l, 3,
			 &(struct rule_opts){ &e.port, 0, &e.remote_udp_port, &e.keepalive }) < 0)
		return -1;
	if (c->nencap >= CONF_MAX_ENCAP)
		return conf_error(r, "too many \"encapsulate\" rules (at most %d)", CONF_MAX_ENCAP);
	c->encap[c->nencap++] = e;
	return 0;
}

/* forward port P to ADDRESS [port Q] [keepalive S], options in any order, once. */
static int st_forward(struct conf_reader *r, const struct conf_line *l)
{
	struct gw_conf *c = r->conf;
	struct conf_forward f;
	char after[32];

	memset(&f, 0, sizeof(f));
	f.keepalive = CONF_KEEPALIVE_UNSET;
	f.line = r->line;
	if (expect_word(r, l, 1, "port", "forward") < 0 ||
	    need_arg(r, l, 2, "port number", "forward port") < 0 ||
	    parse_port(r, l->tok[2], 1, &f.port) < 0)
		return -1;
	snprintf(after, sizeof(after), "forward port %u", f.port);
	if (expect_word(r, l, 3, "to", after) < 0 || need_arg(r, l, 4, "address", "to") < 0 ||
	    parse_addr(r, l->tok[4], &f.to) < 0)
		return -1;
	f.to_port = f.port;
	if (rule_options(r, l, 5, &(struct rule_opts){ &f.to_port, 1, NULL, &f.keepalive }) < 0)
		return -1;
	for (unsigned i = 0; i < c->nforward; i++) {
		if (c->forward[i].port == f.port)
			return conf_error(r, "port %u already forwarded on line %u", f.port,
					  c->forward[i].line);
	}
	if (c->nforward >= CONF_MAX_FORWARD)
		return conf_error(r, "too many \"forward\" rules (at most %d)", CONF_MAX_FORWARD);
	c->forward[c->nforward++] = f;
	return 0;
}

/* relay port P to ADDRESS [port Q] [remote-udp-port U] [keepalive S], options in any
 * order, once. */
static int st_relay(struct conf_reader *r, const struct conf_line *l)
{
	struct gw_conf *c = r->conf;
	struct conf_relay rl;
	char after[32];

	memset(&rl, 0, sizeof(rl));
	rl.line = r->line;
	rl.remote_udp_port = CONF_DEFAULT_REMOTE_UDP_PORT;
	rl.keepalive = CONF_KEEPALIVE_UNSET;
	if (expect_word(r, l, 1, "port", "relay") < 0 ||
	    need_arg(r, l, 2, "port number", "relay port") < 0 ||
	    parse_port(r, l->tok[2], 1, &rl.port) < 0)
		return -1;
	snprintf(after, sizeof(after), "relay port %u", rl.port);
	if (expect_word(r, l, 3, "to", after) < 0 || need_arg(r, l, 4, "address", "to") < 0 ||
	    parse_addr(r, l->tok[4], &rl.to) < 0)
		return -1;
	rl.to_port = rl.port;
	if (rule_options(
		    r, l, 5,
		    &(struct rule_opts){ &rl.to_port, 1, &rl.remote_udp_port, &rl.keepalive }) < 0)
		return -1;
	for (unsigned i = 0; i < c->nrelay; i++) {
		if (c->relay[i].port == rl.port)
			return conf_error(r, "port %u already relayed on line %u", rl.port,
					  c->relay[i].line);
	}
	if (c->nrelay >= CONF_MAX_RELAY)
		return conf_error(r, "too many \"relay\" rules (at most %d)", CONF_MAX_RELAY);
	c->relay[c->nrelay++] = rl;
	return 0;
}

/* A statement is parsed by fn, or when it is a plain number by st_number with num. */
static const struct {
	const char *name;
	int (*fn)(struct conf_reader *r, const struct conf_line *l);
	const struct conf_number *num;
} statements[] = {
	{ "udp-port", NULL, &num_udp_port },
	{ "queue", st_queue, NULL },
	{ "queue-length", NULL, &num_queue_length },
	{ "busy-poll", NULL, &num_busy_poll },
	{ "queue-bypass", st_queue_bypass, NULL },
	{ "mark", NULL, &num_mark },
	{ "max-associations", NULL, &num_max_assoc },
	{ "init-rate", NULL, &num_init_rate },
	{ "init-rate-per-source", NULL, &num_init_rate_source },
	{ "timeout", st_timeout, NULL },
	{ "keepalive", NULL, &num_keepalive },
	{ "internal", st_internal, NULL },
	{ "encapsulate", st_encapsulate, NULL },
	{ "forward", st_forward, NULL },
	{ "host-mode", st_host_mode, NULL },
	{ "relay", st_relay, NULL },
	{ "relay-ingest", st_relay_ingest, NULL },
};

void conf_defaults(struct gw_conf *c)
{
	/* memset first: padding is zero too, so two equal configs compare equal bytewise. */
	memset(c, 0, sizeof(*c));
	c->udp_port = CONF_DEFAULT_UDP_PORT;
	c->queue_num = CONF_DEFAULT_QUEUE;
	c->queue_count = 1;
	c->queue_length = CONF_DEFAULT_QUEUE_LENGTH;
	c->mark = CONF_DEFAULT_MARK;
	c->timeout_init = CONF_DEFAULT_TIMEOUT_INIT;
	c->timeout_established = CONF_DEFAULT_TIMEOUT_ESTABLISHED;
	c->timeout_shutdown = CONF_DEFAULT_TIMEOUT_SHUTDOWN;
	c->max_assoc = CONF_DEFAULT_MAX_ASSOC;
	c->init_rate = CONF_DEFAULT_INIT_RATE;
	c->init_rate_source = CONF_DEFAULT_INIT_RATE_SOURCE;
	c->keepalive = CONF_DEFAULT_KEEPALIVE;
}

void conf_read_init(struct conf_reader *r, struct gw_conf *c, const char *file)
{
	memset(r, 0, sizeof(*r));
	r->conf = c;
	r->file = file;
	conf_defaults(c);
}

int conf_read_line(struct conf_reader *r, const char *line)
{
	char buf[CONF_MAX_LINE + 1];
	struct conf_line l = { .n = 0 };
	size_t len = strlen(line);
	char *p, *save;

	r->line++;
	if (len && line[len - 1] == '\n')
		len--;
	if (len > CONF_MAX_LINE)
		return conf_error(r, "line too long (more than %d characters)", CONF_MAX_LINE);
	memcpy(buf, line, len);
	buf[len] = '\0';
	p = strchr(buf, '#');
	if (p)
		*p = '\0';
	/* \r too, so a file saved with CRLF line ends reads the same. */
	for (p = strtok_r(buf, " \t\r", &save); p; p = strtok_r(NULL, " \t\r", &save)) {
		if (l.n == CONF_MAX_TOKENS)
			break; /* no statement takes this many: the handler reports the extra */
		l.tok[l.n++] = p;
	}
	if (l.n == 0)
		return 0;
	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
		if (strcmp(l.tok[0], statements[i].name) != 0)
			continue;
		if (statements[i].num)
			return st_number(r, &l, 1, statements[i].num);
		return statements[i].fn(r, &l);
	}
	return conf_error(r, "unknown statement %s", q(l.tok[0]).s);
}

int conf_read_finish(struct conf_reader *r)
{
	const struct gw_conf *c = r->conf;

	if (c->ninternal == 0 && !c->host_mode && c->nrelay == 0) {
		snprintf(r->err, sizeof(r->err),
			 "%s: nothing to carry: no \"internal\" network, "
			 "no \"host-mode yes\" and no \"relay\" rule",
			 conf_file_name(r));
		return -1;
	}
	/* With relay rules, internal networks may only say who may use them. */
	if (c->nencap == 0 && ((c->ninternal && !c->nrelay) || c->host_mode)) {
		snprintf(r->err, sizeof(r->err),
			 "%s: no \"encapsulate\" rule configured (%s "
			 "needs one)",
			 conf_file_name(r), c->ninternal ? "\"internal\"" : "\"host-mode yes\"");
		return -1;
	}
	for (unsigned i = 0; i < c->nforward; i++) {
		const struct conf_forward *f = &c->forward[i];
		char abuf[GW_ADDRSTRLEN];

		/* In host mode the target may be this host itself, whose addresses a pure
		 * parser cannot know. */
		if (c->host_mode || conf_is_internal(c, &f->to))
			continue;
		r->line = f->line;
		return conf_error(r, "forward target %s is not inside an internal network",
				  addr_format(&f->to, abuf, sizeof(abuf)));
	}
	for (unsigned i = 0; i < c->nrelay; i++) {
		const struct conf_relay *rl = &c->relay[i];
		char abuf[GW_ADDRSTRLEN];

		/* The peer must be beyond the gateway: relaying to an internal host would
		 * send its SCTP in UDP into the network that speaks it natively. */
		if (!conf_is_internal(c, &rl->to))
			continue;
		r->line = rl->line;
		return conf_error(r, "relay target %s is inside an internal network",
				  addr_format(&rl->to, abuf, sizeof(abuf)));
	}
	return 0;
}

int conf_load_file(const char *path, struct gw_conf *c, char *err, size_t errlen)
{
	struct conf_reader r;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = -1;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	conf_read_init(&r, c, path);
	while ((n = getline(&line, &cap, f)) >= 0) {
		/* conf_read_line sees a C string: a NUL would hide the rest of the line. */
		if (memchr(line, '\0', (size_t)n)) {
			snprintf(err, errlen, "%s:%u: NUL character in line", path, r.line + 1);
			goto out;
		}
		if (conf_read_line(&r, line) < 0)
			goto err_reader;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (conf_read_finish(&r) < 0)
		goto err_reader;
	rc = 0;
	goto out;
err_reader:
	snprintf(err, errlen, "%s", r.err);
out:
	free(line);
	fclose(f);
	return rc;
}

static void dump_prefix(const struct conf_prefix *p, FILE *out)
{
	char buf[GW_ADDRSTRLEN];

	fprintf(out, "%s/%u", addr_format(&p->addr, buf, sizeof(buf)), p->len);
}

/* A rule's own keepalive, if it has one, and the end of its line. */
static void dump_keepalive(uint16_t keepalive, FILE *out)
{
	if (keepalive != CONF_KEEPALIVE_UNSET)
		fprintf(out, " keepalive %u", keepalive);
	fputc('\n', out);
}

void conf_dump(const struct gw_conf *c, FILE *out)
{
	char buf[GW_ADDRSTRLEN];

	fprintf(out, "udp-port %u\n", c->udp_port);
	if (c->queue_count > 1)
		fprintf(out, "queue %u-%u\n", c->queue_num, c->queue_num + c->queue_count - 1);
	else
		fprintf(out, "queue %u\n", c->queue_num);
	fprintf(out, "queue-length %u\n", c->queue_length);
	fprintf(out, "busy-poll %u\n", c->busy_poll_us);
	fprintf(out, "queue-bypass %s\n", c->queue_bypass ? "yes" : "no");
	fprintf(out, "host-mode %s\n", c->host_mode ? "yes" : "no");
	fprintf(out, "relay-ingest %s\n", conf_relay_ingest_name(c->relay_ingest));
	fprintf(out, "mark 0x%x\n", c->mark);
	fprintf(out, "max-associations %u\n", c->max_assoc);
	fprintf(out, "init-rate %u\n", c->init_rate);
	fprintf(out, "init-rate-per-source %u\n", c->init_rate_source);
	fprintf(out, "timeout init %u\n", c->timeout_init);
	fprintf(out, "timeout established %u\n", c->timeout_established);
	fprintf(out, "timeout shutdown %u\n", c->timeout_shutdown);
	fprintf(out, "keepalive %u\n", c->keepalive);
	for (unsigned i = 0; i < c->ninternal; i++) {
		fputs("internal ", out);
		dump_prefix(&c->internal[i], out);
		fputc('\n', out);
	}
	for (unsigned i = 0; i < c->nencap; i++) {
		const struct conf_encap *e = &c->encap[i];

		fputs("encapsulate to ", out);
		if (e->any)
			fputs("any", out);
		else
			dump_prefix(&e->dst, out);
		fprintf(out, " port %u remote-udp-port %u", e->port, e->remote_udp_port);
		dump_keepalive(e->keepalive, out);
	}
	for (unsigned i = 0; i < c->nforward; i++) {
		const struct conf_forward *f = &c->forward[i];

		fprintf(out, "forward port %u to %s port %u", f->port,
			addr_format(&f->to, buf, sizeof(buf)), f->to_port);
		dump_keepalive(f->keepalive, out);
	}
	for (unsigned i = 0; i < c->nrelay; i++) {
		const struct conf_relay *rl = &c->relay[i];

		fprintf(out, "relay port %u to %s port %u remote-udp-port %u", rl->port,
			addr_format(&rl->to, buf, sizeof(buf)), rl->to_port, rl->remote_udp_port);
		dump_keepalive(rl->keepalive, out);
	}
}

const struct conf_encap *conf_match_encap(const struct gw_conf *c, const struct gw_addr *dst,
					  uint16_t dport)
{
	for (unsigned i = 0; i < c->nencap; i++) {
		const struct conf_encap *e = &c->encap[i];

		if (e->port && e->port != dport)
			continue;
		if (e->any || addr_in_prefix(dst, &e->dst.addr, e->dst.len))
			return e;
	}
	return NULL;
}

const struct conf_forward *conf_match_forward(const struct gw_conf *c, uint16_t port)
{
	for (unsigned i = 0; i < c->nforward; i++) {
		if (c->forward[i].port == port)
			return &c->forward[i];
	}
	return NULL;
}

const struct conf_relay *conf_match_relay(const struct gw_conf *c, uint16_t port)
{
	for (unsigned i = 0; i < c->nrelay; i++) {
		if (c->relay[i].port == port)
			return &c->relay[i];
	}
	return NULL;
}

bool conf_is_internal(const struct gw_conf *c, const struct gw_addr *a)
{
	for (unsigned i = 0; i < c->ninternal; i++) {
		if (addr_in_prefix(a, &c->internal[i].addr, c->internal[i].len))
			return true;
	}
	return false;
}
