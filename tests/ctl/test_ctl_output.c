/* test_ctl_output.c - golden tests of sctpgwctl's output, no daemon, no socket, no root.
 *
 * Each case builds the reply the daemon would send (the very bytes: headers and
 * records), feeds it message by message through reply_add() and reply_show(), the code
 * sctpgwctl runs after reading the socket, and compares what reaches stdout and stderr,
 * with the exit status, against tests/ctl/NAME.expected:
 *
 *     stdout as printed
 *     [stderr]            (only when something went to stderr)
 *     stderr as printed
 *     [exit N]
 *
 * UPDATE_GOLDEN=1 rewrites the golden files from the current code instead: review the
 * diff. Run from `make check` (top_srcdir in the environment) or from the top of the tree.
 * The Prometheus goldens are a contract: the exposition must not change with the code. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../unit/stat_names.h"
#include "reply.h"

#define WIRE_MAX (1u << 20)

/* The reply of the current case, as on the socket. */
static uint8_t wire[WIRE_MAX];
static size_t wire_len;

static void put_raw(const struct ctl_hdr *h, const void *payload, size_t len)
{
	if (wire_len + sizeof(*h) + len > sizeof(wire)) {
		fprintf(stderr, "test_ctl_output: canned reply too long\n");
		exit(99);
	}
	memcpy(wire + wire_len, h, sizeof(*h));
	if (len)
		memcpy(wire + wire_len + sizeof(*h), payload, len);
	wire_len += sizeof(*h) + len;
}

static void put(uint16_t type, int32_t status, const void *payload, size_t len)
{
	struct ctl_hdr h = {
		.magic = CTL_MAGIC,
		.version = CTL_VERSION,
		.type = type,
		.len = (uint32_t)len,
		.status = status,
	};

	put_raw(&h, payload, len);
}

static void put_done(uint32_t count)
{
	struct ctl_done d = { .count = count };

	put(CTL_REP_DONE, 0, &d, sizeof(d));
}

static void put_error(int err, const char *text)
{
	put(CTL_REP_ERROR, -err, text, strlen(text));
}

static void put_stat(const char *name, uint64_t value)
{
	struct ctl_stat_rec s;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.value = value;
	put(CTL_REP_STAT, 0, &s, sizeof(s));
}

static struct ctl_addr addr(const char *s)
{
	struct ctl_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a.family, s, a.bytes) != 1) {
		fprintf(stderr, "test_ctl_output: bad address %s\n", s);
		exit(99);
	}
	return a;
}

static struct ctl_path_rec path(const char *a, uint16_t udp_port, uint64_t idle_ms,
				uint64_t pkts_in, uint64_t pkts_out)
{
	struct ctl_path_rec p;

	memset(&p, 0, sizeof(p));
	p.addr = addr(a);
	p.udp_port = udp_port;
	p.idle_ms = idle_ms;
	p.pkts_in = pkts_in;
	p.pkts_out = pkts_out;
	return p;
}

/* ---- associations ---- */

/* From inside, three remote addresses: one current, one heard from, one never. */
static struct ctl_assoc_rec assoc_multipath(void)
{
	struct ctl_assoc_rec r;

	memset(&r, 0, sizeof(r));
	r.id = 1;
	r.state = ASSOC_ESTABLISHED;
	r.origin = ASSOC_FROM_INSIDE;
	r.iaddr = addr("10.10.1.2");
	r.iport = r.seen_port = 5000;
	r.rport = 7;
	r.itag = 0x1a2b3c4d;
	r.rtag = 0xdeadbeef;
	r.age_ms = 3723000;
	r.idle_ms = 850;
	r.pkts_out = 20;
	r.bytes_out = 2480;
	r.pkts_in = 20;
	r.bytes_in = 2480;
	r.npaths = 3;
	r.paths[0] = path("203.0.113.2", 9899, 850, 18, 20);
	r.paths[1] = path("203.0.113.3", 9911, 12345, 2, 0);
	r.paths[2] = path("198.51.100.7", 40001, UINT64_MAX, 0, 0);
	/* a multi-homed host, now on its second address, with keepalives */
	r.iaddr = addr("10.10.2.2");
	r.niaddrs = 2;
	r.iaddrs[0] = addr("10.10.1.2");
	r.iaddrs[1] = addr("10.10.2.2");
	r.keepalive_s = 15;
	r.paths[0].ka_sent = 12;
	r.paths[0].ka_answered = 11;
	r.paths[0].ka_rtt_ms = 23;
	return r;
}

