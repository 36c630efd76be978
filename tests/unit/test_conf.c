/* test_conf.c - the configuration parser: good files give the right struct, every
 * error class gives its exact message and line, the dump reads back identically, and
 * the match helpers pick the right rule. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"

/* Parsing text as a file named t.conf, the way conf_load_file does. */
static int parse(const char *text, struct gw_conf *c, char *err, size_t errlen)
{
	struct conf_reader r;
	char *copy = strdup(text);
	char *line, *save = NULL;
	int rc = 0;

	ck_assert_ptr_nonnull(copy);
	conf_read_init(&r, c, "t.conf");
	/* strsep keeps empty lines, so line numbers count them as a file would. */
	save = copy;
	while ((line = strsep(&save, "\n")) != NULL) {
		if (!save && !*line)
			break; /* after the final newline */
		rc = conf_read_line(&r, line);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = conf_read_finish(&r);
	snprintf(err, errlen, "%s", rc < 0 ? r.err : "");
	free(copy);
	return rc;
}

static struct gw_conf *conf_new(void)
{
	struct gw_conf *c = malloc(sizeof(*c));

	ck_assert_ptr_nonnull(c);
	return c;
}

static void parse_ok(const char *text, struct gw_conf *c)
{
	char err[CONF_ERR_LEN];

	if (parse(text, c, err, sizeof(err)) < 0)
		ck_abort_msg("unexpected error: %s", err);
}

static void addr(const char *s, struct gw_addr *a)
{
	ck_assert_int_eq(addr_parse(s, a), 0);
}

static void check_prefix(const struct conf_prefix *p, const char *want_addr, unsigned want_len)
{
	struct gw_addr a;

	addr(want_addr, &a);
	ck_assert_msg(addr_equal(&p->addr, &a), "prefix address is not %s", want_addr);
	ck_assert_uint_eq(p->len, want_len);
}

#define MIN "internal 10.10.1.0/24\nencapsulate to any\n"

START_TEST(test_defaults)
{
	struct gw_conf *c = conf_new();

	parse_ok(MIN, c);
	ck_assert_uint_eq(c->udp_port, 9899);
	ck_assert_uint_eq(c->queue_num, 0);
	ck_assert_uint_eq(c->mark, CONF_DEFAULT_MARK);
	ck_assert_uint_eq(c->max_assoc, 65536);
	ck_assert_uint_eq(c->timeout_init, 3);
	ck_assert_uint_eq(c->timeout_established, 210);
	ck_assert_uint_eq(c->timeout_shutdown, 3);
	ck_assert_uint_eq(c->init_rate, 1000);
	ck_assert_uint_eq(c->init_rate_source, 50);
	ck_assert(!c->queue_bypass); /* fail closed unless asked */
	ck_assert(!c->host_mode);
	ck_assert_uint_eq(c->relay_ingest, CONF_INGEST_AUTO);
	ck_assert_uint_eq(c->nrelay, 0);
	ck_assert_uint_eq(c->ninternal, 1);
	check_prefix(&c->internal[0], "10.10.1.0", 24);
	ck_assert_uint_eq(c->nencap, 1);
	ck_assert(c->encap[0].any);
	ck_assert_uint_eq(c->encap[0].port, 0);
	ck_assert_uint_eq(c->encap[0].remote_udp_port, 9899);
	ck_assert_uint_eq(c->encap[0].line, 2);
	ck_assert_uint_eq(c->nforward, 0);
	free(c);
}
END_TEST

START_TEST(test_every_statement)
{
	struct gw_conf *c = conf_new();
	struct gw_addr a;

	parse_ok("# every statement\n"
		 "udp-port\t9900\t# comment after tab\n"
		 "queue 3\n"
		 "mark 0x1234ABcd\n"
		 "max-associations 1000\n"
		 "init-rate 200\n"
		 "init-rate-per-source 7\n"
		 "queue-bypass yes\n"
		 "timeout init 5\n"
		 "timeout established 600\n"
		 "timeout shutdown 4\n"
		 "internal 10.10.1.0/24\n"
		 "internal 192.168.7.0/24\n"
		 "encapsulate to 198.51.100.0/24 port 5060 remote-udp-port 9900\n"
		 "encapsulate to 203.0.113.7 remote-udp-port 10000 port 2905\n"
		 "encapsulate to any\n"
		 "forward port 7 to 10.10.1.2\n"
		 "forward port 2905 to 192.168.7.20 port 2906\n",
		 c);
	ck_assert_uint_eq(c->udp_port, 9900);
	ck_assert_uint_eq(c->queue_num, 3);
	ck_assert_uint_eq(c->mark, 0x1234abcd);
	ck_assert_uint_eq(c->max_assoc, 1000);
	ck_assert_uint_eq(c->init_rate, 200);
	ck_assert_uint_eq(c->init_rate_source, 7);
	ck_assert(c->queue_bypass);
	ck_assert_uint_eq(c->timeout_init, 5);
	ck_assert_uint_eq(c->timeout_established, 600);
	ck_assert_uint_eq(c->timeout_shutdown, 4);
	ck_assert_uint_eq(c->ninternal, 2);
	check_prefix(&c->internal[0], "10.10.1.0", 24);
	check_prefix(&c->internal[1], "192.168.7.0", 24);
	ck_assert_uint_eq(c->nencap, 3);
	ck_assert(!c->encap[0].any);
	check_prefix(&c->encap[0].dst, "198.51.100.0", 24);
	ck_assert_uint_eq(c->encap[0].port, 5060);
	ck_assert_uint_eq(c->encap[0].remote_udp_port, 9900);
	ck_assert_uint_eq(c->encap[0].line, 14);
	check_prefix(&c->encap[1].dst, "203.0.113.7", 32);
	ck_assert_uint_eq(c->encap[1].port, 2905);
	ck_assert_uint_eq(c->encap[1].remote_udp_port, 10000);
	ck_assert_uint_eq(c->encap[1].line, 15);
	ck_assert(c->encap[2].any);
	ck_assert_uint_eq(c->encap[2].line, 16);
	ck_assert_uint_eq(c->nforward, 2);
	ck_assert_uint_eq(c->forward[0].port, 7);
	addr("10.10.1.2", &a);
	ck_assert(addr_equal(&c->forward[0].to, &a));
	ck_assert_uint_eq(c->forward[0].to_port, 7);
	ck_assert_uint_eq(c->forward[0].line, 17);
	ck_assert_uint_eq(c->forward[1].port, 2905);
	addr("192.168.7.20", &a);
	ck_assert(addr_equal(&c->forward[1].to, &a));
	ck_assert_uint_eq(c->forward[1].to_port, 2906);
	ck_assert_uint_eq(c->forward[1].line, 18);
	free(c);
}
END_TEST

START_TEST(test_ipv6_and_bare_addresses)
{
	struct gw_conf *c = conf_new();
	struct gw_addr a;

	parse_ok("internal 2001:db8:1::/64\n"
		 "internal fd00:99::1\n"
		 "internal 172.16.5.9\n"
		 "encapsulate to 2001:db8:ff00::/40 port 9\n"
		 "encapsulate to ::/0\n"
		 "forward port 9 to 2001:db8:1::9\n",
		 c);
	ck_assert_uint_eq(c->ninternal, 3);
	ck_assert_uint_eq(c->internal[0].addr.family, AF_INET6);
	check_prefix(&c->internal[0], "2001:db8:1::", 64);
	check_prefix(&c->internal[1], "fd00:99::1", 128);
	check_prefix(&c->internal[2], "172.16.5.9", 32);
	check_prefix(&c->encap[0].dst, "2001:db8:ff00::", 40);
	ck_assert_uint_eq(c->encap[0].port, 9);
	check_prefix(&c->encap[1].dst, "::", 0);
	ck_assert(!c->encap[1].any);
	addr("2001:db8:1::9", &a);
	ck_assert(addr_equal(&c->forward[0].to, &a));
	free(c);
}
END_TEST

/* Comments anywhere, blank and whitespace-only lines, CRLF, lines without '\n'. */
START_TEST(test_layout)
{
	struct gw_conf *c = conf_new();
	struct conf_reader r;

	parse_ok("#\n"
		 "   \t  \n"
		 "\tudp-port 9000#comment without a space\n"
		 "queue 7 # trailing   \n"
		 "internal    10.0.0.0/8\t\t# spaces and tabs\n"
		 "encapsulate to any # the rest\n"
		 "# forward port 7 to 10.0.0.1\n",
		 c);
	ck_assert_uint_eq(c->udp_port, 9000);
	ck_assert_uint_eq(c->queue_num, 7);
	ck_assert_uint_eq(c->nforward, 0);

	conf_read_init(&r, c, "crlf.conf");
	ck_assert_int_eq(conf_read_line(&r, "udp-port 9001\r\n"), 0);
	ck_assert_int_eq(conf_read_line(&r, "internal 10.0.0.0/8\r"), 0);
	ck_assert_int_eq(conf_read_line(&r, "encapsulate to any"), 0);
	ck_assert_int_eq(conf_read_finish(&r), 0);
	ck_assert_uint_eq(c->udp_port, 9001);
	ck_assert_uint_eq(r.line, 3);
	free(c);
}
END_TEST

START_TEST(test_number_forms)
{
	struct gw_conf *c = conf_new();

	parse_ok(MIN "mark 4294967295\nqueue 0\nudp-port 00080\n", c);
	ck_assert_uint_eq(c->mark, 0xffffffffu);
	ck_assert_uint_eq(c->queue_num, 0);
	ck_assert_uint_eq(c->udp_port, 80);
	parse_ok(MIN "mark 0X1\nmax-associations 16777216\n", c);
	ck_assert_uint_eq(c->mark, 1);
	ck_assert_uint_eq(c->max_assoc, 16777216);
	parse_ok(MIN "timeout init 1\ntimeout established 86400\n", c);
	ck_assert_uint_eq(c->timeout_init, 1);
	ck_assert_uint_eq(c->timeout_established, 86400);
	free(c);
}
END_TEST

#define NOTHING                                                                   \
	"nothing to carry: no \"internal\" network, no \"host-mode yes\" and no " \
	"\"relay\" rule"

START_TEST(test_host_mode_and_relay_ingest)
{
	static const char *const ingest[] = { "auto", "raw", "queue" };
	struct gw_conf *c = conf_new();
	char text[128];

	parse_ok(MIN "host-mode yes\n", c);
	ck_assert(c->host_mode);
	ck_assert(!c->queue_bypass); /* its own flag, not queue-bypass's */
	parse_ok(MIN "host-mode no\n", c);
	ck_assert(!c->host_mode);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), MIN "relay-ingest %s # comment\n", ingest[i]);
		parse_ok(text, c);
		ck_assert_uint_eq(c->relay_ingest, i);
		ck_assert_str_eq(conf_relay_ingest_name(c->relay_ingest), ingest[i]);
	}
	ck_assert_uint_eq(CONF_INGEST_AUTO, 0);
	ck_assert_uint_eq(CONF_INGEST_RAW, 1);
	ck_assert_uint_eq(CONF_INGEST_QUEUE, 2);
	ck_assert_str_eq(conf_relay_ingest_name((enum conf_relay_ingest)3), "?");
	ck_assert_str_eq(conf_relay_ingest_name((enum conf_relay_ingest) - 1), "?");
	free(c);
}
END_TEST

