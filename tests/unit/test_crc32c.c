/* test_crc32c.c - CRC32c against published vectors, and the SSE4.2 path against the
 * tables on every length and alignment. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"

/* A fixed generator: failures reproduce run to run. */
static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Check all three entry points (hw only when present) give want on buf. */
static void check_all(const void *buf, size_t len, uint32_t want)
{
	ck_assert_uint_eq(crc32c_portable(0, buf, len), want);
	ck_assert_uint_eq(crc32c(0, buf, len), want);
	if (crc32c_hw_available())
		ck_assert_uint_eq(crc32c_hw(0, buf, len), want);
}

START_TEST(test_check_string)
{
	check_all("123456789", 9, 0xE3069283u);
}
END_TEST

/* RFC 3720 appendix B.4. */
START_TEST(test_rfc3720_zeros)
{
	uint8_t b[32];

	memset(b, 0, sizeof(b));
	check_all(b, sizeof(b), 0x8A9136AAu);
}
END_TEST

START_TEST(test_rfc3720_ones)
{
	uint8_t b[32];

	memset(b, 0xff, sizeof(b));
	check_all(b, sizeof(b), 0x62A8AB43u);
}
END_TEST

START_TEST(test_rfc3720_incrementing)
{
	uint8_t b[32];

	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	check_all(b, sizeof(b), 0x46DD794Eu);
}
END_TEST

START_TEST(test_rfc3720_decrementing)
{
	uint8_t b[32];

	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(31 - i);
	check_all(b, sizeof(b), 0x113FDB5Cu);
}
END_TEST

START_TEST(test_rfc3720_iscsi_read)
{
	/* The SCSI Read (10) command PDU of the same appendix. */
	static const uint8_t pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	check_all(pdu, sizeof(pdu), 0xD9963A56u);
}
END_TEST

START_TEST(test_empty)
{
	/* No bytes leave the running value alone, whatever it is. */
	check_all("", 0, 0);
	check_all(NULL, 0, 0);
	ck_assert_uint_eq(crc32c(0x12345678u, "", 0), 0x12345678u);
	ck_assert_uint_eq(crc32c_portable(0xE3069283u, NULL, 0), 0xE3069283u);
	if (crc32c_hw_available())
		ck_assert_uint_eq(crc32c_hw(0xdeadbeefu, "", 0), 0xdeadbeefu);
}
END_TEST

START_TEST(test_chaining)
{
	uint8_t b[300];
	uint32_t seed = 0x9e3779b9u, whole;

	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)rng_next(&seed);
	whole = crc32c_portable(0, b, sizeof(b));
	for (size_t split = 0; split <= sizeof(b); split++) {
		uint32_t a = crc32c(0, b, split);

		ck_assert_uint_eq(crc32c(a, b + split, sizeof(b) - split), whole);
		a = crc32c_portable(0, b, split);
		ck_assert_uint_eq(crc32c_portable(a, b + split, sizeof(b) - split), whole);
		if (crc32c_hw_available()) {
			a = crc32c_hw(0, b, split);
			ck_assert_uint_eq(crc32c_hw(a, b + split, sizeof(b) - split), whole);
		}
	}
	/* "123456789" in three pieces. */
	ck_assert_uint_eq(crc32c(crc32c(crc32c(0, "12", 2), "3456", 4), "789", 3), 0xE3069283u);
}
END_TEST

START_TEST(test_hw_matches_portable)
{
	enum { MAXLEN = 2048, MAXALIGN = 8 };
	uint8_t *mem = malloc(MAXLEN + MAXALIGN);
	uint32_t seed = 12345;

	ck_assert_ptr_nonnull(mem);
	for (size_t i = 0; i < MAXLEN + MAXALIGN; i++)
		mem[i] = (uint8_t)rng_next(&seed);
	if (!crc32c_hw_available()) {
		/* Say so: a silent pass here would hide that the fast path went untested. */
		fprintf(stderr,
			"test_crc32c: SSE4.2 not available, hardware comparison "
			"skipped (crc32c uses %s)\n",
			crc32c_impl_name());
		ck_assert_str_eq(crc32c_impl_name(), "portable");
	}
	for (size_t align = 0; align < MAXALIGN; align++) {
		for (size_t len = 0; len <= MAXLEN; len++) {
			const uint8_t *p = mem + align;
			uint32_t init = rng_next(&seed);
			uint32_t want = crc32c_portable(init, p, len);

			ck_assert_uint_eq(crc32c(init, p, len), want);
			if (crc32c_hw_available())
				ck_assert_uint_eq(crc32c_hw(init, p, len), want);
		}
	}
	free(mem);
}
END_TEST

START_TEST(test_impl_name)
{
	const char *n = crc32c_impl_name();

	ck_assert_str_eq(n, crc32c_hw_available() ? "sse4.2" : "portable");
}
END_TEST

static Suite *crc32c_suite(void)
{
	Suite *s = suite_create("crc32c");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_check_string);
	tcase_add_test(tc, test_rfc3720_zeros);
	tcase_add_test(tc, test_rfc3720_ones);
	tcase_add_test(tc, test_rfc3720_incrementing);
	tcase_add_test(tc, test_rfc3720_decrementing);
	tcase_add_test(tc, test_rfc3720_iscsi_read);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_chaining);
	tcase_add_test(tc, test_hw_matches_portable);
	tcase_add_test(tc, test_impl_name);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(crc32c_suite());
	int failed;

	printf("crc32c implementation: %s\n", crc32c_impl_name());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
