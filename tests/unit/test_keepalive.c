/* test_keepalive.c - the gateway's HEARTBEATs, the check of their answers (MAC, age,
 * bundling, the host's own heartbeats left alone), SipHash against its published test
 * vectors, and the addresses an INIT lists. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "keepalive.h"
#include "pkt.h"
#include "pktgen.h"

static const struct ka_key key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
static const struct ka_binding kb = {
	.assoc_id = 7,
	.src_port = 5000,
	.dst_port = 7,
	.vtag = 0xaabbccdd,
};

static struct gw_addr addr(const char *s)
{
	struct gw_addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

START_TEST(test_siphash_vectors)
{
	uint8_t m[64];

	for (unsigned i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	/* SipHash-2-4 reference vectors (Aumasson and Bernstein), key 00..0f. */
	ck_assert_uint_eq(ka_siphash(&key, m, 0), 0x726fdb47dd0e0e31ULL);
	ck_assert_uint_eq(ka_siphash(&key, m, 1), 0x74f839c593dc67fdULL);
	ck_assert_uint_eq(ka_siphash(&key, m, 8), 0x93f5f5799a932462ULL);
	ck_assert_uint_eq(ka_siphash(&key, m, 15), 0xa129ca6149be45e5ULL);
	ck_assert_uint_eq(ka_siphash(&key, m, 63), 0x958a324ceb064572ULL);
}
END_TEST

/* Our HEARTBEAT turned into the peer's answer: ports swapped, the host's tag, chunk 5,
 * the information echoed unchanged. */
static size_t answer(uint8_t *hb, size_t len, uint32_t itag)
{
	uint16_t sp = (uint16_t)(hb[0] << 8 | hb[1]);

	memmove(hb, hb + 2, 2);
	hb[2] = (uint8_t)(sp >> 8);
	hb[3] = (uint8_t)sp;
	hb[4] = (uint8_t)(itag >> 24);
	hb[5] = (uint8_t)(itag >> 16);
	hb[6] = (uint8_t)(itag >> 8);
	hb[7] = (uint8_t)itag;
	hb[12] = SCTP_CT_HEARTBEAT_ACK;
	pktgen_sctp_fix_crc(hb, len);
	return len;
}

START_TEST(test_heartbeat_is_valid_sctp)
{
	struct gw_addr to = addr("203.0.113.2");
	uint8_t b[128];
	struct pkt_sctp s;
	size_t n = ka_build_heartbeat(b, sizeof(b), &key, &kb, &to, 1000);

	ck_assert_uint_eq(n, KA_HEARTBEAT_LEN);
	ck_assert_int_eq(pkt_parse_sctp(b, n, &s), PKT_OK);
	ck_assert(pkt_sctp_checksum_ok(b, n));
	ck_assert_uint_eq(s.src_port, 5000);
	ck_assert_uint_eq(s.dst_port, 7);
	ck_assert_uint_eq(s.vtag, 0xaabbccdd);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_HEARTBEAT);
	ck_assert_uint_eq(s.nchunks, 1);
	ck_assert_uint_eq(ka_build_heartbeat(b, KA_HEARTBEAT_LEN - 1, &key, &kb, &to, 1), 0);
}
END_TEST

START_TEST(test_answer_absorbed)
{
	struct gw_addr to = addr("203.0.113.2");
	uint8_t b[128];
	struct ka_ack ack;
	unsigned left = 9;
	size_t n = ka_build_heartbeat(b, sizeof(b), &key, &kb, &to, 1000);

	n = answer(b, n, 0x11223344);
	ck_assert_uint_eq(ka_absorb_acks(b, &n, &key, &kb, 1500, 60000, &ack, 1, &left), 1);
	ck_assert_uint_eq(left, 0);
	ck_assert_uint_eq(n, SCTP_COMMON_HDR_LEN);
	ck_assert_int_eq(ack.result, KA_ACK_VALID);
	ck_assert_uint_eq(ack.sent_ms, 1000);
	ck_assert_uint_eq(ack.addr_hash, addr_hash(&to, 0));
}
END_TEST