/* Relayed: the host spoke to the gateway's 10.10.1.1:3868. */
static struct ctl_assoc_rec assoc_relay(void)
{
	struct ctl_assoc_rec r;

	memset(&r, 0, sizeof(r));
	r.id = 2;
	r.state = ASSOC_ESTABLISHED;
	r.origin = ASSOC_FROM_INSIDE;
	r.iaddr = addr("10.10.1.2");
	r.iport = r.seen_port = 3868;
	r.rport = 7;
	r.itag = 0x00000001;
	r.rtag = 0xffffffff;
	r.age_ms = 245000;
	r.idle_ms = 59999;
	r.pkts_out = 5;
	r.bytes_out = 600;
	r.pkts_in = 4;
	r.bytes_in = 512;
	r.npaths = 1;
	r.paths[0] = path("203.0.113.2", 9899, 59999, 4, 5);
	r.relay_addr = addr("10.10.1.1");
	r.relay_port = 3868;
	return r;
}

/* From outside, IPv6, a translated port, counters past what JSON integers hold. */
static struct ctl_assoc_rec assoc_ipv6(void)
{
	struct ctl_assoc_rec r;

	memset(&r, 0, sizeof(r));
	r.id = UINT32_MAX;
	r.state = ASSOC_ESTABLISHED;
	r.origin = ASSOC_FROM_OUTSIDE;
	r.iaddr = addr("fd00:10::2");
	r.iport = 49152;
	r.seen_port = 61000;
	r.rport = 7;
	r.itag = 0x80000000;
	r.rtag = 0x7fffffff;
	r.age_ms = 273600000 + 3000; /* 3d04h */
	r.idle_ms = 0;
	r.pkts_out = UINT64_MAX;
	r.bytes_out = (uint64_t)INT64_MAX + 1;
	r.pkts_in = (uint64_t)INT64_MAX;
	r.bytes_in = 18446744073709551000u;
	r.npaths = 2;
	r.paths[0] = path("2001:db8:113::2", 9911, 0, UINT64_MAX, 1);
	r.paths[1] = path("2001:db8:113::3", 9899, 7200000, 0, 0);
	return r;
}

/* Half open: no remote address yet, every counter zero. */
static struct ctl_assoc_rec assoc_cookie(void)
{
	struct ctl_assoc_rec r;

	memset(&r, 0, sizeof(r));
	r.id = 7;
	r.state = ASSOC_COOKIE;
	r.origin = ASSOC_FROM_INSIDE;
	r.iaddr = addr("10.10.1.3");
	r.iport = r.seen_port = 1;
	r.rport = 65535;
	return r;
}

static void put_assoc(struct ctl_assoc_rec r)
{
	put(CTL_REP_ASSOC, 0, &r, sizeof(r));
}

static void build_assoc_list(void)
{
	put_assoc(assoc_multipath());
	put_assoc(assoc_relay());
	put_assoc(assoc_ipv6());
	put_assoc(assoc_cookie());
	put_done(4);
}

static void build_done_0(void)
{
	put_done(0);
}

static void build_multipath(void)
{
	put_assoc(assoc_multipath());
	put_done(1);
}

static void build_relay(void)
{
	put_assoc(assoc_relay());
	put_done(1);
}

static void build_ipv6(void)
{
	put_assoc(assoc_ipv6());
	put_done(1);
}

static void build_cookie(void)
{
	put_assoc(assoc_cookie());
	put_done(1);
}

static void filter_remote(struct assoc_filter *f)
{
	f->has_remote = true;
	f->remote = addr("203.0.113.3"); /* the second address of the first association */
}

static void filter_state_port(struct assoc_filter *f)
{
	f->has_state = true;
	f->state = ASSOC_ESTABLISHED;
	f->has_port = true;
	f->port = 61000; /* the port the peer sees for the IPv6 one */
}

