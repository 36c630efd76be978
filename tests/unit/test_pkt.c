/* test_pkt.c - IP / SCTP parsing, checksums, building and address stripping. Packets
 * come from pktgen (independent of src/pkt.c); truncated copies live in heap buffers of
 * their exact size so that AddressSanitizer catches any read past the end. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "pktgen.h"

static uint8_t buf[PKTGEN_MAX];

static const char *const two_v4_one_v6[] = { "10.0.0.5", "fd00::5", "192.168.1.1" };

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static struct gw_addr addr(const char *s)
{
	struct gw_addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

/* SCTP: DATA (4-byte payload) + SACK + HEARTBEAT (4-byte info), chunk lengths multiples
 * of 4, so only prefixes ending on a chunk boundary are valid packets. */
static size_t make_data_sctp(uint8_t *b, uint32_t vtag)
{
	struct pktgen_chunk c[3] = {
		pktgen_data(100, 1, 2, 3, "abcd", 4),
		pktgen_sack(99, 65536),
		pktgen_heartbeat("hbhb", 4),
	};

	return pktgen_sctp(b, PKTGEN_MAX, 5000, 7, vtag, c, 3);
}

/* IPv4 + SCTP INIT with addresses, 4-aligned throughout. */
static size_t make_v4_init(uint8_t *b)
{
	struct pktgen_chunk c = pktgen_init(0xa1b2c3d4, 65536, 10, 11, 1234, two_v4_one_v6, 3);
	size_t n = pktgen_sctp(b, PKTGEN_MAX, 5000, 7, 0, &c, 1);

	ck_assert_uint_gt(n, 0);
	return pktgen_ipv4(b, PKTGEN_MAX, n, "10.0.0.5", "203.0.113.2", 0x02);
}

static size_t make_v6_data(uint8_t *b)
{
	size_t n = make_data_sctp(b, 0x11223344);

	ck_assert_uint_gt(n, 0);
	return pktgen_ipv6(b, PKTGEN_MAX, n, "fd00::1", "2001:db8::2", 0xb9);
}

/* Parse IP then SCTP, as the data path does. */
static int parse_all(const uint8_t *p, size_t len, struct pkt_ip *ip, struct pkt_sctp *s)
{
	int err = pkt_parse_ip(p, len, ip);

	if (err)
		return err;
	if (ip->proto != IPPROTO_SCTP_NUM)
		return PKT_ERR_NOT_SCTP;
	return pkt_parse_sctp(p + ip->hdr_len, (size_t)ip->total_len - ip->hdr_len, s);
}

START_TEST(test_parse_ipv4_init)
{
	size_t n = make_v4_init(buf);
	struct pkt_ip ip;
	struct pkt_sctp s;
	struct gw_addr src = addr("10.0.0.5"), dst = addr("203.0.113.2");

	ck_assert_int_eq(parse_all(buf, n, &ip, &s), PKT_OK);
	ck_assert_uint_eq(ip.version, 4);
	ck_assert_uint_eq(ip.tos, 0x02);
	ck_assert_uint_eq(ip.ttl, 64);
	ck_assert_uint_eq(ip.proto, 132);
	ck_assert_uint_eq(ip.hdr_len, 20);
	ck_assert_uint_eq(ip.total_len, n);
	ck_assert(addr_equal(&ip.src, &src));
	ck_assert(addr_equal(&ip.dst, &dst));

	ck_assert_uint_eq(s.src_port, 5000);
	ck_assert_uint_eq(s.dst_port, 7);
	ck_assert_uint_eq(s.vtag, 0);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_INIT);
	ck_assert_uint_eq(s.nchunks, 1);
	ck_assert_uint_eq(s.chunk_mask, 1u << SCTP_CT_INIT);
	ck_assert(pkt_has_chunk(&s, SCTP_CT_INIT));
	ck_assert(!pkt_has_chunk(&s, SCTP_CT_DATA));
	ck_assert(!pkt_has_chunk(&s, 40));
	ck_assert_uint_eq(s.init_tag, 0xa1b2c3d4);
	ck_assert_uint_eq(s.init_off, 12);
	ck_assert_uint_eq(s.init_len, 20 + 8 + 20 + 8);
	ck_assert_uint_eq(s.addr_params, 3);
	ck_assert(!s.t_bit);
	ck_assert(pkt_sctp_checksum_ok(buf + 20, n - 20));

	/* Link-layer padding after the IP packet is not part of it. */
	memset(buf + n, 0xee, 6);
	ck_assert_int_eq(parse_all(buf, n + 6, &ip, &s), PKT_OK);
	ck_assert_uint_eq(ip.total_len, n);
}
END_TEST