START_TEST(test_forged_and_stale)
{
	struct gw_addr to = addr("2001:db8::2");
	struct ka_key other = { 1, 2 };
	struct ka_binding b2 = kb;
	uint8_t b[128], copy[128];
	struct ka_ack ack;
	unsigned left;
	size_t n = answer(b, ka_build_heartbeat(b, sizeof(b), &key, &kb, &to, 5000), 1), m;

	memcpy(copy, b, n);
	/* A bit of the MAC */
	b[n - 1] ^= 1;
	m = n;
	ck_assert_uint_eq(ka_absorb_acks(b, &m, &key, &kb, 5000, 60000, &ack, 1, &left), 1);
	ck_assert_int_eq(ack.result, KA_ACK_FORGED);
	/* A bit of the time: the MAC covers it */
	memcpy(b, copy, n);
	b[12 + 8 + 16 + 7] ^= 1;
	m = n;
	ka_absorb_acks(b, &m, &key, &kb, 5000, 60000, &ack, 1, &left);
	ck_assert_int_eq(ack.result, KA_ACK_FORGED);
	/* Another key, another association */
	memcpy(b, copy, n);
	m = n;
	ka_absorb_acks(b, &m, &other, &kb, 5000, 60000, &ack, 1, &left);
	ck_assert_int_eq(ack.result, KA_ACK_FORGED);
	b2.assoc_id = 8;
	memcpy(b, copy, n);
	m = n;
	ka_absorb_acks(b, &m, &key, &b2, 5000, 60000, &ack, 1, &left);
	ck_assert_int_eq(ack.result, KA_ACK_FORGED);
	b2 = kb;
	b2.vtag ^= 1;
	memcpy(b, copy, n);
	m = n;
	ka_absorb_acks(b, &m, &key, &b2, 5000, 60000, &ack, 1, &left);
	ck_assert_int_eq(ack.result, KA_ACK_FORGED);
	/* Too old, and from the future */
	memcpy(b, copy, n);
	m = n;
	ka_absorb_acks(b, &m, &key, &kb, 5000 + 60001, 60000, &ack, 1, &left);
	ck_assert_int_eq(ack.result, KA_ACK_STALE);
	memcpy(b, copy, n);
	m = n;
	ka_absorb_acks(b, &m, &key, &kb, 4999, 60000, &ack, 1, &left);
	ck_assert_int_eq(ack.result, KA_ACK_STALE);
	/* Exactly max_age old is still fresh */
	memcpy(b, copy, n);
	m = n;
	ka_absorb_acks(b, &m, &key, &kb, 65000, 60000, &ack, 1, &left);
	ck_assert_int_eq(ack.result, KA_ACK_VALID);
}
END_TEST

/* Our answer bundled ahead of a SACK and after a DATA chunk: only ours goes. */
START_TEST(test_bundled_answer)
{
	struct gw_addr to = addr("203.0.113.2");
	uint8_t hb[128], b[PKTGEN_MAX], info[KA_INFO_LEN];
	struct pkt_sctp s;
	struct ka_ack ack;
	unsigned left;
	size_t n = answer(hb, ka_build_heartbeat(hb, sizeof(hb), &key, &kb, &to, 10), 1);

	memcpy(info, hb + 12 + 8, KA_INFO_LEN);
	{
		struct pktgen_chunk c[3] = {
			pktgen_data(1, 0, 0, 0, "abc", 3),
			pktgen_heartbeat_ack(info, sizeof(info)),
			pktgen_sack(5, 1000),
		};
		n = pktgen_sctp(b, sizeof(b), 7, 5000, 1, c, 3);
	}
	ck_assert_uint_eq(ka_absorb_acks(b, &n, &key, &kb, 20, 60000, &ack, 1, &left), 1);
	ck_assert_int_eq(ack.result, KA_ACK_VALID);
	ck_assert_uint_eq(left, 2);
	pkt_sctp_set_checksum(b, n);
	ck_assert_int_eq(pkt_parse_sctp(b, n, &s), PKT_OK);
	ck_assert_uint_eq(s.nchunks, 2);
	ck_assert(pkt_has_chunk(&s, SCTP_CT_DATA));
	ck_assert(pkt_has_chunk(&s, SCTP_CT_SACK));
	ck_assert(!pkt_has_chunk(&s, SCTP_CT_HEARTBEAT_ACK));
}
END_TEST