static void filter_internal(struct assoc_filter *f)
{
	f->has_internal = true;
	f->internal = addr("10.10.1.2");
	f->has_port = true;
	f->port = 3868;
}

static void filter_none(struct assoc_filter *f)
{
	f->has_state = true;
	f->state = ASSOC_SHUTDOWN;
}

/* ---- stats ---- */

/* Every statistic the daemon sends today, in its order, then one this sctpgwctl does
 * not know and one with characters a metric name may not have. */
static void build_stats(void)
{
	static const char *const names[] = {
		STAT_WIRE_NAMES "future_counter",
		"odd.name-9",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* zero, small, and the largest values, by turns */
		uint64_t v = i % 3 == 0 ? 0 : i % 3 == 1 ? i * 1000 + 7 : UINT64_MAX - i;

		put_stat(names[i], v);
	}
	put_done((uint32_t)(sizeof(names) / sizeof(names[0])));
}

/* ---- rules ---- */

static void put_rules_hdr(const char *mech, uint16_t queue, uint16_t count, uint32_t mark,
			  uint8_t host_mode, uint8_t relay_ingest)
{
	struct ctl_rules_hdr h;

	memset(&h, 0, sizeof(h));
	snprintf(h.queue_mechanism, sizeof(h.queue_mechanism), "%s", mech);
	h.queue_num = queue;
	h.queue_count = count;
	h.mark = mark;
	h.host_mode = host_mode;
	h.relay_ingest = relay_ingest;
	put(CTL_REP_RULES_HDR, 0, &h, sizeof(h));
}

static void put_rule(uint8_t kind, const char *a, uint8_t plen, uint16_t port,
		     uint16_t remote_udp_port, uint16_t to_port, uint32_t line, uint64_t hits)
{
	struct ctl_rule_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.any = !a;
	if (a)
		r.addr = addr(a);
	r.prefix_len = plen;
	r.port = port;
	r.remote_udp_port = remote_udp_port;
	r.to_port = to_port;
	r.line = line;
	r.hits = hits;
	put(CTL_REP_RULE, 0, &r, sizeof(r));
}

/* Two workers, host mode, relay through a raw socket, every kind of rule. */
static void build_rules_full(void)
{
	put_rules_hdr("nft queue", 4, 2, 0x5c7b0000, 1, 1);
	put_rule(CTL_RULE_INTERNAL, "10.10.1.0", 24, 0, 0, 0, 0, 0);
	put_rule(CTL_RULE_INTERNAL, "fd00:10::", 64, 0, 0, 0, 0, 0);
	put_rule(CTL_RULE_ENCAPSULATE, "203.0.113.0", 24, 0, 9899, 0, 5, 3);
	put_rule(CTL_RULE_ENCAPSULATE, "2001:db8::", 32, 5060, 9911, 0, 6, UINT64_MAX);
	put_rule(CTL_RULE_ENCAPSULATE, NULL, 0, 443, 9899, 0, 7, 0);
	put_rule(CTL_RULE_FORWARD, "10.10.1.2", 0, 7, 0, 7, 8, 1);
	put_rule(CTL_RULE_FORWARD, "fd00:10::80", 0, 8080, 0, 80, 9, 12);
	put_rule(CTL_RULE_RELAY, "203.0.113.9", 0, 3868, 9899, 3868, 10, 2);
	put_rule(CTL_RULE_RELAY, "2001:db8:113::9", 0, 2905, 9911, 2906, 4000000000u, 0);
	put_done(9);
}

/* One worker, the compat queue, no relay, one internal network and one rule. */
static void build_rules_minimal(void)
{
	put_rules_hdr("xt NFQUEUE via nft_compat", 0, 1, 0x1234abcd, 0, 0);
	put_rule(CTL_RULE_INTERNAL, "192.168.7.0", 24, 0, 0, 0, 0, 0);
	put_rule(CTL_RULE_ENCAPSULATE, NULL, 0, 0, 9899, 0, 3, 0);
	put_done(2);
}

/* ---- config ---- */