START_TEST(test_parse_ipv6_data)
{
	size_t n = make_v6_data(buf);
	struct pkt_ip ip;
	struct pkt_sctp s;
	struct gw_addr src = addr("fd00::1"), dst = addr("2001:db8::2");

	ck_assert_int_eq(parse_all(buf, n, &ip, &s), PKT_OK);
	ck_assert_uint_eq(ip.version, 6);
	ck_assert_uint_eq(ip.tos, 0xb9);
	ck_assert_uint_eq(ip.ttl, 64);
	ck_assert_uint_eq(ip.proto, 132);
	ck_assert_uint_eq(ip.hdr_len, 40);
	ck_assert_uint_eq(ip.total_len, n);
	ck_assert(addr_equal(&ip.src, &src));
	ck_assert(addr_equal(&ip.dst, &dst));

	ck_assert_uint_eq(s.vtag, 0x11223344);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_DATA);
	ck_assert_uint_eq(s.first_flags, 0x03);
	ck_assert_uint_eq(s.nchunks, 3);
	ck_assert_uint_eq(s.chunk_mask,
			  1u << SCTP_CT_DATA | 1u << SCTP_CT_SACK | 1u << SCTP_CT_HEARTBEAT);
	ck_assert_uint_eq(s.init_tag, 0);
	ck_assert_uint_eq(s.init_off, 0);
	ck_assert_uint_eq(s.addr_params, 0);
	ck_assert(pkt_sctp_checksum_ok(buf + 40, n - 40));
}
END_TEST

START_TEST(test_last_chunk_unpadded)
{
	/* DATA with 5 payload bytes: chunk length 21, padded to 24 on the wire. */
	struct pktgen_chunk c = pktgen_data(1, 0, 0, 0, "hello", 5);
	size_t n = pktgen_sctp(buf, sizeof(buf), 1, 2, 3, &c, 1);
	struct pkt_sctp s;

	ck_assert_uint_eq(n, 12 + 24);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	/* A sender that leaves out the final padding is tolerated... */
	ck_assert_int_eq(pkt_parse_sctp(buf, n - 3, &s), PKT_OK);
	/* ...but not one byte less. */
	ck_assert_int_eq(pkt_parse_sctp(buf, n - 4, &s), PKT_ERR_CHUNK_LEN);
	/* Trailing bytes too few for a chunk header. */
	ck_assert_int_eq(pkt_parse_sctp(buf, n + 2, &s), PKT_ERR_CHUNK_LEN);
}
END_TEST

/* True when the first len bytes of the SCTP packet pkt end exactly after a chunk (with
 * or without its padding): such a prefix is itself a valid packet. */
static bool at_chunk_end(const uint8_t *pkt, size_t n, size_t len)
{
	for (size_t off = 12; off + 4 <= n;) {
		size_t clen = rd16(pkt + off + 2);

		if (len == off + clen || len == off + ((clen + 3) & ~(size_t)3))
			return true;
		off += (clen + 3) & ~(size_t)3;
	}
	return false;
}

/* Every prefix of a valid packet must fail, except an SCTP prefix that ends on a chunk
 * boundary, which must parse; and nothing may be read past the end. */
static void check_truncations(const uint8_t *pkt, size_t n, bool ip)
{
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct pkt_ip iph;
		struct pkt_sctp s;
		unsigned removed;
		int err;

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, pkt, len);
		if (ip) {
			err = pkt_parse_ip(copy, len, &iph);
			ck_assert_msg(err < 0, "IP prefix of %zu/%zu bytes parsed", len, n);
		} else {
			bool whole = at_chunk_end(pkt, n, len);

			err = pkt_parse_sctp(copy, len, &s);
			ck_assert_msg(whole ? err == PKT_OK : err < 0,
				      "SCTP prefix of %zu/%zu bytes: %d", len, n, err);
			ck_assert_int_eq(pkt_sctp_strip_addr_params(copy, len, &removed),
					 whole ? (int)len : err);
			ck_assert(!pkt_sctp_checksum_ok(copy, len));
			(void)pkt_sctp_checksum_zero(copy, len);
		}
		free(copy);
	}
}

START_TEST(test_truncation_ipv4)
{
	size_t n = make_v4_init(buf);

	check_truncations(buf, n, true);
	check_truncations(buf + 20, n - 20, false);
}
END_TEST

START_TEST(test_truncation_ipv6)
{
	size_t n = make_v6_data(buf);

	check_truncations(buf, n, true);
	check_truncations(buf + 40, n - 40, false);
}
END_TEST

START_TEST(test_truncation_init_ack)
{
	struct pktgen_chunk c = pktgen_init_ack(5, 65536, 1, 1, 1, two_v4_one_v6, 3, "cook", 4);
	size_t n = pktgen_sctp(buf, sizeof(buf), 7, 5000, 0xa1b2c3d4, &c, 1);

	check_truncations(buf, n, false);
}
END_TEST