/* The internal host's own heartbeat answers are not ours, whatever their content. */
START_TEST(test_hosts_answers_left_alone)
{
	uint8_t b[PKTGEN_MAX], info[KA_INFO_LEN], longer[KA_INFO_LEN + 4];
	struct ka_ack ack;
	unsigned left;
	size_t n, before;

	memset(info, 0x5a, sizeof(info));
	{
		struct pktgen_chunk c[1] = { pktgen_heartbeat_ack(info, sizeof(info)) };
		before = n = pktgen_sctp(b, sizeof(b), 7, 5000, 1, c, 1);
	}
	ck_assert_uint_eq(ka_absorb_acks(b, &n, &key, &kb, 20, 60000, &ack, 1, &left), 0);
	ck_assert_uint_eq(n, before);
	ck_assert_uint_eq(left, 1);
	/* our magic, another length: ours, and forged (it must not reach the host) */
	memcpy(longer, "sctpgwKA", 8);
	{
		struct pktgen_chunk c[1] = { pktgen_heartbeat_ack(longer, sizeof(longer)) };
		before = n = pktgen_sctp(b, sizeof(b), 7, 5000, 1, c, 1);
	}
	ck_assert_uint_eq(ka_absorb_acks(b, &n, &key, &kb, 20, 60000, &ack, 1, &left), 1);
	ck_assert_int_eq(ack.result, KA_ACK_FORGED);
	ck_assert_uint_eq(n, SCTP_COMMON_HDR_LEN);
	/* our magic right after the parameter header of another type: forged too */
	{
		struct pktgen_chunk c[1] = { pktgen_raw(SCTP_CT_HEARTBEAT_ACK, 0,
							"\0\x02\0\x24sctpgwKA................"
							"........",
							36) };
		n = pktgen_sctp(b, sizeof(b), 7, 5000, 1, c, 1);
	}
	ck_assert_uint_eq(ka_absorb_acks(b, &n, &key, &kb, 20, 60000, &ack, 1, &left), 1);
	ck_assert_int_eq(ack.result, KA_ACK_FORGED);
	/* a HEARTBEAT (not an answer) with our information: the peer's to the host */
	{
		uint8_t hb[128];
		struct gw_addr to = addr("203.0.113.2");

		n = ka_build_heartbeat(hb, sizeof(hb), &key, &kb, &to, 10);
		ck_assert_uint_eq(ka_absorb_acks(hb, &n, &key, &kb, 20, 60000, &ack, 1, &left), 0);
	}
}
END_TEST

/* Two of our answers in one packet: both go; the second is judged only with room. */
START_TEST(test_two_answers)
{
	struct gw_addr to = addr("203.0.113.2");
	uint8_t hb[128], b[PKTGEN_MAX], info[KA_INFO_LEN];
	struct ka_ack ack[1];
	unsigned left;
	size_t n = answer(hb, ka_build_heartbeat(hb, sizeof(hb), &key, &kb, &to, 10), 1);

	memcpy(info, hb + 12 + 8, KA_INFO_LEN);
	{
		struct pktgen_chunk c[2] = {
			pktgen_heartbeat_ack(info, sizeof(info)),
			pktgen_heartbeat_ack(info, sizeof(info)),
		};
		n = pktgen_sctp(b, sizeof(b), 7, 5000, 1, c, 2);
	}
	ck_assert_uint_eq(ka_absorb_acks(b, &n, &key, &kb, 20, 60000, ack, 1, &left), 2);
	ck_assert_uint_eq(left, 0);
	ck_assert_uint_eq(n, SCTP_COMMON_HDR_LEN);
}
END_TEST