static const char config_text[] = "udp-port 9900\n"
				  "queue 3\n"
				  "queue-length 4096\n"
				  "busy-poll 0\n"
				  "queue-bypass no\n"
				  "host-mode no\n"
				  "relay-ingest auto\n"
				  "mark 0x1234abcd\n"
				  "max-associations 1000\n"
				  "init-rate 1000\n"
				  "init-rate-per-source 50\n"
				  "timeout init 5\n"
				  "timeout established 600\n"
				  "timeout shutdown 4\n"
				  "internal 10.10.1.0/24\n"
				  "internal fd00:10::/64\n"
				  "encapsulate to 198.51.100.0/24 port 5060 remote-udp-port 9900\n"
				  "encapsulate to 2001:db8::/32 port 2905 remote-udp-port 10000\n"
				  "encapsulate to any port 0 remote-udp-port 9899\n"
				  "forward port 7 to 10.10.1.2 port 7\n"
				  "forward port 2905 to fd00:10::20 port 2906\n"
				  "relay port 3868 to 203.0.113.9 port 3868 remote-udp-port 9899\n";

/* The configuration in three messages cut mid-line: the CLI concatenates. */
static void build_config(void)
{
	size_t len = sizeof(config_text) - 1, a = 10, b = len / 2 + 3;

	put(CTL_REP_CONFIG, 0, config_text, a);
	put(CTL_REP_CONFIG, 0, config_text + a, b - a);
	put(CTL_REP_CONFIG, 0, config_text + b, len - b);
	put_done(0);
}

/* JSON strings are UTF-8: such a configuration cannot be printed with -j. */
static void build_config_latin1(void)
{
	put(CTL_REP_CONFIG, 0, "# caf\xe9\n", 7);
	put_done(0);
}

/* ---- results and errors ---- */

static void build_done_1(void)
{
	put_done(1);
}

static void build_done_3(void)
{
	put_done(3);
}

static void build_done_bare(void)
{
	put(CTL_REP_DONE, 0, NULL, 0);
}

static void build_error_noassoc(void)
{
	put_error(ENOENT, "no association 999999");
}

static void build_error_perm(void)
{
	put_error(EPERM, "permission denied: reload needs root or group sctpgw");
}

static void build_error_reload(void)
{
	put_error(EINVAL, "/etc/sctp-udp-gw/sctp-udp-gw.conf:12: unknown statement \"forwad\"");
}

/* Control characters in the daemon's message do not reach the terminal. */
static void build_error_ctrl(void)
{
	put_error(EINVAL, "bad \x1b[31mred\x1b[0m\nsecond line\x7f\ttab");
}

/* No text: the status says why. */
static void build_error_status_only(void)
{
	put(CTL_REP_ERROR, -EBUSY, NULL, 0);
}

/* An error after some records: none of them is shown. */
static void build_error_midway(void)
{
	put_assoc(assoc_multipath());
	put_error(ENOMEM, "out of memory");
}

/* ---- malformed replies ---- */

static void build_bad_magic(void)
{
	struct ctl_hdr h = { .magic = 0x48545450, .version = CTL_VERSION, .type = CTL_REP_DONE };

	put_raw(&h, NULL, 0);
}

static void build_bad_version(void)
{
	struct ctl_hdr h = { .magic = CTL_MAGIC, .version = 2, .type = CTL_REP_DONE };

	put_raw(&h, NULL, 0);
}

static void build_wrong_type(void)
{
	put_assoc(assoc_cookie()); /* to show stats */
	put_done(1);
}

static void build_unknown_type(void)
{
	put(150, 0, NULL, 0);
}

static void build_short_stat(void)
{
	put(CTL_REP_STAT, 0, "out_packets", 11);
}

static void build_stat_unterminated(void)
{
	struct ctl_stat_rec s;

	memset(&s, 'x', sizeof(s.name));
	s.value = 1;
	put(CTL_REP_STAT, 0, &s, sizeof(s));
	put_done(1);
}

static void build_too_many_paths(void)
{
	struct ctl_assoc_rec r = assoc_multipath();

	r.npaths = ASSOC_MAX_PATHS + 1;
	put_assoc(r);
	put_done(1);
}

static void build_other_assoc(void)
{
	put_assoc(assoc_cookie()); /* id 7, to show association 1 */
	put_done(1);
}

static void build_two_assocs(void)
{
	put_assoc(assoc_multipath());
	put_assoc(assoc_multipath());
	put_done(2);
}

