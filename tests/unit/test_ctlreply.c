/* test_ctlreply.c - daemon state turned into reply records, without a daemon: the
 * statistics in their wire order with their values, every kind of rule, an association
 * with paths and a relay address, the configuration text, the address conversion. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctlproto.h"
#include "ctlreply.h"
#include "stat_names.h"

static struct gw_conf *parse(const char *text)
{
	struct gw_conf *c = calloc(1, sizeof(*c));
	struct conf_reader r;
	char *copy = strdup(text), *save = copy, *line;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(copy);
	conf_read_init(&r, c, "t.conf");
	while ((line = strsep(&save, "\n")) != NULL) {
		if (!save && !*line)
			break;
		ck_assert_msg(conf_read_line(&r, line) == 0, "%s", r.err);
	}
	ck_assert_msg(conf_read_finish(&r) == 0, "%s", r.err);
	free(copy);
	return c;
}

static struct gw_addr addr(const char *s)
{
	struct gw_addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

static void ck_ctl_addr(const struct ctl_addr *c, const char *want)
{
	struct gw_addr a = addr(want), got;

	ck_assert_int_eq(c->family, a.family);
	ctl_addr_to_gw_addr(&got, c);
	ck_assert_msg(addr_equal(&got, &a), "address is not %s", want);
}

/* The names and order operators' scripts and sctpgwctl's tests read: the wire. */
static const char *const wire_names[] = { STAT_WIRE_NAMES };

static const struct ctl_stat_rec *find_stat(const struct ctl_stat_rec *recs, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(recs[i].name, name))
			return &recs[i];
	}
	ck_abort_msg("no statistic %s", name);
	return NULL;
}

START_TEST(test_stats_names_in_wire_order)
{
	struct ctlreply_view v;
	struct ctl_stat_rec recs[CTLREPLY_NSTATS];
	size_t n;

	memset(&v, 0, sizeof(v));
	n = ctlreply_stats(&v, recs);
	ck_assert_uint_eq(n, CTLREPLY_NSTATS);
	ck_assert_uint_eq(n, sizeof(wire_names) / sizeof(wire_names[0]));
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(recs[i].name, wire_names[i]);
		ck_assert_uint_eq(recs[i].value, 0);
		/* NUL-terminated, zero-padded: nothing of the stack goes on the wire */
		for (size_t k = strlen(recs[i].name); k < CTL_STAT_NAME_LEN; k++)
			ck_assert_int_eq(recs[i].name[k], 0);
	}
}
END_TEST

START_TEST(test_stats_values)
{
	struct ctlreply_view v;
	struct ctl_stat_rec recs[CTLREPLY_NSTATS];
	size_t n;

	memset(&v, 0, sizeof(v));
	v.stats.out_pkts = 11;
	v.stats.in_bytes = 12;
	v.stats.out_accepted = 13;
	v.stats.drops[DROP_OUT_MALFORMED] = 21;
	v.stats.drops[DROP_RELAY_NOT_INTERNAL] = 22;
	v.stats.assoc_created = 31;
	v.stats.assoc_relearned = 32;
	v.stats.nfq_waiting = 33;
	v.stats.nfq_user_dropped = 34;
	v.stats.relay_ingested = 35;
	v.associations_active = 41;
	v.associations_capacity = 42;
	v.control_refused = 43;
	v.workers = 4;
	v.uptime_seconds = 3600;
	n = ctlreply_stats(&v, recs);
	ck_assert_uint_eq(find_stat(recs, n, "out_packets")->value, 11);
	ck_assert_uint_eq(find_stat(recs, n, "in_bytes")->value, 12);
	ck_assert_uint_eq(find_stat(recs, n, "out_accepted")->value, 13);
	ck_assert_uint_eq(find_stat(recs, n, "drop_out_malformed")->value, 21);
	ck_assert_uint_eq(find_stat(recs, n, "drop_relay_not_internal")->value, 22);
	ck_assert_uint_eq(find_stat(recs, n, "associations_created")->value, 31);
	ck_assert_uint_eq(find_stat(recs, n, "associations_relearned")->value, 32);
	ck_assert_uint_eq(find_stat(recs, n, "queue_waiting")->value, 33);
	ck_assert_uint_eq(find_stat(recs, n, "queue_kernel_dropped_delivery")->value, 34);
	ck_assert_uint_eq(find_stat(recs, n, "relay_ingested")->value, 35);
	ck_assert_uint_eq(find_stat(recs, n, "associations_active")->value, 41);
	ck_assert_uint_eq(find_stat(recs, n, "associations_capacity")->value, 42);
	ck_assert_uint_eq(find_stat(recs, n, "control_refused")->value, 43);
	ck_assert_uint_eq(find_stat(recs, n, "workers")->value, 4);
	ck_assert_uint_eq(find_stat(recs, n, "uptime_seconds")->value, 3600);
	ck_assert_uint_eq(find_stat(recs, n, "in_packets")->value, 0);
}
END_TEST

