/* test_icmp.c - ICMP errors for internal hosts: classification, quoted-header parsing,
 * builders (type, code, MTU, checksum, quoted bytes) and the mapping to an association
 * through a real association table. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/errqueue.h>

#include "icmp.h"
#include "pkt.h"
#include "pktgen.h"

static struct gw_addr addr_of(const char *s)
{
	struct gw_addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The one's complement sum over a message that carries its checksum folds to 0xffff. */
static uint32_t ones_sum(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t folded(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static bool icmp4_sum_ok(const uint8_t *m, size_t n)
{
	return folded(ones_sum(0, m, n)) == 0xffff;
}

/* RFC 8200 8.1: source, destination, upper-layer length (32 bits), next header 58. */
static bool icmp6_sum_ok(const uint8_t *m, size_t n, const char *src, const char *dst)
{
	struct gw_addr s = addr_of(src), d = addr_of(dst);
	uint8_t ph[40];

	memcpy(ph, s.bytes, 16);
	memcpy(ph + 16, d.bytes, 16);
	ph[32] = (uint8_t)(n >> 24);
	ph[33] = (uint8_t)(n >> 16);
	ph[34] = (uint8_t)(n >> 8);
	ph[35] = (uint8_t)n;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 58;
	return folded(ones_sum(ones_sum(0, ph, sizeof(ph)), m, n)) == 0xffff;
}

/* A DATA packet of payload_len bytes, SCTP only. */
static size_t mk_data(uint8_t *buf, uint16_t sport, uint16_t dport, uint32_t vtag,
		      size_t payload_len)
{
	static uint8_t payload[PKTGEN_CHUNK_MAX];
	struct pktgen_chunk c;
	size_t n;

	memset(payload, 'x', sizeof(payload));
	c = pktgen_data(1, 0, 0, 0, payload, payload_len);
	n = pktgen_sctp(buf, PKTGEN_MAX, sport, dport, vtag, &c, 1);
	ck_assert_uint_gt(n, 0);
	return n;
}

START_TEST(test_classify)
{
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP, 3, 3, ECONNREFUSED), ICMP_KIND_UNREACH);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP, 3, 4, EMSGSIZE), ICMP_KIND_TOO_BIG);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP6, 1, 4, ECONNREFUSED), ICMP_KIND_UNREACH);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP6, 2, 0, EMSGSIZE), ICMP_KIND_TOO_BIG);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_LOCAL, 0, 0, EMSGSIZE),
			 ICMP_KIND_LOCAL_TOO_BIG);
	/* Everything else is not translated. */
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP, 3, 1, EHOSTUNREACH), ICMP_KIND_OTHER);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP, 3, 2, ENOPROTOOPT), ICMP_KIND_OTHER);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP, 11, 0, EHOSTUNREACH), ICMP_KIND_OTHER);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP6, 1, 0, ENETUNREACH), ICMP_KIND_OTHER);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP6, 3, 0, EHOSTUNREACH), ICMP_KIND_OTHER);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_LOCAL, 0, 0, ENOBUFS), ICMP_KIND_OTHER);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_NONE, 3, 3, 0), ICMP_KIND_OTHER);
	/* The ICMP and ICMPv6 numbers are not mixed up. */
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP, 2, 0, EMSGSIZE), ICMP_KIND_OTHER);
	ck_assert_int_eq(icmp_classify(SO_EE_ORIGIN_ICMP6, 3, 4, EMSGSIZE), ICMP_KIND_OTHER);
}
END_TEST