static void build_rule_first(void)
{
	put_rule(CTL_RULE_INTERNAL, "10.10.1.0", 24, 0, 0, 0, 0, 0);
	put_rules_hdr("nft queue", 0, 1, 1, 0, 0);
	put_done(1);
}

static void build_two_rules_hdrs(void)
{
	put_rules_hdr("nft queue", 0, 1, 1, 0, 0);
	put_rules_hdr("nft queue", 0, 1, 1, 0, 0);
	put_done(0);
}

static void build_data_to_reload(void)
{
	put(CTL_REP_CONFIG, 0, "x", 1);
	put_done(0);
}

static void build_long_done(void)
{
	uint32_t d[2] = { 1, 2 };

	put(CTL_REP_DONE, 0, d, sizeof(d));
}

/* ---- the cases ---- */

enum fmt { TEXT, JSON, PROM };

struct tcase {
	const char *name;
	uint16_t request;
	uint32_t assoc_id; /* show association ID */
	enum fmt fmt;
	void (*build)(void);
	void (*filter)(struct assoc_filter *f); /* show associations FILTER... */
};

static const struct tcase cases[] = {
	{ "assoc-list", CTL_REQ_SHOW_ASSOC, 0, TEXT, build_assoc_list, NULL },
	{ "assoc-list-json", CTL_REQ_SHOW_ASSOC, 0, JSON, build_assoc_list, NULL },
	{ "assoc-list-empty", CTL_REQ_SHOW_ASSOC, 0, TEXT, build_done_0, NULL },
	{ "assoc-list-empty-json", CTL_REQ_SHOW_ASSOC, 0, JSON, build_done_0, NULL },
	{ "assoc-filter-remote", CTL_REQ_SHOW_ASSOC, 0, TEXT, build_assoc_list, filter_remote },
	{ "assoc-filter-state-port-json", CTL_REQ_SHOW_ASSOC, 0, JSON, build_assoc_list,
	  filter_state_port },
	{ "assoc-filter-internal-port", CTL_REQ_SHOW_ASSOC, 0, TEXT, build_assoc_list,
	  filter_internal },
	{ "assoc-filter-no-match", CTL_REQ_SHOW_ASSOC, 0, TEXT, build_assoc_list, filter_none },
	{ "assoc-detail-multipath", CTL_REQ_SHOW_ASSOC, 1, TEXT, build_multipath, NULL },
	{ "assoc-detail-multipath-json", CTL_REQ_SHOW_ASSOC, 1, JSON, build_multipath, NULL },
	{ "assoc-detail-relay", CTL_REQ_SHOW_ASSOC, 2, TEXT, build_relay, NULL },
	{ "assoc-detail-relay-json", CTL_REQ_SHOW_ASSOC, 2, JSON, build_relay, NULL },
	{ "assoc-detail-ipv6", CTL_REQ_SHOW_ASSOC, UINT32_MAX, TEXT, build_ipv6, NULL },
	{ "assoc-detail-ipv6-json", CTL_REQ_SHOW_ASSOC, UINT32_MAX, JSON, build_ipv6, NULL },
	{ "assoc-detail-no-paths", CTL_REQ_SHOW_ASSOC, 7, TEXT, build_cookie, NULL },
	{ "assoc-detail-no-paths-json", CTL_REQ_SHOW_ASSOC, 7, JSON, build_cookie, NULL },
	{ "assoc-detail-none", CTL_REQ_SHOW_ASSOC, 999999, TEXT, build_error_noassoc, NULL },

	{ "stats", CTL_REQ_SHOW_STATS, 0, TEXT, build_stats, NULL },
	{ "stats-json", CTL_REQ_SHOW_STATS, 0, JSON, build_stats, NULL },
	{ "stats-prometheus", CTL_REQ_SHOW_STATS, 0, PROM, build_stats, NULL },
	{ "stats-empty", CTL_REQ_SHOW_STATS, 0, TEXT, build_done_0, NULL },
	{ "stats-empty-json", CTL_REQ_SHOW_STATS, 0, JSON, build_done_0, NULL },

	{ "rules-full", CTL_REQ_SHOW_RULES, 0, TEXT, build_rules_full, NULL },
	{ "rules-full-json", CTL_REQ_SHOW_RULES, 0, JSON, build_rules_full, NULL },
	{ "rules-minimal", CTL_REQ_SHOW_RULES, 0, TEXT, build_rules_minimal, NULL },
	{ "rules-minimal-json", CTL_REQ_SHOW_RULES, 0, JSON, build_rules_minimal, NULL },

	{ "config", CTL_REQ_SHOW_CONFIG, 0, TEXT, build_config, NULL },
	{ "config-json", CTL_REQ_SHOW_CONFIG, 0, JSON, build_config, NULL },
	{ "config-empty-json", CTL_REQ_SHOW_CONFIG, 0, JSON, build_done_0, NULL },
	{ "config-latin1-json", CTL_REQ_SHOW_CONFIG, 0, JSON, build_config_latin1, NULL },

	{ "reload", CTL_REQ_RELOAD, 0, TEXT, build_done_bare, NULL },
	{ "reload-json", CTL_REQ_RELOAD, 0, JSON, build_done_0, NULL },
	{ "reload-bad-config", CTL_REQ_RELOAD, 0, TEXT, build_error_reload, NULL },
	{ "reload-refused", CTL_REQ_RELOAD, 0, TEXT, build_error_perm, NULL },
	{ "reload-refused-json", CTL_REQ_RELOAD, 0, JSON, build_error_perm, NULL },
	{ "flush", CTL_REQ_FLUSH, 0, TEXT, build_done_3, NULL },
	{ "flush-one", CTL_REQ_FLUSH, 0, TEXT, build_done_1, NULL },
	{ "flush-none-json", CTL_REQ_FLUSH, 0, JSON, build_done_0, NULL },
	{ "flush-json", CTL_REQ_FLUSH, 0, JSON, build_done_3, NULL },
	{ "set-port", CTL_REQ_SET_PORT, 0, TEXT, build_done_3, NULL },
	{ "set-port-one", CTL_REQ_SET_PORT, 0, TEXT, build_done_1, NULL },
	{ "set-port-json", CTL_REQ_SET_PORT, 0, JSON, build_done_1, NULL },
	{ "set-port-none", CTL_REQ_SET_PORT, 0, TEXT, build_error_noassoc, NULL },

	{ "error-control-chars", CTL_REQ_FLUSH, 0, TEXT, build_error_ctrl, NULL },
	{ "error-status-only", CTL_REQ_SHOW_STATS, 0, JSON, build_error_status_only, NULL },
	{ "error-after-records", CTL_REQ_SHOW_ASSOC, 0, TEXT, build_error_midway, NULL },

	{ "bad-magic", CTL_REQ_SHOW_STATS, 0, TEXT, build_bad_magic, NULL },
	{ "bad-version", CTL_REQ_SHOW_STATS, 0, TEXT, build_bad_version, NULL },
	{ "bad-reply-type", CTL_REQ_SHOW_STATS, 0, TEXT, build_wrong_type, NULL },
	{ "bad-unknown-type", CTL_REQ_SHOW_STATS, 0, TEXT, build_unknown_type, NULL },
	{ "bad-record-size", CTL_REQ_SHOW_STATS, 0, TEXT, build_short_stat, NULL },
	{ "bad-stat-name", CTL_REQ_SHOW_STATS, 0, TEXT, build_stat_unterminated, NULL },
	{ "bad-npaths", CTL_REQ_SHOW_ASSOC, 0, JSON, build_too_many_paths, NULL },
	{ "bad-other-assoc", CTL_REQ_SHOW_ASSOC, 1, TEXT, build_other_assoc, NULL },
	{ "bad-two-assocs", CTL_REQ_SHOW_ASSOC, 1, TEXT, build_two_assocs, NULL },
	{ "bad-no-assoc", CTL_REQ_SHOW_ASSOC, 1, TEXT, build_done_0, NULL },
	{ "bad-rule-first", CTL_REQ_SHOW_RULES, 0, TEXT, build_rule_first, NULL },
	{ "bad-two-rules-headers", CTL_REQ_SHOW_RULES, 0, TEXT, build_two_rules_hdrs, NULL },
	{ "bad-no-rules-header", CTL_REQ_SHOW_RULES, 0, TEXT, build_done_0, NULL },
	{ "bad-data-to-reload", CTL_REQ_RELOAD, 0, TEXT, build_data_to_reload, NULL },
	{ "bad-done-size", CTL_REQ_FLUSH, 0, TEXT, build_long_done, NULL },
};