/* Every counter of struct gw_stats reaches exactly one record: a distinct value in each
 * uint64_t (rule hits aside) comes out once. */
START_TEST(test_stats_every_counter_once)
{
	struct ctlreply_view v;
	struct ctl_stat_rec recs[CTLREPLY_NSTATS];
	uint64_t *words = (uint64_t *)&v.stats;
	size_t nwords = (sizeof(v.stats) - sizeof(v.stats.rule_hits)) / sizeof(uint64_t);
	size_t n;

	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < nwords; i++)
		words[i] = 1000 + i;
	n = ctlreply_stats(&v, recs);
	for (size_t i = 0; i < nwords; i++) {
		unsigned seen = 0;

		for (size_t k = 0; k < n; k++)
			seen += recs[k].value == 1000 + i;
		ck_assert_msg(seen == 1, "counter %zu of struct gw_stats in %u records", i, seen);
	}
}
END_TEST

static const char rules_conf[] = "internal 10.10.1.0/24\n"
				 "internal fd00:10::/64\n"
				 "encapsulate to 192.0.2.0/24 port 7 remote-udp-port 9900\n"
				 "encapsulate to any\n"
				 "forward port 9 to 10.10.1.3 port 19\n"
				 "relay port 5000 to 198.51.100.7 port 5001 remote-udp-port 9901\n";

START_TEST(test_rules)
{
	struct ctlreply_view v;
	struct ctl_rule_rec r;

	memset(&v, 0, sizeof(v));
	v.conf = parse(rules_conf);
	v.stats.rule_hits.encap[0] = 3;
	v.stats.rule_hits.encap[1] = 4;
	v.stats.rule_hits.forward[0] = 5;
	v.stats.rule_hits.relay[0] = 6;

	ck_assert(ctlreply_rule(&v, 0, &r));
	ck_assert_int_eq(r.kind, CTL_RULE_INTERNAL);
	ck_ctl_addr(&r.addr, "10.10.1.0");
	ck_assert_int_eq(r.prefix_len, 24);
	ck_assert_uint_eq(r.line, 0);
	ck_assert_uint_eq(r.hits, 0);

	ck_assert(ctlreply_rule(&v, 1, &r));
	ck_assert_int_eq(r.kind, CTL_RULE_INTERNAL);
	ck_ctl_addr(&r.addr, "fd00:10::");
	ck_assert_int_eq(r.prefix_len, 64);

	ck_assert(ctlreply_rule(&v, 2, &r));
	ck_assert_int_eq(r.kind, CTL_RULE_ENCAPSULATE);
	ck_assert_int_eq(r.any, 0);
	ck_ctl_addr(&r.addr, "192.0.2.0");
	ck_assert_int_eq(r.prefix_len, 24);
	ck_assert_uint_eq(r.port, 7);
	ck_assert_uint_eq(r.remote_udp_port, 9900);
	ck_assert_uint_eq(r.line, 3);
	ck_assert_uint_eq(r.hits, 3);

	ck_assert(ctlreply_rule(&v, 3, &r));
	ck_assert_int_eq(r.kind, CTL_RULE_ENCAPSULATE);
	ck_assert_int_eq(r.any, 1);
	ck_assert_int_eq(r.addr.family, 0);
	ck_assert_int_eq(r.prefix_len, 0);
	ck_assert_uint_eq(r.port, 0);
	ck_assert_uint_eq(r.line, 4);
	ck_assert_uint_eq(r.hits, 4);

	ck_assert(ctlreply_rule(&v, 4, &r));
	ck_assert_int_eq(r.kind, CTL_RULE_FORWARD);
	ck_ctl_addr(&r.addr, "10.10.1.3");
	ck_assert_uint_eq(r.port, 9);
	ck_assert_uint_eq(r.to_port, 19);
	ck_assert_uint_eq(r.line, 5);
	ck_assert_uint_eq(r.hits, 5);

	ck_assert(ctlreply_rule(&v, 5, &r));
	ck_assert_int_eq(r.kind, CTL_RULE_RELAY);
	ck_ctl_addr(&r.addr, "198.51.100.7");
	ck_assert_uint_eq(r.port, 5000);
	ck_assert_uint_eq(r.to_port, 5001);
	ck_assert_uint_eq(r.remote_udp_port, 9901);
	ck_assert_uint_eq(r.line, 6);
	ck_assert_uint_eq(r.hits, 6);

	ck_assert(!ctlreply_rule(&v, 6, &r));
	ck_assert(!ctlreply_rule(&v, 1000, &r));
	free((void *)v.conf);
}
END_TEST