START_TEST(test_relay_rules)
{
	struct gw_conf *c = conf_new();
	struct gw_addr a;

	parse_ok(MIN
		 "relay port 3868 to 203.0.113.9 port 7 remote-udp-port 9900\n"
		 "relay port 2905 to 2001:db8::9\n"
		 "\n"
		 "relay\tport 36412 to 198.51.100.4 remote-udp-port 10000 port 36413 # swapped\n"
		 "relay port 7 to 198.51.100.4 port 7\n"
		 "relay port 65535 to ::ffff:10.10.1.2 remote-udp-port 1\n",
		 c);
	ck_assert_uint_eq(c->nrelay, 5);
	ck_assert_uint_eq(c->relay[0].port, 3868);
	addr("203.0.113.9", &a);
	ck_assert(addr_equal(&c->relay[0].to, &a));
	ck_assert_uint_eq(c->relay[0].to_port, 7);
	ck_assert_uint_eq(c->relay[0].remote_udp_port, 9900);
	ck_assert_uint_eq(c->relay[0].line, 3);
	/* port defaults to P, remote-udp-port to 9899 */
	ck_assert_uint_eq(c->relay[1].port, 2905);
	addr("2001:db8::9", &a);
	ck_assert(addr_equal(&c->relay[1].to, &a));
	ck_assert_uint_eq(c->relay[1].to_port, 2905);
	ck_assert_uint_eq(c->relay[1].remote_udp_port, 9899);
	ck_assert_uint_eq(c->relay[1].line, 4);
	ck_assert_uint_eq(c->relay[2].port, 36412);
	ck_assert_uint_eq(c->relay[2].to_port, 36413);
	ck_assert_uint_eq(c->relay[2].remote_udp_port, 10000);
	ck_assert_uint_eq(c->relay[2].line, 6);
	ck_assert_uint_eq(c->relay[3].to_port, 7);
	/* An IPv4-mapped IPv6 address is not inside 10.10.1.0/24 (families differ). */
	addr("::ffff:10.10.1.2", &a);
	ck_assert(addr_equal(&c->relay[4].to, &a));
	ck_assert_uint_eq(c->relay[4].port, 65535);
	ck_assert_uint_eq(c->relay[4].remote_udp_port, 1);
	/* relay rules are their own table: nothing leaks into encapsulate or forward */
	ck_assert_uint_eq(c->nencap, 1);
	ck_assert_uint_eq(c->nforward, 0);
	free(c);
}
END_TEST