START_TEST(test_parse_quote)
{
	uint8_t buf[PKTGEN_MAX];
	struct icmp_quote q;
	struct pktgen_chunk c = pktgen_init(0xa1b2c3d4, 65536, 10, 10, 1, NULL, 0);
	size_t n;

	n = mk_data(buf, 6000, 7, 0x11223344, 100);
	ck_assert_int_eq(icmp_parse_quote(buf, n, &q), 0);
	ck_assert_uint_eq(q.src_port, 6000);
	ck_assert_uint_eq(q.dst_port, 7);
	ck_assert_uint_eq(q.vtag, 0x11223344);
	ck_assert(q.has_chunk);
	ck_assert_uint_eq(q.chunk_type, SCTP_CT_DATA);
	ck_assert_uint_eq(q.init_tag, 0);

	/* Every truncation below the ports and tag is refused, without reading past len
	 * (ASan in the CI lane); at 8 bytes there is no chunk yet. */
	for (size_t len = 0; len < 8; len++) {
		q.src_port = 1;
		ck_assert_int_eq(icmp_parse_quote(buf, len, &q), -1);
		ck_assert_uint_eq(q.src_port, 0);
	}
	ck_assert_int_eq(icmp_parse_quote(NULL, 100, &q), -1);
	for (size_t len = 8; len < 14; len++) {
		ck_assert_int_eq(icmp_parse_quote(buf, len, &q), 0);
		ck_assert_uint_eq(q.vtag, 0x11223344);
		ck_assert(!q.has_chunk);
	}
	ck_assert_int_eq(icmp_parse_quote(buf, 14, &q), 0);
	ck_assert(q.has_chunk);

	/* An INIT: tag 0; the initiate tag only when all of it was quoted. */
	n = pktgen_sctp(buf, sizeof(buf), 6000, 7, 0, &c, 1);
	ck_assert_int_eq(icmp_parse_quote(buf, n, &q), 0);
	ck_assert_uint_eq(q.vtag, 0);
	ck_assert_uint_eq(q.chunk_type, SCTP_CT_INIT);
	ck_assert_uint_eq(q.init_tag, 0xa1b2c3d4);
	ck_assert_int_eq(icmp_parse_quote(buf, 19, &q), 0);
	ck_assert_uint_eq(q.init_tag, 0);
	ck_assert_int_eq(icmp_parse_quote(buf, 20, &q), 0);
	ck_assert_uint_eq(q.init_tag, 0xa1b2c3d4);
}
END_TEST

START_TEST(test_inner_mtu)
{
	/* Same family and header size inside and out: only the UDP header is lost. */
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET, 1280, 20), 1272);
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET, 1500, 20), 1492);
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET6, 1500, 40), 1492);
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET6, 1280, 40), 1272);
	/* Inner IPv4 options / IPv6 extension headers are not carried (only the SCTP
	 * packet is), so the host may send that many bytes more. */
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET, 1280, 24), 1276);
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET6, 1280, 48), 1280);
	/* Nonsense reports. */
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET, 0, 20), 0);
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET, 39, 20), 0);
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET, 75, 20), 0); /* 67 < 68 */
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET, 76, 20), 68);
	ck_assert_uint_eq(icmp_inner_mtu(AF_INET6, 59, 40), 0);
}
END_TEST