/* Kinds with no rule are skipped: a relay-only gateway's first record is its relay. */
START_TEST(test_rules_missing_kinds)
{
	struct ctlreply_view v;
	struct ctl_rule_rec r;

	memset(&v, 0, sizeof(v));
	v.conf = parse("# relay only\nrelay port 5000 to 198.51.100.7\n");
	ck_assert(ctlreply_rule(&v, 0, &r));
	ck_assert_int_eq(r.kind, CTL_RULE_RELAY);
	ck_assert_uint_eq(r.to_port, 5000);
	ck_assert_uint_eq(r.remote_udp_port, 9899);
	ck_assert_uint_eq(r.line, 2);
	ck_assert(!ctlreply_rule(&v, 1, &r));
	free((void *)v.conf);
}
END_TEST

START_TEST(test_rules_hdr)
{
	struct ctlreply_view v;
	struct ctl_rules_hdr h;

	memset(&v, 0, sizeof(v));
	v.conf = parse("internal 10.10.1.0/24\nencapsulate to any\nqueue 8-11\n"
		       "mark 0x10\nhost-mode yes\n");
	v.queue_mechanism = "xt NFQUEUE (nft_compat)";
	v.relay_ingest = CONF_INGEST_QUEUE;
	memset(&h, 0xa5, sizeof(h));
	ctlreply_rules_hdr(&v, &h);
	ck_assert_str_eq(h.queue_mechanism, "xt NFQUEUE (nft_compat)");
	ck_assert_uint_eq(h.queue_num, 8);
	ck_assert_uint_eq(h.queue_count, 4);
	ck_assert_uint_eq(h.mark, 0x10);
	ck_assert_uint_eq(h.host_mode, 1);
	ck_assert_uint_eq(h.relay_ingest, CONF_INGEST_QUEUE);
	for (size_t i = 0; i < sizeof(h.pad) / sizeof(h.pad[0]); i++)
		ck_assert_uint_eq(h.pad[i], 0);
	free((void *)v.conf);
}
END_TEST