/* Truncated and garbled packets: never a read past the end (ASan), never a crash. */
START_TEST(test_truncated)
{
	struct gw_addr to = addr("203.0.113.2");
	uint8_t hb[128];
	struct ka_ack ack;
	unsigned left;
	size_t full = answer(hb, ka_build_heartbeat(hb, sizeof(hb), &key, &kb, &to, 10), 1);

	for (size_t cut = 0; cut <= full; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);
		size_t n = cut;

		memcpy(p, hb, cut);
		ka_absorb_acks(p, &n, &key, &kb, 20, 60000, &ack, 1, &left);
		ck_assert_uint_le(n, cut);
		free(p);
	}
}
END_TEST

START_TEST(test_init_addrs)
{
	static const char *const addrs[] = { "10.0.0.5", "fd00::5", "192.168.1.1" };
	struct pktgen_chunk c[1] = { pktgen_init(0x1234, 65536, 10, 10, 1, addrs, 3) };
	uint8_t b[PKTGEN_MAX];
	struct gw_addr out[4], want;
	struct pkt_sctp s;
	size_t n;

	/* a parameter of a wrong length is no address */
	pktgen_add_param(&c[0], SCTP_PARAM_IPV4, "\1\2\3", 3);
	n = pktgen_sctp(b, sizeof(b), 5000, 7, 0, c, 1);
	ck_assert_int_eq(pkt_parse_sctp(b, n, &s), PKT_OK);
	ck_assert_uint_eq(pkt_sctp_init_addrs(b, &s, out, 4), 3);
	want = addr("10.0.0.5");
	ck_assert(addr_equal(&out[0], &want));
	want = addr("fd00::5");
	ck_assert(addr_equal(&out[1], &want));
	want = addr("192.168.1.1");
	ck_assert(addr_equal(&out[2], &want));
	ck_assert_uint_eq(pkt_sctp_init_addrs(b, &s, out, 2), 2);
	{
		struct pktgen_chunk d[1] = { pktgen_sack(1, 1) };

		n = pktgen_sctp(b, sizeof(b), 5000, 7, 9, d, 1);
		ck_assert_int_eq(pkt_parse_sctp(b, n, &s), PKT_OK);
		ck_assert_uint_eq(pkt_sctp_init_addrs(b, &s, out, 4), 0);
	}
}
END_TEST

/* Which paths get a HEARTBEAT when: idle outward for the interval, established only,
 * every path of an association in one call, the cursor resuming where it stopped. */