/* What conf_read_finish accepts since host mode and relays: each on its own is enough. */
START_TEST(test_finish_rules)
{
	struct gw_conf *c = conf_new();
	struct gw_addr a;

	/* Relay only: no internal network, no encapsulate rule. */
	parse_ok("relay port 3868 to 203.0.113.9\n", c);
	ck_assert_uint_eq(c->ninternal, 0);
	ck_assert_uint_eq(c->nencap, 0);
	ck_assert_uint_eq(c->nrelay, 1);
	ck_assert(!c->host_mode);

	/* Host mode: no internal network, and forward targets may be anywhere (this
	 * host's own addresses), with or without internal networks beside it. */
	parse_ok("host-mode yes\nencapsulate to any\nforward port 7 to 100.64.0.2\n"
		 "forward port 9 to 2001:db8::1 port 99\n",
		 c);
	ck_assert(c->host_mode);
	ck_assert_uint_eq(c->ninternal, 0);
	ck_assert_uint_eq(c->nforward, 2);
	addr("100.64.0.2", &a);
	ck_assert(addr_equal(&c->forward[0].to, &a));
	parse_ok(MIN "host-mode yes\nforward port 7 to 192.0.2.1\n", c);
	ck_assert_uint_eq(c->nforward, 1);

	/* Everything at once; relay targets outside the internal networks are fine. */
	parse_ok(MIN "host-mode yes\nrelay port 1 to 10.10.2.1\nrelay port 2 to fd00::1\n", c);
	ck_assert_uint_eq(c->nrelay, 2);

	/* Host mode with relays, and the encapsulate rule host mode needs. */
	parse_ok("relay port 1 to 203.0.113.9\nhost-mode yes\nencapsulate to 203.0.113.0/24\n", c);
	ck_assert(c->host_mode);
	free(c);
}
END_TEST

struct err_case {
	const char *text;
	const char *err;
};