START_TEST(test_build_v4)
{
	uint8_t quote[1000], m[1200];
	size_t n;

	for (size_t i = 0; i < sizeof(quote); i++)
		quote[i] = (uint8_t)(i * 7 + 1);

	n = icmp_build_error(m, sizeof(m), AF_INET, ICMP_KIND_UNREACH, 0, NULL, NULL, quote, 28);
	ck_assert_uint_eq(n, 8 + 28);
	ck_assert_uint_eq(m[0], 3); /* destination unreachable */
	ck_assert_uint_eq(m[1], 2); /* protocol unreachable */
	ck_assert_uint_eq(rd32(m + 4), 0);
	ck_assert(icmp4_sum_ok(m, n));
	ck_assert_mem_eq(m + 8, quote, 28);

	n = icmp_build_error(m, sizeof(m), AF_INET, ICMP_KIND_TOO_BIG, 1272, NULL, NULL, quote, 29);
	ck_assert_uint_eq(n, 8 + 29); /* odd length: the checksum pads with a zero byte */
	ck_assert_uint_eq(m[0], 3);
	ck_assert_uint_eq(m[1], 4); /* fragmentation needed and DF set */
	ck_assert_uint_eq(rd16(m + 4), 0);
	ck_assert_uint_eq(rd16(m + 6), 1272); /* RFC 1191 next-hop MTU */
	ck_assert(icmp4_sum_ok(m, n));
	ck_assert_mem_eq(m + 8, quote, 29);

	/* Cut so that IP header + error fit in 576 bytes. */
	n = icmp_build_error(m, sizeof(m), AF_INET, ICMP_KIND_TOO_BIG, 1272, NULL, NULL, quote,
			     sizeof(quote));
	ck_assert_uint_eq(n, 576 - 20);
	ck_assert(icmp4_sum_ok(m, n));
	ck_assert_mem_eq(m + 8, quote, n - 8);

	/* Refusals. */
	ck_assert_uint_eq(
		icmp_build_error(m, 35, AF_INET, ICMP_KIND_UNREACH, 0, NULL, NULL, quote, 28), 0);
	ck_assert_uint_eq(
		icmp_build_error(m, 36, AF_INET, ICMP_KIND_UNREACH, 0, NULL, NULL, quote, 28), 36);
	ck_assert_uint_eq(
		icmp_build_error(m, sizeof(m), AF_INET, ICMP_KIND_OTHER, 0, NULL, NULL, quote, 28),
		0);
	ck_assert_uint_eq(icmp_build_error(m, sizeof(m), AF_INET, ICMP_KIND_TOO_BIG, 0, NULL, NULL,
					   quote, 28),
			  0);
	ck_assert_uint_eq(icmp_build_error(m, sizeof(m), AF_INET, ICMP_KIND_TOO_BIG, 70000, NULL,
					   NULL, quote, 28),
			  0);
	ck_assert_uint_eq(icmp_build_error(m, sizeof(m), AF_UNIX, ICMP_KIND_UNREACH, 0, NULL, NULL,
					   quote, 28),
			  0);
}
END_TEST

START_TEST(test_build_v6)
{
	struct gw_addr s = addr_of("fd00:10::1"), d = addr_of("fd00:10::2");
	uint8_t quote[2000], m[2000];
	size_t n;

	for (size_t i = 0; i < sizeof(quote); i++)
		quote[i] = (uint8_t)(i * 13 + 5);

	n = icmp_build_error(m, sizeof(m), AF_INET6, ICMP_KIND_UNREACH, 0, &s, &d, quote, 48);
	ck_assert_uint_eq(n, 8 + 48);
	ck_assert_uint_eq(m[0], 4);        /* parameter problem */
	ck_assert_uint_eq(m[1], 1);        /* unrecognized next header */
	ck_assert_uint_eq(rd32(m + 4), 6); /* points at the next header field */
	ck_assert(icmp6_sum_ok(m, n, "fd00:10::1", "fd00:10::2"));
	ck_assert(!icmp6_sum_ok(m, n, "fd00:10::1", "fd00:10::3"));
	ck_assert_mem_eq(m + 8, quote, 48);

	n = icmp_build_error(m, sizeof(m), AF_INET6, ICMP_KIND_TOO_BIG, 1452, &s, &d, quote, 77);
	ck_assert_uint_eq(n, 8 + 77);
	ck_assert_uint_eq(m[0], 2); /* packet too big */
	ck_assert_uint_eq(m[1], 0);
	ck_assert_uint_eq(rd32(m + 4), 1452);
	ck_assert(icmp6_sum_ok(m, n, "fd00:10::1", "fd00:10::2"));
	ck_assert_mem_eq(m + 8, quote, 77);

	/* Cut so that IPv6 header + error fit in 1280 bytes. */
	n = icmp_build_error(m, sizeof(m), AF_INET6, ICMP_KIND_TOO_BIG, 1452, &s, &d, quote,
			     sizeof(quote));
	ck_assert_uint_eq(n, 1280 - 40);
	ck_assert(icmp6_sum_ok(m, n, "fd00:10::1", "fd00:10::2"));
	ck_assert_mem_eq(m + 8, quote, n - 8);

	/* Without the addresses the checksum is left to the kernel's raw ICMPv6 socket. */
	n = icmp_build_error(m, sizeof(m), AF_INET6, ICMP_KIND_TOO_BIG, 1452, NULL, NULL, quote,
			     48);
	ck_assert_uint_eq(n, 56);
	ck_assert_uint_eq(rd16(m + 2), 0);
}
END_TEST

