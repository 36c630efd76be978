/* test_nfq_kstats.c - parsing /proc/net/netfilter/nfnetlink_queue: the right queue among
 * several, a queue that is not listed, and lines that must not be trusted. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfq.h"

/* The kernel's own layout ("%5u %6u %5u %1u %5u %5u %5u %8u %2d"): queue_number
 * peer_portid queue_total copy_mode copy_range queue_dropped user_dropped id_sequence 1. */
static const char three_queues[] =
	"    0 123456     0 2 65531     0     0        0  1\n"
	"    5 4001234    17 2 65535    42     7   100000  1\n"
	"65535 987654321 4294967295 2 65535 4294967294     3 4294967295  1\n";

/* A canary: a failed parse must not touch the caller's struct. */
static void fill_canary(struct nfqueue_kstats *ks)
{
	memset(ks, 0xa5, sizeof(*ks));
}

static void check_canary(const struct nfqueue_kstats *ks)
{
	struct nfqueue_kstats c;

	fill_canary(&c);
	ck_assert_mem_eq(ks, &c, sizeof(c));
}

START_TEST(test_picks_the_queue)
{
	struct nfqueue_kstats ks;

	ck_assert_int_eq(nfqueue_parse_kstats(three_queues, 5, &ks), 0);
	ck_assert_uint_eq(ks.peer_portid, 4001234);
	ck_assert_uint_eq(ks.queue_total, 17);
	ck_assert_uint_eq(ks.queue_dropped, 42);
	ck_assert_uint_eq(ks.user_dropped, 7);
	ck_assert_uint_eq(ks.id_sequence, 100000);

	ck_assert_int_eq(nfqueue_parse_kstats(three_queues, 0, &ks), 0);
	ck_assert_uint_eq(ks.peer_portid, 123456);
	ck_assert_uint_eq(ks.queue_total, 0);
	ck_assert_uint_eq(ks.id_sequence, 0);
}
END_TEST

/* 32-bit counters at their maximum, wider than the format's field widths. */
START_TEST(test_full_width_values)
{
	struct nfqueue_kstats ks;

	ck_assert_int_eq(nfqueue_parse_kstats(three_queues, 65535, &ks), 0);
	ck_assert_uint_eq(ks.peer_portid, 987654321);
	ck_assert_uint_eq(ks.queue_total, 4294967295u);
	ck_assert_uint_eq(ks.queue_dropped, 4294967294u);
	ck_assert_uint_eq(ks.user_dropped, 3);
	ck_assert_uint_eq(ks.id_sequence, 4294967295u);
}
END_TEST

START_TEST(test_missing_queue)
{
	struct nfqueue_kstats ks;

	fill_canary(&ks);
	ck_assert_int_eq(nfqueue_parse_kstats(three_queues, 1, &ks), -ENOENT);
	ck_assert_int_eq(nfqueue_parse_kstats(three_queues, 50, &ks), -ENOENT);
	ck_assert_int_eq(nfqueue_parse_kstats("", 0, &ks), -ENOENT);
	ck_assert_int_eq(nfqueue_parse_kstats("\n\n", 0, &ks), -ENOENT);
	check_canary(&ks);
}
END_TEST

/* The last line without its newline is still a line. */
START_TEST(test_no_final_newline)
{
	struct nfqueue_kstats ks;

	ck_assert_int_eq(
		nfqueue_parse_kstats("    0 1 2 2 65535 3 4 5  1\n    9 10 11 2 65535 12 13 14  1",
				     9, &ks),
		0);
	ck_assert_uint_eq(ks.peer_portid, 10);
	ck_assert_uint_eq(ks.queue_total, 11);
	ck_assert_uint_eq(ks.queue_dropped, 12);
	ck_assert_uint_eq(ks.user_dropped, 13);
	ck_assert_uint_eq(ks.id_sequence, 14);
}
END_TEST

/* Each of these names queue 7 but must not be believed; the good line after them must. */
static const char *const malformed[] = {
	"    7 1 2 2 65535 3 4 5\n",                          /* a field short */
	"    7 1 2 2 65535 3 4 5  1  9\n",                    /* a field too many */
	"    7 1 2 2 65535 3 4 5x  1\n",                      /* junk inside a number */
	"    7 1 -2 2 65535 3 4 5  1\n",                      /* negative */
	"    7 1 2 2 65535 3 4 4294967296  1\n",              /* above 32 bits */
	"    7 1 2 2 65535 3 4 99999999999999999999999  1\n", /* strtoull overflow */
	"65543 1 2 2 65535 3 4 5  1\n",   /* 65543 is not queue 7 (no 16-bit cut) */
	"queue 7 1 2 2 65535 3 4 5  1\n", /* a word first */
	"    7,1,2,2,65535,3,4,5,1\n",    /* other separators */
};

START_TEST(test_malformed_lines_skipped)
{
	char text[256];
	struct nfqueue_kstats ks;

	/* alone: nothing found, nothing written */
	fill_canary(&ks);
	ck_assert_int_eq(nfqueue_parse_kstats(malformed[_i], 7, &ks), -ENOENT);
	check_canary(&ks);
	/* followed by the real line: that one wins */
	snprintf(text, sizeof(text), "%s    7 70 71 2 65535 72 73 74  1\n", malformed[_i]);
	ck_assert_int_eq(nfqueue_parse_kstats(text, 7, &ks), 0);
	ck_assert_uint_eq(ks.peer_portid, 70);
	ck_assert_uint_eq(ks.queue_total, 71);
	ck_assert_uint_eq(ks.queue_dropped, 72);
	ck_assert_uint_eq(ks.user_dropped, 73);
	ck_assert_uint_eq(ks.id_sequence, 74);
}
END_TEST

/* A malformed line between good ones does not hide the queue after it. */
START_TEST(test_malformed_between)
{
	struct nfqueue_kstats ks;

	ck_assert_int_eq(nfqueue_parse_kstats("    1 1 1 2 65535 1 1 1  1\n"
					      "garbage\n"
					      "    2 2 2 2 65535 2 2 2  1\n",
					      2, &ks),
			 0);
	ck_assert_uint_eq(ks.id_sequence, 2);
}
END_TEST

/* Against the running kernel: a queue nobody binds is not listed, whether or not
 * nfnetlink_queue is loaded (the file is root-only: EACCES for other users). */
START_TEST(test_kernel_unbound_queue)
{
	struct nfqueue_kstats ks;
	int rc;

	fill_canary(&ks);
	rc = nfqueue_kernel_stats(65534, &ks);
	ck_assert_msg(rc == -ENOENT || rc == -EACCES, "rc %d", rc);
	check_canary(&ks);
}
END_TEST

static Suite *nfq_kstats_suite(void)
{
	Suite *s = suite_create("nfq_kstats");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_picks_the_queue);
	tcase_add_test(tc, test_full_width_values);
	tcase_add_test(tc, test_missing_queue);
	tcase_add_test(tc, test_no_final_newline);
	tcase_add_loop_test(tc, test_malformed_lines_skipped, 0,
			    (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, test_malformed_between);
	tcase_add_test(tc, test_kernel_unbound_queue);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nfq_kstats_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