static const struct err_case err_cases[] = {
	/* unknown words */
	{ MIN "tunnel to 192.0.2.1\n", "t.conf:3: unknown statement \"tunnel\"" },
	{ MIN "Udp-port 1\n", "t.conf:3: unknown statement \"Udp-port\"" },
	{ MIN "timeout idle 30\n",
	  "t.conf:3: unknown timeout \"idle\" (expected init, established or shutdown)" },
	/* bad numbers */
	{ "# c\n\n\n\n\n\nudp-port 70000\n", "t.conf:7: bad port \"70000\" (expected 1-65535)" },
	{ MIN "udp-port 0\n", "t.conf:3: bad port \"0\" (expected 1-65535)" },
	{ MIN "udp-port 12abc\n", "t.conf:3: bad port \"12abc\" (expected 1-65535)" },
	{ MIN "udp-port -1\n", "t.conf:3: bad port \"-1\" (expected 1-65535)" },
	{ MIN "udp-port +1\n", "t.conf:3: bad port \"+1\" (expected 1-65535)" },
	{ MIN "udp-port 0x10\n", "t.conf:3: bad port \"0x10\" (expected 1-65535)" },
	{ MIN "udp-port 99999999999999999999999\n",
	  "t.conf:3: bad port \"99999999999999999999999\" (expected 1-65535)" },
	{ MIN "queue 65536\n",
	  "t.conf:3: bad queue number \"65536\" (expected 0-65535, or a range N-M)" },
	{ MIN "queue 12abc\n",
	  "t.conf:3: bad queue number \"12abc\" (expected 0-65535, or a range N-M)" },
	{ MIN "queue 0-2\n",
	  "t.conf:3: queue range \"0-2\" has 3 queues; a worker per queue needs 1, 2, 4 or 8 "
	  "of them" },
	{ MIN "queue 0-15\n",
	  "t.conf:3: queue range \"0-15\" has 16 queues; a worker per queue needs 1, 2, 4 or 8 "
	  "of them" },
	{ MIN "queue 5-4\n",
	  "t.conf:3: bad queue range \"5-4\" (the first number must not be above the second)" },
	{ MIN "queue 1-\n",
	  "t.conf:3: bad queue number \"1-\" (expected 0-65535, or a range N-M)" },
	{ MIN "queue 65535-65536\n",
	  "t.conf:3: bad queue number \"65535-65536\" (expected 0-65535, or a range N-M)" },
	{ MIN "queue-length 0\n", "t.conf:3: bad queue length \"0\" (expected 1-1048576 packets)" },
	{ MIN "busy-poll 10001\n",
	  "t.conf:3: bad busy-poll time \"10001\" (expected 0-10000 microseconds)" },
	{ MIN "busy-poll 5\nbusy-poll 6\n", "t.conf:4: \"busy-poll\" already set on line 3" },
	{ MIN "mark 0\n",
	  "t.conf:3: bad mark \"0\" (expected a non-zero 32-bit number, decimal or 0x hex)" },
	{ MIN "mark 0x\n",
	  "t.conf:3: bad mark \"0x\" (expected a non-zero 32-bit number, decimal or 0x hex)" },
	{ MIN "mark 0x100000000\n",
	  "t.conf:3: bad mark \"0x100000000\" (expected a non-zero 32-bit number, decimal or "
	  "0x hex)" },
	{ MIN "mark 4294967296\n",
	  "t.conf:3: bad mark \"4294967296\" (expected a non-zero 32-bit number, decimal or "
	  "0x hex)" },
	{ MIN "mark 0xfg\n",
	  "t.conf:3: bad mark \"0xfg\" (expected a non-zero 32-bit number, decimal or 0x hex)" },
	{ MIN "init-rate 0\n", "t.conf:3: bad rate \"0\" (expected 1-1000000 per second)" },
	{ MIN "init-rate-per-source 1000001\n",
	  "t.conf:3: bad rate \"1000001\" (expected 1-1000000 per second)" },
	{ MIN "init-rate 5\ninit-rate 6\n", "t.conf:4: \"init-rate\" already set on line 3" },
	{ MIN "max-associations 0\n",
	  "t.conf:3: bad max-associations \"0\" (expected 1-16777216)" },
	{ MIN "max-associations 16777217\n",
	  "t.conf:3: bad max-associations \"16777217\" (expected 1-16777216)" },
	{ MIN "timeout init 0\n", "t.conf:3: bad timeout \"0\" (expected 1-86400 seconds)" },
	{ MIN "timeout shutdown 86401\n",
	  "t.conf:3: bad timeout \"86401\" (expected 1-86400 seconds)" },
	{ MIN "timeout established -1\n",
	  "t.conf:3: bad timeout \"-1\" (expected 1-86400 seconds)" },
	{ MIN "queue-bypass maybe\n",
	  "t.conf:3: bad value \"maybe\" for queue-bypass (expected yes or no)" },
	{ MIN "queue-bypass Yes\n",
	  "t.conf:3: bad value \"Yes\" for queue-bypass (expected yes or no)" },
	{ MIN "queue-bypass 1\n",
	  "t.conf:3: bad value \"1\" for queue-bypass (expected yes or no)" },
	/* missing and extra arguments */
	{ MIN "udp-port\n", "t.conf:3: missing value after \"udp-port\"" },
	{ MIN "queue   # comment\n", "t.conf:3: missing value after \"queue\"" },
	{ MIN "timeout\n", "t.conf:3: missing init, established or shutdown after \"timeout\"" },
	{ MIN "timeout init\n", "t.conf:3: missing value after \"timeout init\"" },
	{ MIN "udp-port 1 2\n", "t.conf:3: extra argument \"2\" to \"udp-port\"" },
	{ MIN "timeout init 3 s\n", "t.conf:3: extra argument \"s\" to \"timeout\"" },
	{ MIN "queue-bypass\n", "t.conf:3: missing value after \"queue-bypass\"" },
	{ MIN "queue-bypass yes no\n", "t.conf:3: extra argument \"no\" to \"queue-bypass\"" },
	{ "internal\n", "t.conf:1: missing network prefix after \"internal\"" },
	{ "internal 10.0.0.0/8 10.1.0.0/16\n",
	  "t.conf:1: extra argument \"10.1.0.0/16\" to \"internal\"" },
	/* prefixes */
	{ "internal 10.10.1.1/24\n",
	  "t.conf:1: host bits set in 10.10.1.1/24 (did you mean 10.10.1.0/24?)" },
	{ "internal 10.0.0.1/24\n",
	  "t.conf:1: host bits set in 10.0.0.1/24 (did you mean 10.0.0.0/24?)" },
	{ "internal 2001:db8::1/64\n",
	  "t.conf:1: host bits set in 2001:db8::1/64 (did you mean 2001:db8::/64?)" },
	{ "internal 10.0.0.0/33\n",
	  "t.conf:1: bad prefix length \"33\" in \"10.0.0.0/33\" (expected 0-32)" },
	{ "internal 2001:db8::/129\n",
	  "t.conf:1: bad prefix length \"129\" in \"2001:db8::/129\" (expected 0-128)" },
	{ "internal 10.0.0.0/\n",
	  "t.conf:1: bad prefix length \"\" in \"10.0.0.0/\" (expected 0-32)" },
	{ "internal 10.0.0.0/-8\n",
	  "t.conf:1: bad prefix length \"-8\" in \"10.0.0.0/-8\" (expected 0-32)" },
	{ "internal 10.0.0.0/8/8\n",
	  "t.conf:1: bad prefix length \"8/8\" in \"10.0.0.0/8/8\" (expected 0-32)" },
	{ "internal 10.10.1/24\n",
	  "t.conf:1: bad prefix \"10.10.1/24\" (expected ADDRESS or ADDRESS/LENGTH)" },
	{ "internal any\n", "t.conf:1: bad prefix \"any\" (expected ADDRESS or ADDRESS/LENGTH)" },
	{ "internal /8\n", "t.conf:1: bad prefix \"/8\" (expected ADDRESS or ADDRESS/LENGTH)" },
	{ "internal 10.0.0.0/8\ninternal 10.0.0.0/8\n",
	  "t.conf:2: internal network 10.0.0.0/8 listed twice" },
	/* encapsulate */
	{ "internal 10.0.0.0/8\nencapsulate\n", "t.conf:2: missing \"to\" after \"encapsulate\"" },
	{ "internal 10.0.0.0/8\nencapsulate any\n",
	  "t.conf:2: expected \"to\" after \"encapsulate\", not \"any\"" },
	{ "internal 10.0.0.0/8\nencapsulate to\n",
	  "t.conf:2: missing destination (a prefix or \"any\") after \"encapsulate to\"" },
	{ "internal 10.0.0.0/8\nencapsulate to any port 7 port 8\n",
	  "t.conf:2: \"port\" given twice" },
	{ "internal 10.0.0.0/8\nencapsulate to any remote-udp-port 1 remote-udp-port 1\n",
	  "t.conf:2: \"remote-udp-port\" given twice" },
	{ "internal 10.0.0.0/8\nencapsulate to any udp-port 9899\n",
	  "t.conf:2: unknown option \"udp-port\" (expected \"port\", \"remote-udp-port\" or "
	  "\"keepalive\")" },
	{ "internal 10.0.0.0/8\nencapsulate to any port\n",
	  "t.conf:2: missing port number after \"port\"" },
	{ "internal 10.0.0.0/8\nencapsulate to any port 65536\n",
	  "t.conf:2: bad port \"65536\" (expected 0-65535, 0 = any)" },
	{ "internal 10.0.0.0/8\nencapsulate to any remote-udp-port 0\n",
	  "t.conf:2: bad port \"0\" (expected 1-65535)" },
	{ "internal 10.0.0.0/8\nencapsulate to 192.0.2.1/24\n",
	  "t.conf:2: host bits set in 192.0.2.1/24 (did you mean 192.0.2.0/24?)" },
	/* forward */
	{ MIN "forward\n", "t.conf:3: missing \"port\" after \"forward\"" },
	{ MIN "forward 7 to 10.10.1.2\n",
	  "t.conf:3: expected \"port\" after \"forward\", not \"7\"" },
	{ MIN "forward port\n", "t.conf:3: missing port number after \"forward port\"" },
	{ MIN "forward port 0 to 10.10.1.2\n", "t.conf:3: bad port \"0\" (expected 1-65535)" },
	{ MIN "forward port 7 10.10.1.2\n",
	  "t.conf:3: expected \"to\" after \"forward port 7\", not \"10.10.1.2\"" },
	{ MIN "forward port 7 to\n", "t.conf:3: missing address after \"to\"" },
	{ MIN "forward port 7 to 10.10.1.0/24\n",
	  "t.conf:3: bad address \"10.10.1.0/24\" (expected an IPv4 or IPv6 address)" },
	{ MIN "forward port 7 to host.example\n",
	  "t.conf:3: bad address \"host.example\" (expected an IPv4 or IPv6 address)" },
	{ MIN "forward port 7 to 10.10.1.2 8\n",
	  "t.conf:3: unknown option \"8\" (expected \"port\" or \"keepalive\")" },
	{ MIN "forward port 7 to 10.10.1.2 port\n",
	  "t.conf:3: missing port number after \"port\"" },
	{ MIN "forward port 7 to 10.10.1.2 port 70000\n",
	  "t.conf:3: bad port \"70000\" (expected 1-65535)" },
	{ MIN "forward port 7 to 10.10.1.2 port 8 x\n",
	  "t.conf:3: unknown option \"x\" (expected \"port\" or \"keepalive\")" },
	{ MIN "forward port 7 to 10.10.1.2 keepalive\n",
	  "t.conf:3: missing seconds after \"keepalive\"" },
	{ MIN "forward port 7 to 10.10.1.2 keepalive 3601\n",
	  "t.conf:3: bad keepalive interval \"3601\" (expected 0-3600 seconds, 0 = off)" },
	{ MIN "forward port 7 to 10.10.1.2 keepalive 4 keepalive 5\n",
	  "t.conf:3: \"keepalive\" given twice" },
	/* keepalive */
	{ MIN "keepalive\n", "t.conf:3: missing value after \"keepalive\"" },
	{ MIN "keepalive -1\n",
	  "t.conf:3: bad keepalive interval \"-1\" (expected 0-3600 seconds, 0 = off)" },
	{ MIN "keepalive 3601\n",
	  "t.conf:3: bad keepalive interval \"3601\" (expected 0-3600 seconds, 0 = off)" },
	{ MIN "keepalive 5 6\n", "t.conf:3: extra argument \"6\" to \"keepalive\"" },
	{ MIN "keepalive 5\nkeepalive 6\n", "t.conf:4: \"keepalive\" already set on line 3" },
	{ "internal 10.10.1.0/24\nencapsulate to any keepalive x\n",
	  "t.conf:2: bad keepalive interval \"x\" (expected 0-3600 seconds, 0 = off)" },
	{ "internal 10.10.1.0/24\nencapsulate to any keepalive 1 port 2 keepalive 3\n",
	  "t.conf:2: \"keepalive\" given twice" },
	{ MIN "forward port 7 to 10.10.1.2\n\nforward port 7 to 10.10.1.3\n",
	  "t.conf:5: port 7 already forwarded on line 3" },
	/* host-mode */
	{ MIN "host-mode maybe\n",
	  "t.conf:3: bad value \"maybe\" for host-mode (expected yes or no)" },
	{ MIN "host-mode YES\n", "t.conf:3: bad value \"YES\" for host-mode (expected yes or no)" },
	{ MIN "host-mode\n", "t.conf:3: missing value after \"host-mode\"" },
	{ MIN "host-mode yes yes\n", "t.conf:3: extra argument \"yes\" to \"host-mode\"" },
	{ MIN "host-mode no\n#\nhost-mode yes\n", "t.conf:5: \"host-mode\" already set on line 3" },
	/* relay-ingest */
	{ MIN "relay-ingest fast\n",
	  "t.conf:3: bad value \"fast\" for relay-ingest (expected auto, raw or queue)" },
	{ MIN "relay-ingest Raw\n",
	  "t.conf:3: bad value \"Raw\" for relay-ingest (expected auto, raw or queue)" },
	{ MIN "relay-ingest\n", "t.conf:3: missing value after \"relay-ingest\"" },
	{ MIN "relay-ingest raw queue\n",
	  "t.conf:3: extra argument \"queue\" to \"relay-ingest\"" },
	{ MIN "relay-ingest raw\nrelay-ingest raw\n",
	  "t.conf:4: \"relay-ingest\" already set on line 3" },
	/* relay */
	{ MIN "relay\n", "t.conf:3: missing \"port\" after \"relay\"" },
	{ MIN "relay 3868 to 203.0.113.9\n",
	  "t.conf:3: expected \"port\" after \"relay\", not \"3868\"" },
	{ MIN "relay port\n", "t.conf:3: missing port number after \"relay port\"" },
	{ MIN "relay port 0 to 203.0.113.9\n", "t.conf:3: bad port \"0\" (expected 1-65535)" },
	{ MIN "relay port 65536 to 203.0.113.9\n",
	  "t.conf:3: bad port \"65536\" (expected 1-65535)" },
	{ MIN "relay port 7\n", "t.conf:3: missing \"to\" after \"relay port 7\"" },
	{ MIN "relay port 7 203.0.113.9\n",
	  "t.conf:3: expected \"to\" after \"relay port 7\", not \"203.0.113.9\"" },
	{ MIN "relay port 7 to\n", "t.conf:3: missing address after \"to\"" },
	{ MIN "relay port 7 to 203.0.113.0/24\n",
	  "t.conf:3: bad address \"203.0.113.0/24\" (expected an IPv4 or IPv6 address)" },
	{ MIN "relay port 7 to any\n",
	  "t.conf:3: bad address \"any\" (expected an IPv4 or IPv6 address)" },
	{ MIN "relay port 7 to 203.0.113.9 8\n",
	  "t.conf:3: unknown option \"8\" (expected \"port\", \"remote-udp-port\" or "
	  "\"keepalive\")" },
	{ MIN "relay port 7 to 203.0.113.9 port 8 udp-port 9899\n",
	  "t.conf:3: unknown option \"udp-port\" (expected \"port\", \"remote-udp-port\" or "
	  "\"keepalive\")" },
	{ MIN "relay port 7 to 203.0.113.9 port\n",
	  "t.conf:3: missing port number after \"port\"" },
	{ MIN "relay port 7 to 203.0.113.9 port 8 remote-udp-port\n",
	  "t.conf:3: missing port number after \"remote-udp-port\"" },
	{ MIN "relay port 7 to 203.0.113.9 port 0\n",
	  "t.conf:3: bad port \"0\" (expected 1-65535)" },
	{ MIN "relay port 7 to 203.0.113.9 port 8x\n",
	  "t.conf:3: bad port \"8x\" (expected 1-65535)" },
	{ MIN "relay port 7 to 203.0.113.9 remote-udp-port 0\n",
	  "t.conf:3: bad port \"0\" (expected 1-65535)" },
	{ MIN "relay port 7 to 203.0.113.9 remote-udp-port 65536\n",
	  "t.conf:3: bad port \"65536\" (expected 1-65535)" },
	{ MIN "relay port 7 to 203.0.113.9 port 8 port 8\n", "t.conf:3: \"port\" given twice" },
	{ MIN "relay port 7 to 203.0.113.9 remote-udp-port 1 port 2 remote-udp-port 3\n",
	  "t.conf:3: \"remote-udp-port\" given twice" },
	{ MIN "relay port 7 to 203.0.113.9\n\nrelay port 7 to 198.51.100.1 port 8\n",
	  "t.conf:5: port 7 already relayed on line 3" },
	/* the key is the gateway's port P, not the target's port */
	{ MIN "relay port 7 to 203.0.113.9\nrelay port 8 to 203.0.113.9 port 7\n"
	      "relay port 8 to 203.0.113.9\n",
	  "t.conf:5: port 8 already relayed on line 4" },
	/* repeated single-valued statements name the first line */
	{ "udp-port 1\n" MIN "udp-port 1\n", "t.conf:4: \"udp-port\" already set on line 1" },
	{ "queue 1\n" MIN "queue 2\n", "t.conf:4: \"queue\" already set on line 1" },
	{ MIN "mark 1\nmark 2\n", "t.conf:4: \"mark\" already set on line 3" },
	{ MIN "queue-bypass no\nqueue-bypass no\n",
	  "t.conf:4: \"queue-bypass\" already set on line 3" },
	{ MIN "max-associations 1\n#\nmax-associations 2\n",
	  "t.conf:5: \"max-associations\" already set on line 3" },
	{ MIN "timeout init 1\ntimeout established 2\ntimeout init 3\n",
	  "t.conf:5: \"timeout init\" already set on line 3" },
	{ MIN "timeout established 1\ntimeout established 1\n",
	  "t.conf:4: \"timeout established\" already set on line 3" },
	{ MIN "timeout shutdown 1\ntimeout shutdown 1\n",
	  "t.conf:4: \"timeout shutdown\" already set on line 3" },
	/* the whole file */
	{ "", "t.conf: " NOTHING },
	{ "# nothing\nencapsulate to any\n", "t.conf: " NOTHING },
	{ "internal 10.0.0.0/8\n",
	  "t.conf: no \"encapsulate\" rule configured (\"internal\" needs one)" },
	{ MIN "forward port 7 to 10.10.1.2\nforward port 9 to 10.10.2.9\n",
	  "t.conf:4: forward target 10.10.2.9 is not inside an internal network" },
	{ MIN "forward port 9 to 2001:db8::9\n",
	  "t.conf:3: forward target 2001:db8::9 is not inside an internal network" },
	{ "host-mode no\nencapsulate to any\nrelay-ingest raw\n", "t.conf: " NOTHING },
	{ "host-mode no\nforward port 7 to 10.0.0.1\n", "t.conf: " NOTHING },
	{ "host-mode yes\n",
	  "t.conf: no \"encapsulate\" rule configured (\"host-mode yes\" needs one)" },
	/* a relay rule needs no encapsulate rule, but host mode beside it still does */
	{ "host-mode yes\nrelay port 7 to 203.0.113.9\n",
	  "t.conf: no \"encapsulate\" rule configured (\"host-mode yes\" needs one)" },
	{ "internal 10.0.0.0/8\nhost-mode yes\n",
	  "t.conf: no \"encapsulate\" rule configured (\"internal\" needs one)" },
	/* without host mode a forward target must still be internal, relay rules or not */
	{ "relay port 1 to 203.0.113.9\nforward port 7 to 10.0.0.5\n",
	  "t.conf:2: forward target 10.0.0.5 is not inside an internal network" },
	{ MIN "relay port 3868 to 203.0.113.9\nrelay port 2905 to 10.10.1.7 port 1\n",
	  "t.conf:4: relay target 10.10.1.7 is inside an internal network" },
	{ "internal fd00:10::/64\nencapsulate to any\n#\nrelay port 1 to fd00:10::9\n",
	  "t.conf:4: relay target fd00:10::9 is inside an internal network" },
	/* the relay check names the rule's line even when the network comes later */
	{ "relay port 1 to 10.10.1.9\n" MIN,
	  "t.conf:1: relay target 10.10.1.9 is inside an internal network" },
	/* tokens in messages are quoted and escaped */
	{ MIN "\x01queue\n", "t.conf:3: unknown statement \"\\x01queue\"" },
	{ MIN "say \"hi\"\n", "t.conf:3: unknown statement \"say\"" },
	{ MIN "\"x\"\n", "t.conf:3: unknown statement \"\\x22x\\x22\"" },
};