START_TEST(test_build_quote)
{
	struct gw_addr ia = addr_of("10.10.1.2"), ra = addr_of("203.0.113.2"),
		       ia6 = addr_of("fd00:10::2"), ra6 = addr_of("2001:db8::2");
	uint8_t sctp[PKTGEN_MAX], q[2000];
	struct pkt_ip ip;
	size_t sl, n;

	sl = mk_data(sctp, 6000, 7, 0xdeadbeef, 400);
	n = icmp_build_quote(q, sizeof(q), &ia, &ra, 5000, sctp, 40, sl);
	ck_assert_uint_eq(n, 20 + 40);
	/* The header parses as the host's packet: its addresses, SCTP, its full length
	 * (pkt_parse_ip checks the length against the buffer, so give it all). */
	ck_assert_int_eq(pkt_parse_ip(q, 20 + sl, &ip), 0);
	ck_assert_uint_eq(ip.version, 4);
	ck_assert(addr_equal(&ip.src, &ia));
	ck_assert(addr_equal(&ip.dst, &ra));
	ck_assert_uint_eq(ip.proto, 132);
	ck_assert_uint_eq(ip.total_len, 20 + sl);
	ck_assert_uint_eq(rd16(q + 20), 5000); /* the port the host used, not the one seen */
	ck_assert_mem_eq(q + 22, sctp + 2, 38);

	n = icmp_build_quote(q, sizeof(q), &ia6, &ra6, 5000, sctp, 8, 8);
	ck_assert_uint_eq(n, 40 + 8);
	ck_assert_int_eq(pkt_parse_ip(q, n, &ip), 0);
	ck_assert_uint_eq(ip.version, 6);
	ck_assert(addr_equal(&ip.src, &ia6));
	ck_assert(addr_equal(&ip.dst, &ra6));
	ck_assert_uint_eq(ip.proto, 132);
	ck_assert_uint_eq(rd16(q + 40), 5000);
	ck_assert_uint_eq(rd16(q + 42), 7);
	ck_assert_uint_eq(rd32(q + 44), 0xdeadbeef);

	/* Refusals: families differ, too little quoted, no room for the 8 bytes. */
	ck_assert_uint_eq(icmp_build_quote(q, sizeof(q), &ia, &ra6, 5000, sctp, 40, sl), 0);
	ck_assert_uint_eq(icmp_build_quote(q, sizeof(q), &ia, &ra, 5000, sctp, 7, sl), 0);
	ck_assert_uint_eq(icmp_build_quote(q, 27, &ia, &ra, 5000, sctp, 40, sl), 0);
	ck_assert_uint_eq(icmp_build_quote(q, 28, &ia, &ra, 5000, sctp, 40, sl), 28);
}
END_TEST

/* The association of the tests: 10.10.1.2 port 5000, seen by the peer as 6000 (port
 * translated), remote port 7, itag 0x1111aaaa, rtag 0x2222bbbb. */
static struct assoc *mk_assoc(struct assoc_table *t, const char *iaddr)
{
	struct gw_addr ia = addr_of(iaddr);
	struct assoc *a =
		assoc_create(t, &ia, 5000, 6000, 7, 0x1111aaaa, 0x2222bbbb, ASSOC_FROM_INSIDE, 1);