START_TEST(test_chunk_len_errors)
{
	size_t n = make_data_sctp(buf, 1);
	struct pkt_sctp s;
	/* Chunks start at 12 (DATA, 20 bytes), 32 (SACK, 16), 48 (HEARTBEAT, 12). */

	ck_assert_uint_eq(n, 60);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	buf[48 + 3] = 16; /* last chunk runs 4 bytes past the packet */
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_CHUNK_LEN);
	for (unsigned l = 0; l < 4; l++) {
		buf[48 + 3] = (uint8_t)l;
		ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_CHUNK_LEN);
	}
	buf[48 + 3] = 12;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	/* A middle chunk whose length lands inside the next chunk, where "hbhb" reads as
	 * a chunk header of length 0x6862. */
	buf[32 + 3] = 24;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_CHUNK_LEN);
	buf[32 + 2] = 0xff;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_CHUNK_LEN);
	buf[32 + 2] = 0;
	buf[32 + 3] = 2;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_CHUNK_LEN);
}
END_TEST

START_TEST(test_sctp_short_and_empty)
{
	struct pktgen_chunk c = pktgen_cookie_ack();
	size_t n = pktgen_sctp(buf, sizeof(buf), 1, 2, 3, &c, 1);
	struct pkt_sctp s;

	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert_int_eq(pkt_parse_sctp(buf, 12, &s), PKT_ERR_NO_CHUNK);
	ck_assert_int_eq(pkt_parse_sctp(buf, 11, &s), PKT_ERR_SCTP_SHORT);
	ck_assert_int_eq(pkt_parse_sctp(buf, 0, &s), PKT_ERR_SCTP_SHORT);
}
END_TEST

START_TEST(test_init_bundled)
{
	struct pktgen_chunk c[2] = {
		pktgen_init(1, 65536, 1, 1, 1, NULL, 0),
		pktgen_data(1, 0, 0, 0, "x", 1),
	};
	struct pkt_sctp s;
	size_t n;

	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, c, 2);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_BUNDLED);
	/* INIT second. */
	c[1] = c[0];
	c[0] = pktgen_cookie_ack();
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, c, 2);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_BUNDLED);
	/* Two INITs. */
	c[0] = c[1];
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, c, 2);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_BUNDLED);
	/* INIT-ACK must travel alone too (RFC 9260 6.10). */
	c[0] = pktgen_init_ack(9, 65536, 1, 1, 1, NULL, 0, "c", 1);
	c[1] = pktgen_cookie_ack();
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 5, c, 2);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_BUNDLED);
}
END_TEST

START_TEST(test_init_vtag_and_tag0)
{
	struct pktgen_chunk c = pktgen_init(0x1234, 65536, 1, 1, 1, NULL, 0);
	struct pkt_sctp s;
	size_t n;

	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert_uint_eq(s.init_tag, 0x1234);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 77, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_VTAG);

	c = pktgen_init(0, 65536, 1, 1, 1, NULL, 0);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_TAG0);

	c = pktgen_init_ack(0, 65536, 1, 1, 1, NULL, 0, "c", 1);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 99, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_TAG0);
	/* INIT-ACK is not INIT: its verification tag is the peer's tag, never 0. */
	c = pktgen_init_ack(5, 65536, 1, 1, 1, NULL, 0, "c", 1);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_ZERO_VTAG);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 99, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_INIT_ACK);
	ck_assert_uint_eq(s.init_tag, 5);
}
END_TEST

START_TEST(test_init_length_and_params)
{
	struct pktgen_chunk c = pktgen_init(1, 65536, 1, 1, 1, NULL, 0);
	struct pkt_sctp s;
	size_t n;

	/* Fixed part cut to 16 bytes. */
	c.len = 12;
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_LEN);

	c = pktgen_init(1, 65536, 1, 1, 1, two_v4_one_v6, 1);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert_uint_eq(s.addr_params, 1);
	/* Parameter at chunk offset 20, i.e. packet offset 32; its length at 34. */
	buf[35] = 3;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_PARAM);
	buf[35] = 12; /* runs past the chunk */
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_PARAM);
	buf[35] = 8;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	/* Two stray bytes after the last parameter, inside the chunk. */
	c.value[c.len++] = 0;
	c.value[c.len++] = 0;
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_INIT_PARAM);
}
END_TEST