START_TEST(test_collect)
{
	struct assoc_table *t = assoc_table_new(64);
	struct gw_addr in = addr("10.0.0.2"), r1 = addr("203.0.113.2"), r2 = addr("203.0.113.3");
	struct ka_send out[8];
	struct assoc *a, *b, *c, *cur = NULL;
	bool done = false;
	unsigned n, total = 0;

	ck_assert_ptr_nonnull(t);
	a = assoc_create(t, &in, 5000, 5000, 7, 0x11, 0x22, ASSOC_FROM_INSIDE, 1000);
	assoc_path_get(a, &r1, 9899);
	assoc_path_get(a, &r2, 9899);
	a->state = ASSOC_ESTABLISHED;
	a->ka_interval_s = 15;
	b = assoc_create(t, &in, 5001, 5001, 7, 0x33, 0x44, ASSOC_FROM_INSIDE, 1000);
	assoc_path_get(b, &r1, 9899);
	b->state = ASSOC_COOKIE; /* not yet established: none */
	b->ka_interval_s = 15;
	c = assoc_create(t, &in, 5002, 5002, 7, 0x55, 0x66, ASSOC_FROM_INSIDE, 1000);
	assoc_path_get(c, &r1, 9899);
	c->state = ASSOC_ESTABLISHED; /* keepalive off */

	ck_assert_uint_eq(ka_collect(t, &key, 15999, &cur, &done, out, 8), 0);
	ck_assert(done);
	a->paths[1].last_out_ms = 10000; /* r2 carried something later */
	cur = NULL;
	n = ka_collect(t, &key, 16000, &cur, &done, out, 8);
	ck_assert(done);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(out[0].assoc, a);
	ck_assert_ptr_eq(out[0].path, &a->paths[0]);
	ck_assert_uint_eq(out[0].len, KA_HEARTBEAT_LEN);
	ck_assert_uint_eq(a->paths[0].last_out_ms, 16000);
	ck_assert_uint_eq(a->paths[0].ka_sent, 1);
	{
		struct pkt_sctp s;

		ck_assert_int_eq(pkt_parse_sctp(out[0].pkt, out[0].len, &s), PKT_OK);
		ck_assert_uint_eq(s.vtag, 0x22); /* the peer's tag */
		ck_assert_uint_eq(s.src_port, 5000);
		ck_assert_uint_eq(s.dst_port, 7);
	}
	cur = NULL;
	ck_assert_uint_eq(ka_collect(t, &key, 16000, &cur, &done, out, 8), 0);
	cur = NULL;
	n = ka_collect(t, &key, 25000, &cur, &done, out, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(out[0].path, &a->paths[1]);
	/* Many associations, a small batch: the cursor resumes, nothing twice or lost. */
	for (unsigned i = 0; i < 20; i++) {
		struct assoc *x = assoc_create(t, &in, (uint16_t)(6000 + i), (uint16_t)(6000 + i),
					       7, 100 + i, 200 + i, ASSOC_FROM_INSIDE, 1000);

		assoc_path_get(x, &r1, 9899);
		assoc_path_get(x, &r2, 9899);
		x->state = ASSOC_ESTABLISHED;
		x->ka_interval_s = 1;
	}
	cur = NULL;
	do {
		n = ka_collect(t, &key, 50000, &cur, &done, out, 5);
		ck_assert_uint_le(n, 5);
		for (unsigned i = 0; i + 1 < n; i += 2)
			ck_assert_ptr_eq(out[i].assoc, out[i + 1].assoc);
		total += n;
	} while (!done);
	ck_assert_uint_eq(total, 42); /* 20 x 2 paths, and a's two */
	assoc_table_free(t);
}
END_TEST

/* The answer's address hash names the path it was sent on. */
START_TEST(test_answer_path)
{
	struct assoc_table *t = assoc_table_new(4);
	struct gw_addr in = addr("10.0.0.2"), r1 = addr("203.0.113.2"), r2 = addr("2001:db8::3");
	struct assoc *a = assoc_create(t, &in, 5000, 5000, 7, 0x11, 0x22, ASSOC_FROM_INSIDE, 1);

	assoc_path_get(a, &r1, 9899);
	assoc_path_get(a, &r2, 9899);
	ck_assert_ptr_eq(ka_answer_path(a, addr_hash(&r2, 0)), &a->paths[1]);
	ck_assert_ptr_eq(ka_answer_path(a, addr_hash(&r1, 0)), &a->paths[0]);
	ck_assert_ptr_null(ka_answer_path(a, addr_hash(&in, 0)));
	assoc_table_free(t);
}
END_TEST

static Suite *keepalive_suite(void)
{
	Suite *s = suite_create("keepalive");
	TCase *t = tcase_create("keepalive");

	tcase_add_test(t, test_siphash_vectors);
	tcase_add_test(t, test_heartbeat_is_valid_sctp);
	tcase_add_test(t, test_answer_absorbed);
	tcase_add_test(t, test_forged_and_stale);
	tcase_add_test(t, test_bundled_answer);
	tcase_add_test(t, test_hosts_answers_left_alone);
	tcase_add_test(t, test_two_answers);
	tcase_add_test(t, test_truncated);
	tcase_add_test(t, test_init_addrs);
	tcase_add_test(t, test_collect);
	tcase_add_test(t, test_answer_path);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(keepalive_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