	ck_assert_ptr_nonnull(a);
	return a;
}

START_TEST(test_translate)
{
	struct assoc_table *t = assoc_table_new(8);
	struct assoc *a = mk_assoc(t, "10.10.1.2"), *got;
	struct gw_addr ra = addr_of("203.0.113.2"), to;
	uint8_t sctp[PKTGEN_MAX], m[ICMP_MAX_MSG];
	struct pkt_ip ip;
	size_t sl;
	int n;

	/* Some of our DATA packet as a router quoted it (Linux quotes up to 576 bytes). */
	sl = mk_data(sctp, 6000, 7, 0x2222bbbb, 1400);
	n = icmp_translate(t, ICMP_KIND_TOO_BIG, 1280, &ra, sctp, 548, m, sizeof(m), &got, &to);
	ck_assert_int_eq(n, 8 + 20 + 528); /* cut at 576 - 20 */
	ck_assert_ptr_eq(got, a);
	ck_assert(addr_equal(&to, &a->iaddr));
	ck_assert_uint_eq(m[0], 3);
	ck_assert_uint_eq(m[1], 4);
	ck_assert_uint_eq(rd16(m + 6), 1272);
	ck_assert(icmp4_sum_ok(m, (size_t)n));
	ck_assert_int_eq(pkt_parse_ip(m + 8, 20 + sl, &ip), 0);
	ck_assert(addr_equal(&ip.src, &a->iaddr));
	ck_assert(addr_equal(&ip.dst, &ra));
	ck_assert_uint_eq(ip.proto, 132);
	ck_assert_uint_eq(rd16(m + 28), 5000);
	ck_assert_uint_eq(rd16(m + 30), 7);
	ck_assert_uint_eq(rd32(m + 32), 0x2222bbbb);

	/* RFC 792 routers quote only 8 bytes after the UDP header: enough. */
	n = icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, 8, m, sizeof(m), &got, &to);
	ck_assert_int_eq(n, 8 + 20 + 8);
	ck_assert_ptr_eq(got, a);
	ck_assert_uint_eq(m[0], 3);
	ck_assert_uint_eq(m[1], 2); /* port unreachable became protocol unreachable */
	ck_assert(icmp4_sum_ok(m, (size_t)n));
	ck_assert_uint_eq(rd16(m + 28), 5000);
	ck_assert_uint_eq(rd32(m + 32), 0x2222bbbb);

	/* Unverifiable: too short, another tag, other ports, the itag in a non-T packet. */
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, 7, m, sizeof(m), &got, &to),
		ICMP_ERR_SHORT);
	ck_assert_ptr_null(got);
	sl = mk_data(sctp, 6000, 7, 0x2222bbbc, 10);
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m, sizeof(m), &got, &to),
		ICMP_ERR_NO_ASSOC);
	sl = mk_data(sctp, 5000, 7, 0x2222bbbb, 10); /* the internal port is not what we send */
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m, sizeof(m), &got, &to),
		ICMP_ERR_NO_ASSOC);
	sl = mk_data(sctp, 6000, 8, 0x2222bbbb, 10);
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m, sizeof(m), &got, &to),
		ICMP_ERR_NO_ASSOC);
	sl = mk_data(sctp, 6000, 7, 0x1111aaaa, 10);
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m, sizeof(m), &got, &to),
		ICMP_ERR_NO_ASSOC);

	/* T-bit packets carry the itag; an INIT is verified by its initiate tag. */
	{
		struct pktgen_chunk c = pktgen_abort(true);

		sl = pktgen_sctp(sctp, sizeof(sctp), 6000, 7, 0x1111aaaa, &c, 1);
		ck_assert_int_eq(icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m,
						sizeof(m), &got, &to),
				 8 + 20 + (int)sl);
		ck_assert_ptr_eq(got, a);
		c = pktgen_abort(false);
		sl = pktgen_sctp(sctp, sizeof(sctp), 6000, 7, 0x1111aaaa, &c, 1);
		ck_assert_int_eq(icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m,
						sizeof(m), &got, &to),
				 ICMP_ERR_NO_ASSOC);
		c = pktgen_init(0x1111aaaa, 65536, 10, 10, 1, NULL, 0);
		sl = pktgen_sctp(sctp, sizeof(sctp), 6000, 7, 0, &c, 1);
		ck_assert_int_gt(icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m,
						sizeof(m), &got, &to),
				 0);
		ck_assert_ptr_eq(got, a);
		/* ...but not when the router quoted too little of it. */
		ck_assert_int_eq(icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, 19, m,
						sizeof(m), &got, &to),
				 ICMP_ERR_NO_ASSOC);
	}

	/* Not translated kinds, nonsense MTUs, families that do not match. */
	sl = mk_data(sctp, 6000, 7, 0x2222bbbb, 10);
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_OTHER, 0, &ra, sctp, sl, m, sizeof(m), &got, &to),
		ICMP_ERR_KIND);
	ck_assert_int_eq(icmp_translate(t, ICMP_KIND_LOCAL_TOO_BIG, 1280, &ra, sctp, sl, m,
					sizeof(m), &got, &to),
			 ICMP_ERR_KIND);
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_TOO_BIG, 40, &ra, sctp, sl, m, sizeof(m), &got, &to),
		ICMP_ERR_MTU);
	{
		struct gw_addr ra6 = addr_of("2001:db8::2");

		ck_assert_int_eq(icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra6, sctp, sl, m,
						sizeof(m), &got, &to),
				 ICMP_ERR_FAMILY);
	}
	ck_assert_int_eq(icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m, 20, &got, &to),
			 ICMP_ERR_SPACE);

	/* Gone from the table: gone for ICMP too. */
	assoc_remove(t, a);
	ck_assert_int_eq(
		icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, sl, m, sizeof(m), &got, &to),
		ICMP_ERR_NO_ASSOC);
	assoc_table_free(t);
}
END_TEST