START_TEST(test_zero_vtag)
{
	size_t n = make_data_sctp(buf, 0);
	struct pktgen_chunk c;
	struct pkt_sctp s;

	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_ZERO_VTAG);
	/* A T-bit ABORT reflects the tag it answers: never 0 either. */
	c = pktgen_abort(true);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 0, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_ZERO_VTAG);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 8, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert(s.t_bit);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_ABORT);
	ck_assert_uint_eq(s.first_flags, 1);

	c = pktgen_shutdown_complete(true);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 8, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert(s.t_bit);
	c = pktgen_shutdown_complete(false);
	n = pktgen_sctp(buf, sizeof(buf), 1, 2, 8, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert(!s.t_bit);
}
END_TEST

START_TEST(test_port0)
{
	size_t n = make_data_sctp(buf, 1);
	struct pkt_sctp s;

	buf[0] = buf[1] = 0;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_PORT0);
	n = make_data_sctp(buf, 1);
	buf[2] = buf[3] = 0;
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_ERR_PORT0);
}
END_TEST

START_TEST(test_ipv4_header_errors)
{
	size_t n = make_v4_init(buf);
	struct pkt_ip ip;

	ck_assert_int_eq(pkt_parse_ip(buf, 0, &ip), PKT_ERR_IP_SHORT);
	ck_assert_int_eq(pkt_parse_ip(buf, 19, &ip), PKT_ERR_IP_SHORT);
	buf[0] = 0x44;
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_HDRLEN);
	buf[0] = 0x4f; /* 60 bytes of header: fits here, but total length is checked */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_OK);
	ck_assert_uint_eq(ip.hdr_len, 60);
	ck_assert_int_eq(pkt_parse_ip(buf, 40, &ip), PKT_ERR_IP_HDRLEN);
	buf[0] = 0x55;
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_VERSION);
	buf[0] = 0x45;
	buf[3]++; /* total length one past the buffer */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_TOTLEN);
	buf[2] = 0;
	buf[3] = 19; /* shorter than the header */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_TOTLEN);
}
END_TEST

START_TEST(test_ipv4_options)
{
	size_t n = make_v4_init(buf);
	struct pkt_ip ip;
	struct pkt_sctp s;

	/* Insert 4 bytes of NOP options. */
	memmove(buf + 24, buf + 20, n - 20);
	memset(buf + 20, 1, 4);
	buf[0] = 0x46;
	buf[3] = (uint8_t)(buf[3] + 4);
	ck_assert_int_eq(parse_all(buf, n + 4, &ip, &s), PKT_OK);
	ck_assert_uint_eq(ip.hdr_len, 24);
	ck_assert_uint_eq(s.init_tag, 0xa1b2c3d4);
}
END_TEST

START_TEST(test_ipv4_fragments)
{
	size_t n = make_v4_init(buf);
	struct pkt_ip ip;

	ck_assert_uint_eq(buf[6], 0x40); /* DF alone is fine */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_OK);
	buf[6] = 0x20; /* MF */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_FRAGMENT);
	buf[6] = 0x00;
	buf[7] = 0x01; /* offset 8 */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_FRAGMENT);
	buf[6] = 0x50; /* DF (nonsense with) offset 0x1000 * 8 */
	buf[7] = 0x00;
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_FRAGMENT);
}
END_TEST

/* Insert an IPv6 extension header of len bytes (multiple of 8) right after the fixed
 * header of the IPv6 packet in buf, chaining next headers. */
static size_t v6_insert_ext(uint8_t *b, size_t n, uint8_t type, size_t len)
{
	memmove(b + 40 + len, b + 40, n - 40);
	memset(b + 40, 0, len);
	b[40] = b[6];
	if (type == 44)
		b[41] = 0; /* reserved; offset/M set by the caller */
	else
		b[41] = (uint8_t)(len / 8 - 1);
	if (type == 0 || type == 60) {
		b[42] = 1; /* PadN option filling the rest */
		b[43] = (uint8_t)(len - 4);
	}
	b[6] = type;
	n += len;
	b[4] = (uint8_t)((n - 40) >> 8);
	b[5] = (uint8_t)(n - 40);
	return n;
}

START_TEST(test_ipv6_ext_headers)
{
	size_t n = make_v6_data(buf);
	struct pkt_ip ip;
	struct pkt_sctp s;

	n = v6_insert_ext(buf, n, 60, 16); /* destination options */
	n = v6_insert_ext(buf, n, 43, 24); /* routing */
	n = v6_insert_ext(buf, n, 0, 8);   /* hop-by-hop, first */
	ck_assert_int_eq(parse_all(buf, n, &ip, &s), PKT_OK);
	ck_assert_uint_eq(ip.proto, 132);
	ck_assert_uint_eq(ip.hdr_len, 40 + 8 + 24 + 16);
	ck_assert_uint_eq(ip.total_len, n);
	ck_assert_uint_eq(s.vtag, 0x11223344);
	ck_assert_uint_eq(s.nchunks, 3);
	check_truncations(buf, n, true);

	/* An extension header claiming more than the payload. */
	buf[40 + 1] = 200;
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_TOTLEN);
}
END_TEST