START_TEST(test_assoc)
{
	struct assoc a;
	struct ctl_assoc_rec r;

	memset(&a, 0, sizeof(a));
	a.id = 7;
	a.state = ASSOC_ESTABLISHED;
	a.origin = ASSOC_FROM_OUTSIDE;
	a.iaddr = addr("10.10.1.2");
	a.iport = 5000;
	a.seen_port = 5001;
	a.rport = 7;
	a.itag = 0x11111111;
	a.rtag = 0x22222222;
	a.created_ms = 1000;
	a.last_ms = 9000;
	a.pkts_out = 1;
	a.bytes_out = 2;
	a.pkts_in = 3;
	a.bytes_in = 4;
	a.npaths = 2;
	a.paths[0] = (struct assoc_path){ .addr = addr("192.0.2.1"),
					  .udp_port = 9899,
					  .last_seen_ms = 9500,
					  .pkts_in = 5,
					  .pkts_out = 6 };
	a.paths[1] = (struct assoc_path){ .addr = addr("2001:db8::1"), .udp_port = 9898 };

	ctlreply_assoc(&r, &a, 10000);
	ck_assert_uint_eq(r.id, 7);
	ck_assert_uint_eq(r.state, ASSOC_ESTABLISHED);
	ck_assert_uint_eq(r.origin, ASSOC_FROM_OUTSIDE);
	ck_ctl_addr(&r.iaddr, "10.10.1.2");
	ck_assert_uint_eq(r.iport, 5000);
	ck_assert_uint_eq(r.seen_port, 5001);
	ck_assert_uint_eq(r.rport, 7);
	ck_assert_uint_eq(r.itag, 0x11111111);
	ck_assert_uint_eq(r.rtag, 0x22222222);
	ck_assert_uint_eq(r.age_ms, 9000);
	ck_assert_uint_eq(r.idle_ms, 1000);
	ck_assert_uint_eq(r.pkts_out, 1);
	ck_assert_uint_eq(r.bytes_out, 2);
	ck_assert_uint_eq(r.pkts_in, 3);
	ck_assert_uint_eq(r.bytes_in, 4);
	ck_assert_uint_eq(r.npaths, 2);
	ck_ctl_addr(&r.paths[0].addr, "192.0.2.1");
	ck_assert_uint_eq(r.paths[0].udp_port, 9899);
	ck_assert_uint_eq(r.paths[0].idle_ms, 500);
	ck_assert_uint_eq(r.paths[0].pkts_in, 5);
	ck_assert_uint_eq(r.paths[0].pkts_out, 6);
	ck_ctl_addr(&r.paths[1].addr, "2001:db8::1");
	ck_assert_uint_eq(r.paths[1].idle_ms, UINT64_MAX); /* never heard from */
	ck_assert_int_eq(r.paths[2].addr.family, 0);
	ck_assert_uint_eq(r.relay_port, 0);
	ck_assert_int_eq(r.relay_addr.family, 0);
}
END_TEST

START_TEST(test_assoc_relay_and_clock)
{
	struct assoc a;
	struct ctl_assoc_rec r;

	memset(&a, 0, sizeof(a));
	a.id = 9;
	a.relay_addr = addr("10.10.1.1");
	a.relay_port = 5000;
	a.created_ms = 2000;
	a.last_ms = 3000;
	a.npaths = 200;               /* more than there is room for: capped */
	ctlreply_assoc(&r, &a, 1000); /* a clock behind the association: 0, not a wrap */
	ck_assert_uint_eq(r.age_ms, 0);
	ck_assert_uint_eq(r.idle_ms, 0);
	ck_assert_uint_eq(r.npaths, ASSOC_MAX_PATHS);
	ck_ctl_addr(&r.relay_addr, "10.10.1.1");
	ck_assert_uint_eq(r.relay_port, 5000);
}
END_TEST

START_TEST(test_config_is_the_dump)
{
	struct gw_conf *c = parse(rules_conf);
	char *want = NULL, *text;
	size_t wantlen = 0, len = 0;
	FILE *f = open_memstream(&want, &wantlen);

	ck_assert_ptr_nonnull(f);
	conf_dump(c, f);
	ck_assert_int_eq(fclose(f), 0);
	text = ctlreply_config(c, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, wantlen);
	ck_assert_int_eq(memcmp(text, want, len), 0);
	ck_assert_ptr_nonnull(strstr(want, "relay port 5000 to 198.51.100.7"));
	free(text);
	free(want);
	free(c);
}
END_TEST

START_TEST(test_ctl_addr_round_trip)
{
	const char *in[] = { "192.0.2.1", "2001:db8::1", "::", "255.255.255.255" };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct gw_addr a = addr(in[i]), back;
		struct ctl_addr c;

		memset(&c, 0xa5, sizeof(c));
		ctl_addr_from_gw_addr(&c, &a);
		ck_assert_int_eq(c.pad[0] | c.pad[1] | c.pad[2], 0);
		memset(&back, 0xa5, sizeof(back));
		ctl_addr_to_gw_addr(&back, &c);
		ck_assert(addr_equal(&a, &back));
		ck_assert_int_eq(back.pad[0] | back.pad[1] | back.pad[2], 0);
	}
}
END_TEST

static Suite *ctlreply_suite(void)
{
	Suite *s = suite_create("ctlreply");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_stats_names_in_wire_order);
	tcase_add_test(tc, test_stats_values);
	tcase_add_test(tc, test_stats_every_counter_once);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_rules_missing_kinds);
	tcase_add_test(tc, test_rules_hdr);
	tcase_add_test(tc, test_assoc);
	tcase_add_test(tc, test_assoc_relay_and_clock);
	tcase_add_test(tc, test_config_is_the_dump);
	tcase_add_test(tc, test_ctl_addr_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctlreply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