START_TEST(test_translate_v6)
{
	struct assoc_table *t = assoc_table_new(8);
	struct assoc *a = mk_assoc(t, "fd00:10::2"), *got;
	struct gw_addr ra = addr_of("2001:db8:113::2"), to;
	uint8_t sctp[PKTGEN_MAX], m[ICMP_MAX_MSG];
	struct pkt_ip ip;
	size_t sl;
	int n;

	sl = mk_data(sctp, 6000, 7, 0x2222bbbb, 1400);
	n = icmp_translate(t, ICMP_KIND_TOO_BIG, 1400, &ra, sctp, sl, m, sizeof(m), &got, &to);
	ck_assert_int_eq(n, 1280 - 40);
	ck_assert_ptr_eq(got, a);
	ck_assert(addr_equal(&to, &a->iaddr));
	ck_assert_uint_eq(m[0], 2);
	ck_assert_uint_eq(rd32(m + 4), 1392);
	ck_assert_int_eq(pkt_parse_ip(m + 8, 40 + sl, &ip), 0);
	ck_assert(addr_equal(&ip.src, &a->iaddr));
	ck_assert(addr_equal(&ip.dst, &ra));
	ck_assert_uint_eq(rd16(m + 48), 5000);
	ck_assert_uint_eq(rd32(m + 52), 0x2222bbbb);

	n = icmp_translate(t, ICMP_KIND_UNREACH, 0, &ra, sctp, 12, m, sizeof(m), &got, &to);
	ck_assert_int_eq(n, 8 + 40 + 12);
	ck_assert_uint_eq(m[0], 4);
	ck_assert_uint_eq(m[1], 1);
	ck_assert_uint_eq(rd32(m + 4), 6);
	ck_assert_uint_eq(m[8 + 6], 132); /* the field pointed at: next header SCTP */
	assoc_table_free(t);
}
END_TEST