START_TEST(test_ipv6_fragment_header)
{
	size_t n = make_v6_data(buf);
	struct pkt_ip ip;
	struct pkt_sctp s;

	n = v6_insert_ext(buf, n, 44, 8);
	/* Atomic fragment (RFC 6946): offset 0, M clear, any identification. */
	buf[44] = 0xde;
	ck_assert_int_eq(parse_all(buf, n, &ip, &s), PKT_OK);
	ck_assert_uint_eq(ip.hdr_len, 48);
	ck_assert_uint_eq(s.vtag, 0x11223344);
	buf[43] = 0x01; /* M */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_FRAGMENT);
	buf[43] = 0x08; /* offset 1 */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_FRAGMENT);
	buf[42] = 0x80;
	buf[43] = 0x00; /* offset 0x1000 */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_FRAGMENT);
	buf[42] = 0;
	buf[43] = 0x06; /* reserved bits only: still whole */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_OK);
}
END_TEST

START_TEST(test_ipv6_errors)
{
	size_t n = make_v6_data(buf);
	struct pkt_ip ip;

	ck_assert_int_eq(pkt_parse_ip(buf, 39, &ip), PKT_ERR_IP_SHORT);
	buf[5]++; /* payload length one past the buffer */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_TOTLEN);
	buf[5]--;
	buf[6] = 17; /* UDP: parsed, not our business to refuse */
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_OK);
	ck_assert_uint_eq(ip.proto, 17);
	ck_assert_uint_eq(ip.hdr_len, 40);
	buf[0] = 0x70;
	ck_assert_int_eq(pkt_parse_ip(buf, n, &ip), PKT_ERR_IP_VERSION);
}
END_TEST