/* The case's reply through reply.c as sctpgwctl runs it; the golden file's text. */
static char *render(const struct tcase *t, size_t *len)
{
	struct assoc_filter filter;
	struct reply_view v = { .out = t->fmt == JSON ? &output_json : &output_text,
				.prometheus = t->fmt == PROM };
	struct reply r;
	char *out_text = NULL, *err_text = NULL, *all = NULL;
	size_t out_len = 0, err_len = 0, all_len = 0;
	FILE *out = open_memstream(&out_text, &out_len);
	FILE *err = open_memstream(&err_text, &err_len);
	FILE *f = open_memstream(&all, &all_len);
	int more = 1, rc;

	if (!out || !err || !f)
		exit(99);
	if (t->filter) {
		memset(&filter, 0, sizeof(filter));
		t->filter(&filter);
		v.filter = &filter;
	}
	wire_len = 0;
	t->build();
	reply_begin(&r, t->request, t->assoc_id);
	for (size_t off = 0; more > 0 && off < wire_len;) {
		struct ctl_hdr h;

		memcpy(&h, wire + off, sizeof(h));
		more = reply_add(&r, &h, wire + off + sizeof(h), err);
		off += sizeof(h) + h.len;
	}
	if (more > 0) {
		fprintf(stderr, "test_ctl_output: %s: the canned reply has no end\n", t->name);
		exit(99);
	}
	rc = more < 0 ? EXIT_FAILURE : reply_show(&r, &v, out, err);
	reply_free(&r);
	fclose(out);
	fclose(err);
	fwrite(out_text, 1, out_len, f);
	if (err_len) {
		fputs("[stderr]\n", f);
		fwrite(err_text, 1, err_len, f);
	}
	fprintf(f, "[exit %d]\n", rc);
	fclose(f);
	free(out_text);
	free(err_text);
	*len = all_len;
	return all;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		char *p = realloc(buf, cap + 65536);

		if (!p)
			exit(99);
		buf = p;
		cap += 65536;
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n && *len == cap);
	fclose(f);
	return buf;
}