START_TEST(test_too_big_reply)
{
	struct assoc_table *t = assoc_table_new(8);
	struct assoc *a = mk_assoc(t, "10.10.1.2"), *a6;
	uint8_t pkt[PKTGEN_MAX], orig[PKTGEN_MAX], m[ICMP_MAX_MSG];
	size_t sl, n;
	int r;

	/* The host's 1448-byte packet as queued, then its port translated by xlate. */
	sl = mk_data(pkt, 5000, 7, 0x2222bbbb, 1400);
	n = pktgen_ipv4(pkt, sizeof(pkt), sl, "10.10.1.2", "203.0.113.2", 0);
	ck_assert_uint_eq(n, 20 + 12 + 16 + 1400);
	memcpy(orig, pkt, n);
	pkt[20] = 6000 >> 8;
	pkt[21] = 6000 & 0xff;
	pktgen_sctp_fix_crc(pkt + 20, sl);

	r = icmp_too_big_reply(a, pkt, n, 1280, m, sizeof(m));
	ck_assert_int_eq(r, 576 - 20);
	ck_assert_uint_eq(m[0], 3);
	ck_assert_uint_eq(m[1], 4);
	ck_assert_uint_eq(rd16(m + 6), 1272);
	ck_assert(icmp4_sum_ok(m, (size_t)r));
	/* Quoted as the host sent it: its IP header verbatim and its port. */
	ck_assert_mem_eq(m + 8, orig, 20 + 8);
	ck_assert_mem_eq(m + 8 + 20 + 12, orig + 20 + 12, (size_t)r - 8 - 20 - 12);

	/* Refusals: not SCTP, truncated, a nonsense MTU. */
	ck_assert_int_eq(icmp_too_big_reply(a, pkt, 19, 1280, m, sizeof(m)), ICMP_ERR_SHORT);
	ck_assert_int_eq(icmp_too_big_reply(a, pkt, n, 30, m, sizeof(m)), ICMP_ERR_MTU);
	ck_assert_int_eq(icmp_too_big_reply(a, pkt, n, 1280, m, 100), ICMP_ERR_SPACE);
	pkt[9] = 17;
	ck_assert_int_eq(icmp_too_big_reply(a, pkt, n, 1280, m, sizeof(m)), ICMP_ERR_SHORT);

	/* IPv6: packet too big with MTU - 8. */
	{
		struct gw_addr ia6 = addr_of("fd00:10::2");

		a6 = assoc_create(t, &ia6, 5001, 5001, 7, 0x3333, 0x4444, ASSOC_FROM_INSIDE, 1);
		ck_assert_ptr_nonnull(a6);
	}
	sl = mk_data(pkt, 5001, 7, 0x4444, 1400);
	n = pktgen_ipv6(pkt, sizeof(pkt), sl, "fd00:10::2", "2001:db8:113::2", 0);
	r = icmp_too_big_reply(a6, pkt, n, 1400, m, sizeof(m));
	ck_assert_int_eq(r, 1280 - 40);
	ck_assert_uint_eq(m[0], 2);
	ck_assert_uint_eq(rd32(m + 4), 1392);
	ck_assert_mem_eq(m + 8, pkt, (size_t)r - 8);
	/* A v4 association for a v6 packet makes no sense. */
	ck_assert_int_eq(icmp_too_big_reply(a, pkt, n, 1400, m, sizeof(m)), ICMP_ERR_FAMILY);
	assoc_table_free(t);
}
END_TEST

static Suite *icmp_suite(void)
{
	Suite *s = suite_create("icmp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_parse_quote);
	tcase_add_test(tc, test_inner_mtu);
	tcase_add_test(tc, test_build_v4);
	tcase_add_test(tc, test_build_v6);
	tcase_add_test(tc, test_build_quote);
	tcase_add_test(tc, test_translate);
	tcase_add_test(tc, test_translate_v6);
	tcase_add_test(tc, test_too_big_reply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(icmp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