START_TEST(test_checksum_roundtrip)
{
	size_t n = make_data_sctp(buf, 0x55667788);
	uint8_t *p = buf;

	ck_assert(pkt_sctp_checksum_ok(p, n));
	ck_assert(!pkt_sctp_checksum_zero(p, n));
	/* Every single flipped bit, checksum field included, is caught. */
	for (size_t i = 0; i < n * 8; i++) {
		p[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(!pkt_sctp_checksum_ok(p, n), "bit %zu flip not detected", i);
		p[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ck_assert(pkt_sctp_checksum_ok(p, n));

	p[20] ^= 0x10;
	pkt_sctp_set_checksum(p, n);
	ck_assert(pkt_sctp_checksum_ok(p, n));
	/* The field is ignored in the computation, whatever it holds. */
	ck_assert_uint_eq(pkt_sctp_checksum(p, n), (uint32_t)p[8] | (uint32_t)p[9] << 8 |
							   (uint32_t)p[10] << 16 |
							   (uint32_t)p[11] << 24);
	memset(p + 8, 0, 4);
	ck_assert(pkt_sctp_checksum_zero(p, n));
	ck_assert(!pkt_sctp_checksum_ok(p, n));
	ck_assert(!pkt_sctp_checksum_ok(p, 11));
	ck_assert(!pkt_sctp_checksum_zero(p, 11));
}
END_TEST

/* ABORT, T bit, tag 0x01020304, ports 7 -> 5000, cause 14: bytes that tshark 4.0 with
 * -o sctp.checksum:CRC-32C reported as "[correct]". Pins the CRC32c byte order. */
static const uint8_t abort_vector[20] = {
	0x00, 0x07, 0x13, 0x88, 0x01, 0x02, 0x03, 0x04, 0xa5, 0xef,
	0xa9, 0xc5, 0x06, 0x01, 0x00, 0x08, 0x00, 0x0e, 0x00, 0x04,
};

START_TEST(test_checksum_known_packet)
{
	uint8_t p[32];
	size_t n = pkt_build_abort(p, sizeof(p), 7, 5000, 0x01020304, true, 14);

	ck_assert(pkt_sctp_checksum_ok(abort_vector, sizeof(abort_vector)));
	ck_assert_uint_eq(pkt_sctp_checksum(abort_vector, sizeof(abort_vector)), 0xc5a9efa5);
	ck_assert_uint_eq(n, sizeof(abort_vector));
	ck_assert_mem_eq(p, abort_vector, sizeof(abort_vector));
}
END_TEST

START_TEST(test_build_abort)
{
	uint8_t p[64];
	struct pkt_sctp s;
	size_t n;

	n = pkt_build_abort(p, sizeof(p), 7, 5000, 0xcafe, true, 0);
	ck_assert_uint_eq(n, 16);
	ck_assert_int_eq(pkt_parse_sctp(p, n, &s), PKT_OK);
	ck_assert(s.t_bit);
	ck_assert_uint_eq(s.src_port, 7);
	ck_assert_uint_eq(s.dst_port, 5000);
	ck_assert_uint_eq(s.vtag, 0xcafe);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_ABORT);
	ck_assert_uint_eq(s.nchunks, 1);
	ck_assert(pkt_sctp_checksum_ok(p, n));

	n = pkt_build_abort(p, sizeof(p), 7, 5000, 0xcafe, false, SCTP_CAUSE_PROTOCOL_VIOLATION);
	ck_assert_uint_eq(n, 20);
	ck_assert_int_eq(pkt_parse_sctp(p, n, &s), PKT_OK);
	ck_assert(!s.t_bit);
	ck_assert_uint_eq(rd16(p + 14), 8);  /* chunk length */
	ck_assert_uint_eq(rd16(p + 16), 13); /* cause code */
	ck_assert_uint_eq(rd16(p + 18), 4);  /* cause length */
	ck_assert(pkt_sctp_checksum_ok(p, n));

	ck_assert_uint_eq(pkt_build_abort(p, 19, 7, 5000, 1, false, 14), 0);
	ck_assert_uint_eq(pkt_build_abort(p, 15, 7, 5000, 1, false, 0), 0);
	ck_assert_uint_eq(pkt_build_abort(p, 16, 7, 5000, 1, false, 0), 16);
}
END_TEST

static uint16_t ones_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2)
		sum += rd16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

START_TEST(test_build_ipv4)
{
	struct gw_addr src = addr("192.0.2.1"), dst = addr("198.51.100.7"), v6 = addr("::1");
	uint8_t ref[PKTGEN_MAX];
	struct pkt_ip ip;
	size_t n, rn;

	n = make_data_sctp(buf + 20, 9);
	ck_assert_uint_eq(pkt_build_ipv4(buf, &src, &dst, 0xb8, 64, 132, n), 20);
	/* The header sums to 0xffff with its checksum: it verifies. */
	ck_assert_uint_eq(ones_sum(buf, 20), 0xffff);
	ck_assert_uint_ne(rd16(buf + 10), 0);
	ck_assert_int_eq(pkt_parse_ip(buf, n + 20, &ip), PKT_OK);
	ck_assert_uint_eq(ip.total_len, n + 20);
	ck_assert_uint_eq(ip.tos, 0xb8);
	ck_assert_uint_eq(ip.ttl, 64);
	ck_assert_uint_eq(ip.proto, 132);
	ck_assert(addr_equal(&ip.src, &src));
	ck_assert(addr_equal(&ip.dst, &dst));
	/* Same bytes as the independent test builder (DF, id 0, TTL 64). */
	rn = make_data_sctp(ref, 9);
	rn = pktgen_ipv4(ref, sizeof(ref), rn, "192.0.2.1", "198.51.100.7", 0xb8);
	ck_assert_uint_eq(rn, n + 20);
	ck_assert_mem_eq(buf, ref, rn);

	ck_assert_uint_eq(pkt_build_ipv4(buf, &src, &dst, 0, 64, 132, 65515), 20);
	ck_assert_uint_eq(ones_sum(buf, 20), 0xffff);
	ck_assert_uint_eq(pkt_build_ipv4(buf, &src, &dst, 0, 64, 132, 65516), 0);
	ck_assert_uint_eq(pkt_build_ipv4(buf, &src, &v6, 0, 64, 132, 10), 0);
}
END_TEST

START_TEST(test_build_ipv6)
{
	struct gw_addr src = addr("2001:db8::1"), dst = addr("fd00::7"), v4 = addr("10.0.0.1");
	uint8_t ref[PKTGEN_MAX];
	struct pkt_ip ip;
	struct pkt_sctp s;
	size_t n, rn;

	n = make_data_sctp(buf + 40, 9);
	ck_assert_uint_eq(pkt_build_ipv6(buf, &src, &dst, 0xb9, 64, 132, n), 40);
	ck_assert_int_eq(parse_all(buf, n + 40, &ip, &s), PKT_OK);
	ck_assert_uint_eq(ip.tos, 0xb9);
	ck_assert_uint_eq(ip.ttl, 64);
	ck_assert(addr_equal(&ip.src, &src));
	ck_assert(addr_equal(&ip.dst, &dst));
	rn = make_data_sctp(ref, 9);
	rn = pktgen_ipv6(ref, sizeof(ref), rn, "2001:db8::1", "fd00::7", 0xb9);
	ck_assert_mem_eq(buf, ref, rn);

	ck_assert_uint_eq(pkt_build_ipv6(buf, &src, &dst, 0, 64, 132, 65535), 40);
	ck_assert_uint_eq(pkt_build_ipv6(buf, &src, &dst, 0, 64, 132, 65536), 0);
	ck_assert_uint_eq(pkt_build_ipv6(buf, &v4, &dst, 0, 64, 132, 10), 0);
}
END_TEST

/* Find parameter type in the INIT / INIT-ACK chunk at p + 12; returns its offset in p. */
static size_t find_param(const uint8_t *p, uint16_t type)
{
	size_t clen = rd16(p + 14);

	for (size_t off = 20; off + 4 <= clen; off += (rd16(p + 12 + off + 2) + 3u) & ~3u)
		if (rd16(p + 12 + off) == type)
			return 12 + off;
	return 0;
}

START_TEST(test_strip_init)
{
	static const uint8_t sat[2] = { 0, 5 }; /* Supported Address Types: IPv4 */
	struct pktgen_chunk c = pktgen_init(0x77, 65536, 3, 4, 5, NULL, 0);
	struct pkt_sctp s;
	unsigned removed = 99;
	size_t n;
	int nl;

	/* v4, other (length 6, padded), v6, v4. */
	pktgen_add_addr(&c, "10.1.2.3");
	pktgen_add_param(&c, 12, sat, sizeof(sat));
	pktgen_add_addr(&c, "fd00::9");
	pktgen_add_addr(&c, "192.168.7.7");
	n = pktgen_sctp(buf, sizeof(buf), 5000, 7, 0, &c, 1);
	ck_assert_uint_eq(n, 12 + 20 + 8 + 8 + 20 + 8);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert_uint_eq(s.addr_params, 3);

	nl = pkt_sctp_strip_addr_params(buf, n, &removed);
	ck_assert_uint_eq(removed, 3);
	/* Chunk: 20 fixed + the 6-byte parameter, whose padding is now chunk padding. */
	ck_assert_int_eq(nl, 12 + 28);
	ck_assert_uint_eq(rd16(buf + 14), 26);
	ck_assert_uint_eq(rd16(buf + 32), 12);
	ck_assert_uint_eq(rd16(buf + 34), 6);
	ck_assert_mem_eq(buf + 36, sat, 2);
	ck_assert_uint_eq(buf[38] | buf[39], 0);
	ck_assert(!pkt_sctp_checksum_ok(buf, (size_t)nl));
	pkt_sctp_set_checksum(buf, (size_t)nl);
	ck_assert_int_eq(pkt_parse_sctp(buf, (size_t)nl, &s), PKT_OK);
	ck_assert_uint_eq(s.addr_params, 0);
	ck_assert_uint_eq(s.init_tag, 0x77);
	ck_assert_uint_eq(s.init_len, 26);
	ck_assert(pkt_sctp_checksum_ok(buf, (size_t)nl));

	/* Nothing left to remove: unchanged. */
	removed = 99;
	ck_assert_int_eq(pkt_sctp_strip_addr_params(buf, (size_t)nl, &removed), nl);
	ck_assert_uint_eq(removed, 0);
}
END_TEST

START_TEST(test_strip_only_addresses)
{
	struct pktgen_chunk c = pktgen_init(0x77, 65536, 3, 4, 5, two_v4_one_v6, 3);
	struct pkt_sctp s;
	unsigned removed;
	size_t n = pktgen_sctp(buf, sizeof(buf), 5000, 7, 0, &c, 1);
	int nl = pkt_sctp_strip_addr_params(buf, n, &removed);

	ck_assert_uint_eq(removed, 3);
	ck_assert_int_eq(nl, 32);
	ck_assert_uint_eq(rd16(buf + 14), 20);
	ck_assert_int_eq(pkt_parse_sctp(buf, (size_t)nl, &s), PKT_OK);
	ck_assert_uint_eq(s.addr_params, 0);
	/* removed may be NULL. */
	c = pktgen_init(0x77, 65536, 3, 4, 5, two_v4_one_v6, 2);
	n = pktgen_sctp(buf, sizeof(buf), 5000, 7, 0, &c, 1);
	ck_assert_int_eq(pkt_sctp_strip_addr_params(buf, n, NULL), 32);
}
END_TEST

START_TEST(test_strip_init_ack_keeps_cookie)
{
	static const char cookie[] = "a state cookie of odd length";
	struct pktgen_chunk c =
		pktgen_init_ack(0x99, 65536, 1, 1, 1, two_v4_one_v6, 3, cookie, sizeof(cookie));
	struct pkt_sctp s;
	unsigned removed;
	size_t n, off;
	int nl;

	pktgen_add_addr(&c, "10.9.9.9"); /* an address after the cookie, too */
	n = pktgen_sctp(buf, sizeof(buf), 7, 5000, 0x1234, &c, 1);
	ck_assert_int_eq(pkt_parse_sctp(buf, n, &s), PKT_OK);
	ck_assert_uint_eq(s.addr_params, 4);

	nl = pkt_sctp_strip_addr_params(buf, n, &removed);
	ck_assert_uint_eq(removed, 4);
	ck_assert_uint_eq(rd16(buf + 14), 20 + 4 + sizeof(cookie));
	ck_assert_int_eq(nl, 12 + ((20 + 4 + sizeof(cookie) + 3) & ~3u));
	off = find_param(buf, 7);
	ck_assert_uint_eq(off, 32);
	ck_assert_uint_eq(rd16(buf + off + 2), 4 + sizeof(cookie));
	ck_assert_mem_eq(buf + off + 4, cookie, sizeof(cookie));
	pkt_sctp_set_checksum(buf, (size_t)nl);
	ck_assert_int_eq(pkt_parse_sctp(buf, (size_t)nl, &s), PKT_OK);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_INIT_ACK);
	ck_assert_uint_eq(s.init_tag, 0x99);
	ck_assert_uint_eq(s.addr_params, 0);
	ck_assert(pkt_sctp_checksum_ok(buf, (size_t)nl));
}
END_TEST