static int spew(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "test_ctl_output: writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A mismatch shown as a diff: the actual output goes to NAME.out in the build tree. */
static void show_diff(const char *golden, const char *name, const char *text, size_t len)
{
	const char *builddir = getenv("top_builddir") ? getenv("top_builddir") : ".";
	char out[4096], cmd[9000];

	snprintf(out, sizeof(out), "%s/tests/ctl/%s.out", builddir, name);
	if (spew(out, text, len) < 0)
		return;
	snprintf(cmd, sizeof(cmd), "diff -u '%s' '%s' | sed 's/^/  /'", golden, out);
	if (system(cmd) != 0)
		fprintf(stderr, "  (diff failed)\n");
}

int main(void)
{
	const char *srcdir = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	const char *upd = getenv("UPDATE_GOLDEN");
	bool update = upd && *upd && strcmp(upd, "0") != 0;
	int pass = 0, fail = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		char golden[4096], *want, *got;
		size_t want_len, got_len;
		bool ok;

		snprintf(golden, sizeof(golden), "%s/tests/ctl/%s.expected", srcdir, t->name);
		got = render(t, &got_len);
		if (update) {
			ok = spew(golden, got, got_len) == 0;
		} else {
			want = slurp(golden, &want_len);
			ok = want && want_len == got_len && !memcmp(want, got, got_len);
			if (!want)
				printf("  %s: missing golden file %s\n", t->name, golden);
			else if (!ok)
				show_diff(golden, t->name, got, got_len);
			free(want);
		}
		printf("%s: %s\n", ok ? "PASS" : "FAIL", t->name);
		if (ok)
			pass++;
		else
			fail++;
		free(got);
	}
	printf("%d passed, %d failed%s\n", pass, fail, update ? " (golden files rewritten)" : "");
	return fail ? 1 : 0;
}