START_TEST(test_errors)
{
	const struct err_case *tc = &err_cases[_i];
	struct gw_conf *c = conf_new();
	char err[CONF_ERR_LEN];

	ck_assert_msg(parse(tc->text, c, err, sizeof(err)) < 0, "case %d parsed: %s", _i, tc->text);
	ck_assert_msg(strcmp(err, tc->err) == 0, "case %d: got '%s', want '%s'", _i, err, tc->err);
	free(c);
}
END_TEST

START_TEST(test_long_lines)
{
	struct gw_conf *c = conf_new();
	struct conf_reader r;
	char line[1100];

	conf_read_init(&r, c, "t.conf");
	/* 1023 characters: the longest line allowed, with or without its newline. */
	memset(line, ' ', 1023);
	memcpy(line, "queue 5 #", 9);
	line[1023] = '\0';
	ck_assert_int_eq(conf_read_line(&r, line), 0);
	ck_assert_uint_eq(c->queue_num, 5);
	line[0] = '#';
	line[1023] = '\n';
	line[1024] = '\0';
	ck_assert_int_eq(conf_read_line(&r, line), 0);
	/* 1024 characters: an error, not a silent cut. */
	line[1023] = ' ';
	ck_assert_int_eq(conf_read_line(&r, line), -1);
	ck_assert_str_eq(r.err, "t.conf:3: line too long (more than 1023 characters)");
	free(c);
}
END_TEST