START_TEST(test_strip_other_packets)
{
	size_t n = make_data_sctp(buf, 3);
	uint8_t copy[64];
	unsigned removed = 5;

	memcpy(copy, buf, n);
	ck_assert_int_eq(pkt_sctp_strip_addr_params(buf, n, &removed), (int)n);
	ck_assert_uint_eq(removed, 0);
	ck_assert_mem_eq(buf, copy, n);
	/* A malformed packet is reported, not touched. */
	buf[12 + 3] = 200;
	ck_assert_int_eq(pkt_sctp_strip_addr_params(buf, n, &removed), PKT_ERR_CHUNK_LEN);
}
END_TEST

START_TEST(test_strerror)
{
	for (int e = 0; e > -PKT_ERR_COUNT; e--) {
		const char *m = pkt_strerror(e);

		ck_assert_ptr_nonnull(m);
		ck_assert_str_ne(m, "unknown packet error");
		for (int f = 0; f > e; f--)
			ck_assert_str_ne(m, pkt_strerror(f));
	}
	ck_assert_str_eq(pkt_strerror(-PKT_ERR_COUNT), "unknown packet error");
	ck_assert_str_eq(pkt_strerror(1), "unknown packet error");
	ck_assert_str_eq(pkt_strerror(-1000), "unknown packet error");
}
END_TEST

static Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *parse = tcase_create("parse");
	TCase *cksum = tcase_create("checksum");
	TCase *build = tcase_create("build");

	tcase_add_test(parse, test_parse_ipv4_init);
	tcase_add_test(parse, test_parse_ipv6_data);
	tcase_add_test(parse, test_last_chunk_unpadded);
	tcase_add_test(parse, test_truncation_ipv4);
	tcase_add_test(parse, test_truncation_ipv6);
	tcase_add_test(parse, test_truncation_init_ack);
	tcase_add_test(parse, test_chunk_len_errors);
	tcase_add_test(parse, test_sctp_short_and_empty);
	tcase_add_test(parse, test_init_bundled);
	tcase_add_test(parse, test_init_vtag_and_tag0);
	tcase_add_test(parse, test_init_length_and_params);
	tcase_add_test(parse, test_zero_vtag);
	tcase_add_test(parse, test_port0);
	tcase_add_test(parse, test_ipv4_header_errors);
	tcase_add_test(parse, test_ipv4_options);
	tcase_add_test(parse, test_ipv4_fragments);
	tcase_add_test(parse, test_ipv6_ext_headers);
	tcase_add_test(parse, test_ipv6_fragment_header);
	tcase_add_test(parse, test_ipv6_errors);
	tcase_add_test(parse, test_strerror);
	suite_add_tcase(s, parse);

	tcase_add_test(cksum, test_checksum_roundtrip);
	tcase_add_test(cksum, test_checksum_known_packet);
	suite_add_tcase(s, cksum);

	tcase_add_test(build, test_build_abort);
	tcase_add_test(build, test_build_ipv4);
	tcase_add_test(build, test_build_ipv6);
	tcase_add_test(build, test_strip_init);
	tcase_add_test(build, test_strip_only_addresses);
	tcase_add_test(build, test_strip_init_ack_keeps_cookie);
	tcase_add_test(build, test_strip_other_packets);
	suite_add_tcase(s, build);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pkt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