START_TEST(test_many_tokens)
{
	struct gw_conf *c = conf_new();
	char err[CONF_ERR_LEN];

	ck_assert_int_eq(parse(MIN "udp-port 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n",
			       c, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "t.conf:3: extra argument \"2\" to \"udp-port\"");
	ck_assert_int_eq(
		parse("internal 10.0.0.0/8\nencapsulate to any port 1 port 2 port 3 port 4 "
		      "port 5 port 6 port 7 port 8 port 9 port 10\n",
		      c, err, sizeof(err)),
		-1);
	ck_assert_str_eq(err, "t.conf:2: \"port\" given twice");
	free(c);
}
END_TEST

START_TEST(test_long_token_in_message)
{
	struct gw_conf *c = conf_new();
	char text[600], err[CONF_ERR_LEN];

	snprintf(text, sizeof(text), "%0500d\n", 7);
	ck_assert_int_eq(parse(text, c, err, sizeof(err)), -1);
	/* cut, marked with "...", and still one short line */
	ck_assert_msg(strstr(err, "t.conf:1: unknown statement \"0000") == err, "%s", err);
	ck_assert_msg(strstr(err, "...\"") != NULL, "%s", err);
	ck_assert_uint_lt(strlen(err), 150);
	free(c);
}
END_TEST

START_TEST(test_table_limits)
{
	struct gw_conf *c = conf_new();
	struct conf_reader r;
	char line[128];

	conf_read_init(&r, c, "t.conf");
	for (unsigned i = 0; i < CONF_MAX_INTERNAL; i++) {
		snprintf(line, sizeof(line), "internal 10.%u.0.0/16", i);
		ck_assert_int_eq(conf_read_line(&r, line), 0);
	}
	ck_assert_int_eq(conf_read_line(&r, "internal 11.0.0.0/8"), -1);
	ck_assert_str_eq(r.err, "t.conf:65: too many \"internal\" networks (at most 64)");

	conf_read_init(&r, c, "t.conf");
	for (unsigned i = 0; i < CONF_MAX_ENCAP; i++) {
		snprintf(line, sizeof(line), "encapsulate to any port %u", i + 1);
		ck_assert_int_eq(conf_read_line(&r, line), 0);
	}
	ck_assert_int_eq(conf_read_line(&r, "encapsulate to any"), -1);
	ck_assert_str_eq(r.err, "t.conf:257: too many \"encapsulate\" rules (at most 256)");

	conf_read_init(&r, c, "t.conf");
	for (unsigned i = 0; i < CONF_MAX_FORWARD; i++) {
		snprintf(line, sizeof(line), "forward port %u to 10.0.0.1", i + 1);
		ck_assert_int_eq(conf_read_line(&r, line), 0);
	}
	ck_assert_int_eq(conf_read_line(&r, "forward port 1000 to 10.0.0.1"), -1);
	ck_assert_str_eq(r.err, "t.conf:257: too many \"forward\" rules (at most 256)");

	conf_read_init(&r, c, "t.conf");
	for (unsigned i = 0; i < CONF_MAX_RELAY; i++) {
		snprintf(line, sizeof(line), "relay port %u to 203.0.113.9", i + 1);
		ck_assert_int_eq(conf_read_line(&r, line), 0);
	}
	ck_assert_int_eq(conf_read_line(&r, "relay port 1000 to 203.0.113.9"), -1);
	ck_assert_str_eq(r.err, "t.conf:257: too many \"relay\" rules (at most 256)");
	/* a duplicate is reported as such, also when the table is full */
	ck_assert_int_eq(conf_read_line(&r, "relay port 5 to 203.0.113.9"), -1);
	ck_assert_str_eq(r.err, "t.conf:258: port 5 already relayed on line 5");
	ck_assert_uint_eq(c->nrelay, CONF_MAX_RELAY);
	ck_assert_int_eq(conf_read_finish(&r), 0);
	free(c);
}
END_TEST

/* Line numbers say where a rule came from, not what it is: not part of the equality. */
static void clear_lines(struct gw_conf *c)
{
	for (unsigned i = 0; i < c->nencap; i++)
		c->encap[i].line = 0;
	for (unsigned i = 0; i < c->nforward; i++)
		c->forward[i].line = 0;
	for (unsigned i = 0; i < c->nrelay; i++)
		c->relay[i].line = 0;
}

static char *dump(const struct gw_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	conf_dump(c, f);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static const char *const round_trip_inputs[] = {
	MIN,
	"udp-port 9900\nqueue 3\nqueue-bypass yes\nmark 0x1\nmax-associations 1\ntimeout init "
	"86400\n"
	"timeout established 1\ntimeout shutdown 2\n"
	"internal 10.10.1.0/24\ninternal 192.168.7.0/24\n"
	"encapsulate to 198.51.100.0/24 port 5060 remote-udp-port 9900\n"
	"encapsulate to 203.0.113.7 remote-udp-port 10000 port 2905\nencapsulate to any\n"
	"forward port 7 to 10.10.1.2\nforward port 2905 to 192.168.7.20 port 2906\n",
	"# mixed families, written out of order\n"
	"forward port 36412 to fd00:10::5\n"
	"encapsulate to ::/0 port 0\n"
	"internal fd00:10::/48\ninternal 0.0.0.0/0\ninternal ::ffff:10.0.0.0/104\n"
	"encapsulate to 0.0.0.0/0 remote-udp-port 4000\n"
	"mark 4294967295\nforward port 1 to 10.9.9.9 port 65535\n",
	"queue 8-15\nqueue-length 100000\nbusy-poll 250\n" MIN,
	"queue 0-1\nqueue-length 1\nhost-mode yes\nencapsulate to any\n",
	/* relay only */
	"relay port 3868 to 203.0.113.9 port 7 remote-udp-port 9900\n"
	"relay port 2905 to 2001:db8::9\nrelay-ingest queue\n",
	/* host mode with everything else */
	"relay-ingest raw\nhost-mode yes\nencapsulate to any\nforward port 7 to 100.64.0.2\n"
	"internal 10.10.1.0/24\nrelay port 36412 to 198.51.100.4 remote-udp-port 1 port 2\n"
	"relay port 1 to 10.10.2.1\n",
	/* host mode alone, relay-ingest auto written out */
	"host-mode yes\nrelay-ingest auto\nencapsulate to 0.0.0.0/0\n",
};

START_TEST(test_round_trip)
{
	struct gw_conf *a = conf_new(), *b = conf_new();
	char err[CONF_ERR_LEN];
	char *text1, *text2;

	parse_ok(round_trip_inputs[_i], a);
	text1 = dump(a);
	if (parse(text1, b, err, sizeof(err)) < 0)
		ck_abort_msg("dump does not parse: %s\n%s", err, text1);
	text2 = dump(b);
	ck_assert_str_eq(text1, text2);
	clear_lines(a);
	clear_lines(b);
	ck_assert_msg(memcmp(a, b, sizeof(*a)) == 0, "structs differ after the round trip");
	free(text1);
	free(text2);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_dump_text)
{
	struct gw_conf *c = conf_new();
	char *text;

	parse_ok("internal 10.10.1.0/24\ninternal fd00::1\nencapsulate to any\n"
		 "encapsulate to 192.0.2.0/24 remote-udp-port 1 keepalive 0 port 2\n"
		 "forward port 7 to 10.10.1.2\nmark 255\n"
		 "forward port 8 to 10.10.1.2 keepalive 4 port 9\nkeepalive 20\n",
		 c);
	text = dump(c);
	ck_assert_str_eq(text, "udp-port 9899\n"
			       "queue 0\n"
			       "queue-length 4096\n"
			       "busy-poll 0\n"
			       "queue-bypass no\n"
			       "host-mode no\n"
			       "relay-ingest auto\n"
			       "mark 0xff\n"
			       "max-associations 65536\n"
			       "init-rate 1000\n"
			       "init-rate-per-source 50\n"
			       "timeout init 3\n"
			       "timeout established 210\n"
			       "timeout shutdown 3\n"
			       "keepalive 20\n"
			       "internal 10.10.1.0/24\n"
			       "internal fd00::1/128\n"
			       "encapsulate to any port 0 remote-udp-port 9899\n"
			       "encapsulate to 192.0.2.0/24 port 2 remote-udp-port 1 keepalive 0\n"
			       "forward port 7 to 10.10.1.2 port 7\n"
			       "forward port 8 to 10.10.1.2 port 9 keepalive 4\n");
	free(text);
	free(c);
}
END_TEST

/* The new lines' place (after queue-bypass; relay rules last) and their full form. */
START_TEST(test_dump_text_relay)
{
	struct gw_conf *c = conf_new();
	char *text;

	parse_ok("relay port 36412 to 198.51.100.4 remote-udp-port 10000 port 36413\n"
		 "host-mode yes\nrelay-ingest raw\nencapsulate to any\n"
		 "relay port 2905 to 2001:db8::9 keepalive 30\nforward port 7 to 100.64.0.2\n",
		 c);
	text = dump(c);
	ck_assert_str_eq(
		text,
		"udp-port 9899\n"
		"queue 0\n"
		"queue-length 4096\n"
		"busy-poll 0\n"
		"queue-bypass no\n"
		"host-mode yes\n"
		"relay-ingest raw\n"
		"mark 0x5c7b0000\n"
		"max-associations 65536\n"
		"init-rate 1000\n"
		"init-rate-per-source 50\n"
		"timeout init 3\n"
		"timeout established 210\n"
		"timeout shutdown 3\n"
		"keepalive 15\n"
		"encapsulate to any port 0 remote-udp-port 9899\n"
		"forward port 7 to 100.64.0.2 port 7\n"
		"relay port 36412 to 198.51.100.4 port 36413 remote-udp-port 10000\n"
		"relay port 2905 to 2001:db8::9 port 2905 remote-udp-port 9899 keepalive 30\n");
	free(text);

	parse_ok("relay port 1 to 203.0.113.1\nrelay-ingest queue\n", c);
	text = dump(c);
	ck_assert_msg(strstr(text, "\nhost-mode no\nrelay-ingest queue\nmark ") != NULL, "%s",
		      text);
	ck_assert_msg(strstr(text, "internal") == NULL && strstr(text, "encapsulate") == NULL, "%s",
		      text);
	ck_assert_msg(strstr(text, "\nrelay port 1 to 203.0.113.1 port 1 remote-udp-port 9899\n") !=
			      NULL,
		      "%s", text);
	free(text);
	free(c);
}
END_TEST

START_TEST(test_match_encap)
{
	struct gw_conf *c = conf_new();
	struct gw_addr a;

	parse_ok("internal 10.0.0.0/8\n"
		 "encapsulate to 192.0.2.0/24 port 5060 remote-udp-port 1\n" /* encap[0] */
		 "encapsulate to 192.0.2.0/24 remote-udp-port 2\n"           /* encap[1] */
		 "encapsulate to 2001:db8::/32 remote-udp-port 3\n"          /* encap[2] */
		 "encapsulate to any port 7 remote-udp-port 4\n",            /* encap[3] */
		 c);
	addr("192.0.2.9", &a);
	ck_assert_ptr_eq(conf_match_encap(c, &a, 5060), &c->encap[0]);
	ck_assert_ptr_eq(conf_match_encap(c, &a, 5061), &c->encap[1]);
	ck_assert_ptr_eq(conf_match_encap(c, &a, 7), &c->encap[1]); /* first match wins */
	addr("198.51.100.1", &a);
	ck_assert_ptr_eq(conf_match_encap(c, &a, 7), &c->encap[3]);
	ck_assert_ptr_null(conf_match_encap(c, &a, 5060));
	addr("2001:db8:5::1", &a);
	ck_assert_ptr_eq(conf_match_encap(c, &a, 5060), &c->encap[2]);
	addr("2001:db9::1", &a);
	ck_assert_ptr_eq(conf_match_encap(c, &a, 7), &c->encap[3]); /* "any" matches IPv6 */
	ck_assert_ptr_null(conf_match_encap(c, &a, 8));
	/* The family must match: ::ffff:192.0.2.9 is not in 192.0.2.0/24. */
	addr("::ffff:192.0.2.9", &a);
	ck_assert_ptr_null(conf_match_encap(c, &a, 5060));

	parse_ok("internal 10.0.0.0/8\nencapsulate to 0.0.0.0/0\n", c);
	addr("203.0.113.1", &a);
	ck_assert_ptr_eq(conf_match_encap(c, &a, 1), &c->encap[0]);
	addr("2001:db8::1", &a);
	ck_assert_ptr_null(conf_match_encap(c, &a, 1)); /* 0.0.0.0/0 is IPv4 only */
	free(c);
}
END_TEST

START_TEST(test_match_forward_and_internal)
{
	struct gw_conf *c = conf_new();
	struct gw_addr a;

	parse_ok("internal 10.10.1.0/24\ninternal 2001:db8:1::/64\ninternal 172.16.0.1\n"
		 "encapsulate to any\n"
		 "forward port 7 to 10.10.1.2\nforward port 9 to 2001:db8:1::9 port 99\n",
		 c);
	ck_assert_ptr_eq(conf_match_forward(c, 7), &c->forward[0]);
	ck_assert_ptr_eq(conf_match_forward(c, 9), &c->forward[1]);
	ck_assert_uint_eq(conf_match_forward(c, 9)->to_port, 99);
	ck_assert_ptr_null(conf_match_forward(c, 8));
	ck_assert_ptr_null(conf_match_forward(c, 0));

	addr("10.10.1.255", &a);
	ck_assert(conf_is_internal(c, &a));
	addr("10.10.2.0", &a);
	ck_assert(!conf_is_internal(c, &a));
	addr("2001:db8:1::ffff", &a);
	ck_assert(conf_is_internal(c, &a));
	addr("2001:db8:2::1", &a);
	ck_assert(!conf_is_internal(c, &a));
	addr("172.16.0.1", &a);
	ck_assert(conf_is_internal(c, &a));
	addr("172.16.0.2", &a);
	ck_assert(!conf_is_internal(c, &a));
	addr("::ffff:10.10.1.2", &a);
	ck_assert(!conf_is_internal(c, &a));
	free(c);
}
END_TEST

START_TEST(test_match_relay)
{
	struct gw_conf *c = conf_new();

	parse_ok("relay port 3868 to 203.0.113.9 port 7\n"
		 "relay port 7 to 2001:db8::9 remote-udp-port 9900\n"
		 "relay port 65535 to 198.51.100.1\n",
		 c);
	ck_assert_ptr_eq(conf_match_relay(c, 3868), &c->relay[0]);
	ck_assert_ptr_eq(conf_match_relay(c, 7), &c->relay[1]); /* by P, not by the target's Q */
	ck_assert_uint_eq(conf_match_relay(c, 7)->remote_udp_port, 9900);
	ck_assert_ptr_eq(conf_match_relay(c, 65535), &c->relay[2]);
	ck_assert_ptr_null(conf_match_relay(c, 3869));
	ck_assert_ptr_null(conf_match_relay(c, 0));
	ck_assert_ptr_null(conf_match_relay(c, 9899));

	/* Forward rules are another table: a forwarded port is no relay port. */
	parse_ok(MIN "forward port 7 to 10.10.1.2\n", c);
	ck_assert_ptr_null(conf_match_relay(c, 7));
	ck_assert_ptr_nonnull(conf_match_forward(c, 7));
	parse_ok("relay port 7 to 203.0.113.9\n", c);
	/* internal networks beside relay rules only say who may use them: no encapsulate */
	parse_ok("relay port 7 to 203.0.113.9\ninternal 10.0.0.0/8\n", c);
	ck_assert_uint_eq(c->ninternal, 1);
	ck_assert_uint_eq(c->nencap, 0);
	ck_assert_ptr_null(conf_match_forward(c, 7));
	free(c);
}
END_TEST

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_load_file)
{
	char dir[] = "/tmp/test_conf.XXXXXX";
	char path[128], err[CONF_ERR_LEN + 64], want[CONF_ERR_LEN + 64];
	struct gw_conf *c = conf_new();
	static const char bad_nul[] = "internal 10.0.0.0/8\nqueue 1\0 2\n";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.conf", dir);

	write_file(path, "# x\n" MIN "queue 4", strlen("# x\n" MIN "queue 4"));
	ck_assert_int_eq(conf_load_file(path, c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c->queue_num, 4);
	ck_assert_uint_eq(c->encap[0].line, 3);

	write_file(path, "\n\n" MIN "udp-port 70000\n", strlen("\n\n" MIN "udp-port 70000\n"));
	ck_assert_int_eq(conf_load_file(path, c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:5: bad port \"70000\" (expected 1-65535)", path);
	ck_assert_str_eq(err, want);

	write_file(path, "internal 10.0.0.0/8\n", strlen("internal 10.0.0.0/8\n"));
	ck_assert_int_eq(conf_load_file(path, c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "%s: no \"encapsulate\" rule configured (\"internal\" "
		 "needs one)",
		 path);
	ck_assert_str_eq(err, want);

	write_file(path, bad_nul, sizeof(bad_nul) - 1);
	ck_assert_int_eq(conf_load_file(path, c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: NUL character in line", path);
	ck_assert_str_eq(err, want);

	/* Unreadable: "file: strerror", no line. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(conf_load_file(path, c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(conf_load_file(dir, c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", dir, strerror(EISDIR));
	ck_assert_str_eq(err, want);

	/* A short error buffer is cut, never overrun. */
	ck_assert_int_eq(conf_load_file(path, c, err, 8), -1);
	ck_assert_uint_eq(strlen(err), 7);

	ck_assert_int_eq(rmdir(dir), 0);
	free(c);
}
END_TEST

/* A failed parse leaves a config that a retry fully replaces (reload reuses buffers). */
START_TEST(test_reuse_after_error)
{
	struct gw_conf *a = conf_new(), *b = conf_new();
	char err[CONF_ERR_LEN];

	ck_assert_int_eq(parse("udp-port 1\nqueue 5\n" MIN "forward port 7 to 1.2.3.4\n", a, err,
			       sizeof(err)),
			 -1);
	parse_ok(MIN, a);
	parse_ok(MIN, b);
	ck_assert_int_eq(memcmp(a, b, sizeof(*a)), 0);
	/* Relay rules, host mode and relay-ingest from a failed parse do not survive. */
	ck_assert_int_eq(parse("host-mode yes\nrelay-ingest raw\nrelay port 1 to 192.0.2.1\n"
			       "relay port 1 to 192.0.2.2\n",
			       a, err, sizeof(err)),
			 -1);
	ck_assert_uint_eq(a->nrelay, 1);
	parse_ok(MIN, a);
	ck_assert_int_eq(memcmp(a, b, sizeof(*a)), 0);
	free(a);
	free(b);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_statement);
	tcase_add_test(tc, test_ipv6_and_bare_addresses);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_number_forms);
	tcase_add_test(tc, test_host_mode_and_relay_ingest);
	tcase_add_test(tc, test_relay_rules);
	tcase_add_test(tc, test_finish_rules);
	tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof(err_cases) / sizeof(err_cases[0])));
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_many_tokens);
	tcase_add_test(tc, test_long_token_in_message);
	tcase_add_test(tc, test_table_limits);
	tcase_add_loop_test(tc, test_round_trip, 0,
			    (int)(sizeof(round_trip_inputs) / sizeof(round_trip_inputs[0])));
	tcase_add_test(tc, test_dump_text);
	tcase_add_test(tc, test_dump_text_relay);
	tcase_add_test(tc, test_match_encap);
	tcase_add_test(tc, test_match_forward_and_internal);
	tcase_add_test(tc, test_match_relay);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_reuse_after_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
