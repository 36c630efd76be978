/* test_xlate.c - the translation decisions, packet by packet, through whole associations. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"
#include "pktgen.h"
#include "xlate.h"

#define HEAD 64 /* headroom, as the daemon gives */

static struct gw_conf conf;
static struct assoc_table *tab;
static struct gw_stats st;
static struct xlate_ctx x;
static uint8_t buf[HEAD + PKTGEN_MAX];
static struct xlate_result res;

static const char *INSIDE = "10.0.0.2";
static const char *PEER = "203.0.113.2";

static void load_conf(const char *const *lines, unsigned n)
{
	struct conf_reader r;

	conf_read_init(&r, &conf, "test.conf");
	for (unsigned i = 0; i < n; i++)
		ck_assert_msg(conf_read_line(&r, lines[i]) == 0, "%s", r.err);
	ck_assert_msg(conf_read_finish(&r) == 0, "%s", r.err);
	if (tab)
		assoc_table_free(tab);
	tab = assoc_table_new(conf.max_assoc);
	ck_assert_ptr_nonnull(tab);
	memset(&st, 0, sizeof(st));
	x = (struct xlate_ctx){ .conf = &conf, .tab = tab, .st = &st };
}

static void setup_default(void)
{
	static const char *const lines[] = {
		"internal 10.0.0.0/24",
		"encapsulate to any",
		"forward port 7 to 10.0.0.5",
		"forward port 3868 to 10.0.0.6 port 13868",
	};
	load_conf(lines, 4);
}

static void teardown(void)
{
	assoc_table_free(tab);
	tab = NULL;
}

static struct gw_addr addr_of(const char *s)
{
	struct gw_addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

/* A native packet from src:sport to dst:dport, run through xlate_outbound. */
static void outbound(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		     uint32_t vtag, const struct pktgen_chunk *c, unsigned n, uint64_t now)
{
	uint8_t *p = buf + HEAD;
	size_t len = pktgen_sctp(p, PKTGEN_MAX, sport, dport, vtag, c, n);

	ck_assert_uint_gt(len, 0);
	len = strchr(src, ':') ? pktgen_ipv6(p, PKTGEN_MAX, len, src, dst, 0)
			       : pktgen_ipv4(p, PKTGEN_MAX, len, src, dst, 0);
	ck_assert_uint_gt(len, 0);
	xlate_outbound(&x, p, len, now, &res);
}

/* A UDP payload from peer:udp_port carrying sport -> dport SCTP. */
static void inbound(const char *peer, uint16_t udp_port, uint16_t sport, uint16_t dport,
		    uint32_t vtag, const struct pktgen_chunk *c, unsigned n, uint64_t now)
{
	struct gw_addr pa = addr_of(peer);
	size_t len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, sport, dport, vtag, c, n);

	ck_assert_uint_gt(len, 0);
	xlate_inbound(&x, &pa, udp_port, 0, buf + HEAD, len, now, &res);
}

/* A native packet from src:sport to the gateway's own dst:dport, run through
 * xlate_relay (what the raw socket or the input hook hands the daemon). */
static void relay(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint32_t vtag,
		  const struct pktgen_chunk *c, unsigned n, uint64_t now)
{
	uint8_t *p = buf + HEAD;
	size_t len = pktgen_sctp(p, PKTGEN_MAX, sport, dport, vtag, c, n);

	ck_assert_uint_gt(len, 0);
	len = strchr(src, ':') ? pktgen_ipv6(p, PKTGEN_MAX, len, src, dst, 0)
			       : pktgen_ipv4(p, PKTGEN_MAX, len, src, dst, 0);
	ck_assert_uint_gt(len, 0);
	xlate_relay(&x, p, len, now, &res);
}

static void assert_sctp_out_ok(void)
{
	struct pkt_sctp s;

	ck_assert_int_eq(pkt_parse_sctp(res.sctp, res.sctp_len, &s), PKT_OK);
	ck_assert(pkt_sctp_checksum_ok(res.sctp, res.sctp_len));
}

static uint16_t sctp_port(const uint8_t *p, int off)
{
	return (uint16_t)(p[off] << 8 | p[off + 1]);
}

/* Bring up 10.0.0.2:5000 <-> 203.0.113.2:7 with itag 0x1111, rtag 0x2222, the peer's NAT
 * giving it UDP port 40000. */
static struct assoc *establish(void)
{
	const char *addrs[] = { "10.0.0.2", "fd00::2" };
	struct pktgen_chunk c;
	struct assoc *a;

	c = pktgen_init(0x1111, 65536, 10, 10, 1, addrs, 2);
	outbound(INSIDE, 5000, PEER, 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert(res.created);
	a = res.assoc;
	ck_assert_int_eq(a->state, ASSOC_INIT);

	c = pktgen_init_ack(0x2222, 65536, 10, 10, 100, NULL, 0, "cookie", 6);
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 1010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(a->rtag, 0x2222);
	ck_assert_int_eq(a->state, ASSOC_COOKIE);

	c = pktgen_cookie_echo("cookie", 6);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 1020);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(res.udp_port, 40000);

	c = pktgen_cookie_ack();
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 1030);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_int_eq(a->state, ASSOC_ESTABLISHED);
	return a;
}

START_TEST(outbound_init_creates_and_strips_addresses)
{
	const char *addrs[] = { "10.0.0.2", "fd00::2" };
	struct pktgen_chunk c = pktgen_init(0xabcdef01, 65536, 10, 10, 1, addrs, 2);
	struct pkt_sctp s;
	struct gw_addr peer = addr_of(PEER);

	outbound(INSIDE, 5000, PEER, 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert(addr_equal(&res.peer, &peer));
	ck_assert_uint_eq(res.udp_port, 9899);
	ck_assert_int_eq(pkt_parse_sctp(res.sctp, res.sctp_len, &s), PKT_OK);
	ck_assert_uint_eq(s.addr_params, 0);
	ck_assert_uint_eq(s.init_tag, 0xabcdef01);
	ck_assert(pkt_sctp_checksum_ok(res.sctp, res.sctp_len));
	ck_assert_uint_eq(st.addr_params_removed, 2);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
	ck_assert_uint_eq(res.assoc->itag, 0xabcdef01);
	ck_assert_uint_eq(res.assoc->origin, ASSOC_FROM_INSIDE);

	/* The retransmitted INIT finds the same association. */
	c = pktgen_init(0xabcdef01, 65536, 10, 10, 1, NULL, 0);
	outbound(INSIDE, 5000, PEER, 7, 0, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert(!res.created);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
}
END_TEST

START_TEST(outbound_not_matching_rule_is_accepted)
{
	static const char *const lines[] = {
		"internal 10.0.0.0/24",
		"encapsulate to 198.51.100.0/24 remote-udp-port 10000",
	};
	struct pktgen_chunk c = pktgen_init(0x1234, 65536, 10, 10, 1, NULL, 0);

	load_conf(lines, 2);
	outbound(INSIDE, 5000, PEER, 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ACCEPT);
	ck_assert_uint_eq(assoc_table_count(tab), 0);

	outbound(INSIDE, 5000, "198.51.100.9", 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(res.udp_port, 10000);

	/* A T-bit ABORT with no association toward a claimed destination is dropped
	 * (nothing is re-learned from it). */
	c = pktgen_abort(true);
	outbound(INSIDE, 5001, "198.51.100.9", 7, 0x9999, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_NO_ASSOC);
	ck_assert_uint_eq(st.drops[DROP_OUT_NO_ASSOC], 1);
}
END_TEST

START_TEST(handshake_learns_tags_ports_and_state)
{
	struct assoc *a = establish();
	struct gw_addr peer = addr_of(PEER);
	struct pktgen_chunk c = pktgen_data(1, 0, 0, 0, "hello", 5);

	ck_assert_uint_eq(a->npaths, 1);
	ck_assert(addr_equal(&a->paths[0].addr, &peer));
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);
	ck_assert_uint_eq(st.port_changes, 1); /* 9899 default -> 40000 seen */

	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 1040);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert(addr_equal(&res.peer, &peer));
	{
		struct gw_addr inside = addr_of(INSIDE);
		ck_assert(addr_equal(&res.inner, &inside));
	}
	ck_assert_uint_eq(a->pkts_in, 3);
	ck_assert_uint_eq(a->pkts_out, 2);
}
END_TEST

START_TEST(wrong_tag_or_bad_crc_never_moves_port)
{
	struct assoc *a = establish();
	struct pktgen_chunk c = pktgen_data(1, 0, 0, 0, "x", 1);
	uint64_t changes = st.port_changes;

	inbound(PEER, 50000, 7, 5000, 0x1112, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_IN_NO_ASSOC);
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);

	/* The right tag with a corrupted checksum. */
	{
		struct gw_addr pa = addr_of(PEER);
		size_t len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 7, 5000, 0x1111, &c, 1);

		buf[HEAD + 8] ^= 0x01;
		xlate_inbound(&x, &pa, 50000, 0, buf + HEAD, len, 2000, &res);
	}
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_IN_BAD_CRC);
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);
	ck_assert_uint_eq(st.port_changes, changes);
}
END_TEST

START_TEST(nat_rebinding_is_followed)
{
	struct assoc *a = establish();
	struct pktgen_chunk c = pktgen_data(7, 0, 0, 0, "x", 1);

	inbound(PEER, 40123, 7, 5000, 0x1111, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert(res.port_changed);
	ck_assert_uint_eq(a->paths[0].udp_port, 40123);

	c = pktgen_sack(7, 65536);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 2010);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(res.udp_port, 40123);
}
END_TEST

START_TEST(zero_checksum_passes_but_teaches_nothing)
{
	struct assoc *a = establish();
	struct pktgen_chunk c = pktgen_data(7, 0, 0, 0, "x", 1);
	struct gw_addr pa = addr_of(PEER);
	size_t len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 7, 5000, 0x1111, &c, 1);

	memset(buf + HEAD + 8, 0, 4);
	xlate_inbound(&x, &pa, 41000, 0, buf + HEAD, len, 2000, &res);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);

	/* An INIT that cannot be verified creates nothing. */
	c = pktgen_init(0x5555, 65536, 10, 10, 1, NULL, 0);
	len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 9000, 7, 0, &c, 1);
	memset(buf + HEAD + 8, 0, 4);
	xlate_inbound(&x, &pa, 41000, 0, buf + HEAD, len, 2000, &res);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_IN_UNVERIFIED);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
}
END_TEST

START_TEST(abort_and_shutdown_close)
{
	struct assoc *a = establish();
	struct pktgen_chunk c = pktgen_abort(true);

	/* ABORT with the T bit from the peer carries the peer's own tag. */
	inbound(PEER, 40000, 7, 5000, 0x2222, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_int_eq(a->state, ASSOC_CLOSED);
	ck_assert_uint_eq(st.assoc_closed, 1);

	{
		struct assoc_timeouts to = { 3000, 210000, 3000, 3000 };

		ck_assert_uint_eq(assoc_expire(tab, &to, 2000 + 3000), 0);
		ck_assert_uint_eq(assoc_expire(tab, &to, 2000 + 3001), 1);
		ck_assert_uint_eq(assoc_table_count(tab), 0);
	}

	a = establish();
	c = pktgen_shutdown(10);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 3000);
	ck_assert_int_eq(a->state, ASSOC_SHUTDOWN);
	c = pktgen_shutdown_ack();
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 3010);
	ck_assert_int_eq(a->state, ASSOC_SHUTDOWN);
	c = pktgen_shutdown_complete(false);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 3020);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_int_eq(a->state, ASSOC_CLOSED);
}
END_TEST

START_TEST(outbound_t_bit_abort_uses_own_tag)
{
	struct assoc *a = establish();
	struct pktgen_chunk c = pktgen_abort(true);

	outbound(INSIDE, 5000, PEER, 7, 0x1111, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_int_eq(a->state, ASSOC_CLOSED);
}
END_TEST

START_TEST(inbound_init_forward_rule)
{
	struct pktgen_chunk c = pktgen_init(0x7777, 65536, 10, 10, 1, NULL, 0);
	struct gw_addr target = addr_of("10.0.0.6");
	struct assoc *a;

	/* Port 3868 goes to 10.0.0.6 port 13868: the destination port is rewritten. */
	inbound(PEER, 9899, 6000, 3868, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert(res.created);
	ck_assert(addr_equal(&res.inner, &target));
	ck_assert_uint_eq(sctp_port(res.sctp, 2), 13868);
	assert_sctp_out_ok();
	a = res.assoc;
	ck_assert_uint_eq(a->origin, ASSOC_FROM_OUTSIDE);
	ck_assert_uint_eq(a->seen_port, 3868);
	ck_assert_uint_eq(a->iport, 13868);
	ck_assert_uint_eq(a->rtag, 0x7777);

	/* The internal host answers from 13868; the peer must see 3868. */
	c = pktgen_init_ack(0x8888, 65536, 10, 10, 1, (const char *const[]){ "10.0.0.6" }, 1, "ck",
			    2);
	outbound("10.0.0.6", 13868, PEER, 6000, 0x7777, &c, 1, 1010);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(res.udp_port, 9899);
	ck_assert_uint_eq(sctp_port(res.sctp, 0), 3868);
	assert_sctp_out_ok();
	ck_assert_uint_eq(a->itag, 0x8888);
	{
		struct pkt_sctp s;

		pkt_parse_sctp(res.sctp, res.sctp_len, &s);
		ck_assert_uint_eq(s.addr_params, 0);
	}

	c = pktgen_cookie_echo("ck", 2);
	inbound(PEER, 9899, 6000, 3868, 0x8888, &c, 1, 1020);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, a);
	c = pktgen_cookie_ack();
	outbound("10.0.0.6", 13868, PEER, 6000, 0x7777, &c, 1, 1030);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_int_eq(a->state, ASSOC_ESTABLISHED);

	/* A retransmitted INIT finds the same association. */
	c = pktgen_init(0x7777, 65536, 10, 10, 1, NULL, 0);
	inbound(PEER, 9899, 6000, 3868, 0, &c, 1, 1040);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert(!res.created);
	ck_assert_uint_eq(assoc_table_count(tab), 1);

	/* Another peer with the same ports and initiate tag: a collision, refused with
	 * an ABORT, never mixed into this association. */
	inbound("198.51.100.50", 9899, 6000, 3868, 0, &c, 1, 1050);
	ck_assert_int_eq(res.verdict, XV_REPLY_UDP);
	ck_assert_uint_eq(st.drops[DROP_IN_TAG_COLLISION], 1);
	ck_assert_uint_eq(sctp_port(res.reply, 16), SCTP_CAUSE_VTAG_COLLISION);
	ck_assert_uint_eq(a->npaths, 1);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
}
END_TEST

START_TEST(inbound_init_without_rule_is_refused)
{
	struct pktgen_chunk c = pktgen_init(0x4444, 65536, 10, 10, 1, NULL, 0);
	struct pkt_sctp s;

	inbound(PEER, 9899, 6000, 22, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_REPLY_UDP);
	ck_assert_uint_eq(res.udp_port, 9899);
	ck_assert_uint_eq(st.drops[DROP_IN_NO_FORWARD], 1);
	ck_assert_int_eq(pkt_parse_sctp(res.reply, res.reply_len, &s), PKT_OK);
	ck_assert(pkt_has_chunk(&s, SCTP_CT_ABORT));
	ck_assert(!s.t_bit);
	ck_assert_uint_eq(s.vtag, 0x4444);
	ck_assert_uint_eq(s.src_port, 22);
	ck_assert_uint_eq(s.dst_port, 6000);
	ck_assert(pkt_sctp_checksum_ok(res.reply, res.reply_len));
	ck_assert_uint_eq(assoc_table_count(tab), 0);
}
END_TEST

START_TEST(init_from_new_port_for_live_association_is_aborted)
{
	struct pktgen_chunk c = pktgen_init(0x7777, 65536, 10, 10, 1, NULL, 0);
	struct assoc *a;
	struct pkt_sctp s;

	inbound(PEER, 9899, 6000, 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	a = res.assoc;
	inbound(PEER, 9900, 6000, 7, 0, &c, 1, 1010);
	ck_assert_int_eq(res.verdict, XV_REPLY_UDP);
	ck_assert_uint_eq(res.udp_port, 9900);
	ck_assert_uint_eq(st.drops[DROP_IN_INIT_PORT_CHANGE], 1);
	ck_assert_uint_eq(a->paths[0].udp_port, 9899);
	ck_assert_int_eq(pkt_parse_sctp(res.reply, res.reply_len, &s), PKT_OK);
	ck_assert(pkt_has_chunk(&s, SCTP_CT_ABORT));
	/* The cause code follows the chunk header: 14, as Linux sends. */
	ck_assert_uint_eq(sctp_port(res.reply, 16), SCTP_CAUSE_RESTART_NEW_ENCAPS_PORT);
}
END_TEST

START_TEST(multihomed_peer_gets_a_path_per_address)
{
	struct assoc *a = establish();
	struct pktgen_chunk c = pktgen_heartbeat("hb", 2);
	struct gw_addr second = addr_of("198.51.100.7");

	inbound("198.51.100.7", 41000, 7, 5000, 0x1111, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(a->npaths, 2);
	ck_assert(addr_equal(&a->paths[1].addr, &second));
	ck_assert_uint_eq(a->paths[1].udp_port, 41000);
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);

	c = pktgen_heartbeat_ack("hb", 2);
	outbound(INSIDE, 5000, "198.51.100.7", 7, 0x2222, &c, 1, 2010);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(res.udp_port, 41000);
	c = pktgen_sack(1, 65536);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 2020);
	ck_assert_uint_eq(res.udp_port, 40000);
}
END_TEST

START_TEST(malformed_inputs_are_counted)
{
	struct gw_addr pa = addr_of(PEER);
	struct pktgen_chunk c = pktgen_data(1, 0, 0, 0, "abcdefgh", 8);
	size_t len;

	memset(buf + HEAD, 0, 16);
	xlate_inbound(&x, &pa, 9899, 0, buf + HEAD, 11, 1000, &res);
	ck_assert_int_eq(res.reason, DROP_IN_SHORT);

	len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 7, 5000, 0x1111, &c, 1);
	xlate_inbound(&x, &pa, 9899, 0, buf + HEAD, len - 8, 1000, &res);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_IN_MALFORMED);
	ck_assert_int_ne(res.pkt_err, 0);

	/* A queued IPv4 header with a wrong total length. */
	len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 5000, 7, 0x1111, &c, 1);
	len = pktgen_ipv4(buf + HEAD, PKTGEN_MAX, len, INSIDE, PEER, 0);
	xlate_outbound(&x, buf + HEAD, len - 1, 1000, &res);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_MALFORMED);
	ck_assert_uint_eq(st.drops[DROP_IN_SHORT] + st.drops[DROP_IN_MALFORMED] +
				  st.drops[DROP_OUT_MALFORMED],
			  3);
}
END_TEST

START_TEST(table_full_is_counted_and_established_survive)
{
	static const char *const lines[] = {
		"internal 10.0.0.0/24",
		"encapsulate to any",
		"max-associations 1",
	};
	struct pktgen_chunk c;

	load_conf(lines, 3);
	establish();
	c = pktgen_init(0x3333, 65536, 10, 10, 1, NULL, 0);
	outbound(INSIDE, 5001, PEER, 7, 0, &c, 1, 999999);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_TABLE_FULL);
	ck_assert_uint_eq(st.drops[DROP_OUT_TABLE_FULL], 1);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
}
END_TEST

START_TEST(ipv6_association)
{
	static const char *const lines[] = {
		"internal fd00:1::/64",
		"encapsulate to 2001:db8::/32",
	};
	struct pktgen_chunk c =
		pktgen_init(0x6666, 65536, 10, 10, 1, (const char *const[]){ "fd00:1::2" }, 1);
	struct gw_addr peer = addr_of("2001:db8::9");

	load_conf(lines, 2);
	outbound("fd00:1::2", 5000, "2001:db8::9", 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert(addr_equal(&res.peer, &peer));
	assert_sctp_out_ok();
	c = pktgen_init_ack(0x9999, 65536, 10, 10, 1, NULL, 0, "c", 1);
	inbound("2001:db8::9", 55555, 7, 5000, 0x6666, &c, 1, 1010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_uint_eq(res.assoc->paths[0].udp_port, 55555);
}
END_TEST

START_TEST(port_collision_translates_the_later_association)
{
	struct assoc *a = establish(), *b;
	struct pktgen_chunk c = pktgen_init(0x5151, 65536, 10, 10, 1, NULL, 0);
	struct gw_addr second = addr_of("10.0.0.3");
	uint16_t seen;

	/* 10.0.0.3:5000 -> PEER:7 would look like a's association to the peer. */
	outbound("10.0.0.3", 5000, PEER, 7, 0, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert(res.created);
	b = res.assoc;
	ck_assert_ptr_ne(a, b);
	seen = b->seen_port;
	ck_assert_uint_ne(seen, 5000);
	ck_assert_uint_ge(seen, 49152);
	ck_assert_uint_eq(sctp_port(res.sctp, 0), seen);
	assert_sctp_out_ok();
	ck_assert_uint_eq(st.ports_translated, 1);

	/* Its retransmission keeps the same port. */
	outbound("10.0.0.3", 5000, PEER, 7, 0, &c, 1, 2100);
	ck_assert_ptr_eq(res.assoc, b);
	ck_assert_uint_eq(sctp_port(res.sctp, 0), seen);

	/* The peer answers to the translated port; the host gets its own port back. */
	c = pktgen_init_ack(0x6161, 65536, 10, 10, 1, NULL, 0, "k", 1);
	inbound(PEER, 40000, 7, seen, 0x5151, &c, 1, 2200);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, b);
	ck_assert(addr_equal(&res.inner, &second));
	ck_assert_uint_eq(sctp_port(res.sctp, 2), 5000);
	assert_sctp_out_ok();

	/* a is untouched: its packets still go both ways on port 5000. */
	c = pktgen_data(3, 0, 0, 0, "a", 1);
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 2300);
	ck_assert_ptr_eq(res.assoc, a);
	c = pktgen_sack(3, 65536);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 2310);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(sctp_port(res.sctp, 0), 5000);
	c = pktgen_data(1, 0, 0, 0, "b", 1);
	outbound("10.0.0.3", 5000, PEER, 7, 0x6161, &c, 1, 2320);
	ck_assert_ptr_eq(res.assoc, b);
	ck_assert_uint_eq(sctp_port(res.sctp, 0), seen);
	assert_sctp_out_ok();

	/* Another peer address, or the same host again, needs no translation. */
	c = pktgen_init(0x7171, 65536, 10, 10, 1, NULL, 0);
	outbound("10.0.0.4", 5000, "198.51.100.1", 7, 0, &c, 1, 2400);
	ck_assert_uint_eq(res.assoc->seen_port, 5000);
	ck_assert_uint_eq(st.ports_translated, 1);
}
END_TEST

START_TEST(init_flood_is_rate_limited_per_source_and_in_total)
{
	static const char *const lines[] = {
		"internal 10.0.0.0/24", "encapsulate to any",     "forward port 7 to 10.0.0.5",
		"init-rate 5",          "init-rate-per-source 2",
	};
	static struct xlate_outside_init_limit rl;
	struct pktgen_chunk c;
	char src[32];
	unsigned created = 0;

	load_conf(lines, 5);
	memset(&rl, 0, sizeof(rl));
	rl.seed = 1;
	x.outside_inits = &rl;
	establish(); /* from inside: not limited */

	/* One source: 2 per second get through, then nothing until tokens come back. */
	for (uint32_t i = 0; i < 10; i++) {
		c = pktgen_init(0x100 + i, 65536, 10, 10, 1, NULL, 0);
		inbound("198.51.100.1", 9899, (uint16_t)(6000 + i), 7, 0, &c, 1, 5000);
		created += res.verdict == XV_INJECT;
		if (res.verdict == XV_DROP)
			ck_assert_int_eq(res.reason, DROP_IN_INIT_RATE);
	}
	ck_assert_uint_eq(created, 2);
	ck_assert_uint_eq(st.drops[DROP_IN_INIT_RATE], 8);

	/* Many sources: the total budget (5 per second, 2 already spent) caps them. */
	created = 0;
	for (uint32_t i = 0; i < 20; i++) {
		snprintf(src, sizeof(src), "198.51.100.%u", 10 + i);
		c = pktgen_init(0x200 + i, 65536, 10, 10, 1, NULL, 0);
		inbound(src, 9899, 6000, 7, 0, &c, 1, 5000);
		created += res.verdict == XV_INJECT;
	}
	ck_assert_uint_eq(created, 3);

	/* A second later the budget is back. */
	c = pktgen_init(0x300, 65536, 10, 10, 1, NULL, 0);
	inbound("198.51.100.1", 9899, 7000, 7, 0, &c, 1, 6000);
	ck_assert_int_eq(res.verdict, XV_INJECT);

	/* Established associations are untouched by the flood. */
	c = pktgen_data(9, 0, 0, 0, "still", 5);
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 6001);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	x.outside_inits = NULL;
}
END_TEST

START_TEST(lost_associations_are_relearned_from_traffic)
{
	struct pktgen_chunk c = pktgen_data(5, 0, 0, 0, "after restart", 13);
	struct assoc *a;

	establish();
	/* The daemon restarted: the table is empty, the endpoints still talk. */
	assoc_remove(tab, assoc_next(tab, NULL));
	ck_assert_uint_eq(assoc_table_count(tab), 0);

	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 9000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	a = res.assoc;
	ck_assert_uint_eq(a->rtag, 0x2222);
	ck_assert_uint_eq(a->itag, 0);
	ck_assert_uint_eq(res.udp_port, 9899);
	ck_assert_uint_eq(st.assoc_relearned, 1);

	/* The association's own tag from another address of the internal host (a
	 * dual-stack host heartbeating the peer's other address) makes no phantom entry. */
	outbound("10.0.0.9", 5000, "198.51.100.2", 7, 0x2222, &c, 1, 9000);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_uint_eq(assoc_table_count(tab), 1);

	/* A forged tag for the same endpoints does not make a second entry. */
	outbound(INSIDE, 5000, PEER, 7, 0x3333, &c, 1, 9001);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_NO_ASSOC);

	/* The peer's answer fills in the other tag and its UDP port. */
	c = pktgen_sack(5, 65536);
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 9010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(a->itag, 0x1111);
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);
	inbound(PEER, 40000, 7, 5000, 0x4444, &c, 1, 9011);
	ck_assert_int_eq(res.reason, DROP_IN_NO_ASSOC);
	c = pktgen_data(6, 0, 0, 0, "x", 1);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 9020);
	ck_assert_uint_eq(res.udp_port, 40000);
	ck_assert_uint_eq(assoc_table_count(tab), 1);

	/* From outside through a forward rule, with port translation. */
	c = pktgen_data(1, 0, 0, 0, "y", 1);
	inbound(PEER, 9899, 6000, 3868, 0x8888, &c, 1, 9100);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	a = res.assoc;
	ck_assert_uint_eq(a->iport, 13868);
	ck_assert_uint_eq(sctp_port(res.sctp, 2), 13868);
	c = pktgen_sack(1, 65536);
	outbound("10.0.0.6", 13868, PEER, 6000, 0x7777, &c, 1, 9110);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(a->rtag, 0x7777);
	ck_assert_uint_eq(sctp_port(res.sctp, 0), 3868);
	ck_assert_uint_eq(st.assoc_relearned, 2);
}
END_TEST

/* Relay: internal hosts in 10.10.1.0/24 open associations to the gateway 10.10.1.1. */
static const char *HOST = "10.10.1.2";
static const char *GW = "10.10.1.1";
static const char *RPEER = "203.0.113.9";
static const char *RPEER6 = "2001:db8::9";

static void setup_relay(void)
{
	static const char *const lines[] = {
		"internal 10.10.1.0/24",
		"encapsulate to any",
		"relay port 3868 to 203.0.113.9 port 7 remote-udp-port 9900",
		"relay port 2905 to 2001:db8::9",
	};
	load_conf(lines, 4);
}

static void assert_addr(const struct gw_addr *got, const char *want)
{
	struct gw_addr a = addr_of(want);
	char text[GW_ADDRSTRLEN];

	ck_assert_msg(addr_equal(got, &a), "address %s, want %s",
		      addr_format(got, text, sizeof(text)), want);
}

/* res.sctp parses, its CRC32c verifies, and it goes from sport to dport. */
static struct pkt_sctp assert_relay_sctp(uint16_t sport, uint16_t dport)
{
	struct pkt_sctp s;

	ck_assert_int_eq(pkt_parse_sctp(res.sctp, res.sctp_len, &s), PKT_OK);
	ck_assert(pkt_sctp_checksum_ok(res.sctp, res.sctp_len));
	ck_assert_uint_eq(s.src_port, sport);
	ck_assert_uint_eq(s.dst_port, dport);
	return s;
}

/* The handshake of HOST:5000 -> GW:3868, relayed to RPEER:7 over UDP 9900, with itag
 * 0x1111 (the host's) and rtag 0x2222 (the peer's). */
static struct assoc *relay_establish(void)
{
	const char *addrs[] = { "10.10.1.2" };
	const char *peer_addrs[] = { "203.0.113.9" };
	struct pktgen_chunk c;
	struct pkt_sctp s;
	struct assoc *a;
	size_t in_len;

	setup_relay();
	c = pktgen_init(0x1111, 65536, 10, 10, 1, addrs, 1);
	relay(HOST, 5000, GW, 3868, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert(res.created);
	assert_addr(&res.peer, RPEER);
	ck_assert_uint_eq(res.udp_port, 9900);
	assert_addr(&res.inner, HOST);
	s = assert_relay_sctp(5000, 7);
	ck_assert_uint_eq(s.addr_params, 0); /* RFC 6951 5.7, as for any outbound INIT */
	ck_assert_uint_eq(s.init_tag, 0x1111);
	a = res.assoc;
	assert_addr(&a->relay_addr, GW);
	ck_assert_uint_eq(a->relay_port, 3868);
	assert_addr(&a->iaddr, HOST);
	ck_assert_uint_eq(a->iport, 5000);
	ck_assert_uint_eq(a->seen_port, 5000);
	ck_assert_uint_eq(a->rport, 7);
	ck_assert_uint_eq(a->itag, 0x1111);
	ck_assert_uint_eq(a->origin, ASSOC_FROM_INSIDE);
	ck_assert_int_eq(a->state, ASSOC_INIT);
	ck_assert_uint_eq(a->npaths, 1);
	assert_addr(&a->paths[0].addr, RPEER);
	ck_assert_uint_eq(a->paths[0].udp_port, 9900);
	ck_assert_uint_eq(st.assoc_created, 1);
	ck_assert_uint_eq(st.rule_hits.relay[0], 1);
	ck_assert_uint_eq(st.rule_hits.encap[0], 0);
	ck_assert_uint_eq(st.relay_ingested, 1);
	ck_assert_uint_eq(st.addr_params_removed, 1);

	/* The peer answers from its port 7 and lists its own address. */
	c = pktgen_init_ack(0x2222, 65536, 10, 10, 100, peer_addrs, 1, "cookie", 6);
	in_len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 7, 5000, 0x1111, &c, 1);
	inbound(RPEER, 9900, 7, 5000, 0x1111, &c, 1, 1010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, a);
	assert_addr(&res.from, GW); /* the host must see the address it addressed */
	assert_addr(&res.inner, HOST);
	assert_addr(&res.peer, RPEER);
	ck_assert_uint_eq(res.udp_port, 9900);
	s = assert_relay_sctp(3868, 5000);
	ck_assert_uint_eq(s.addr_params, 0);
	ck_assert_uint_eq(s.init_tag, 0x2222);
	ck_assert_uint_eq(res.sctp_len, in_len - 8); /* one IPv4 address parameter less */
	ck_assert_uint_eq(st.addr_params_removed, 2);
	ck_assert_uint_eq(a->rtag, 0x2222);
	ck_assert_int_eq(a->state, ASSOC_COOKIE);

	c = pktgen_cookie_echo("cookie", 6);
	relay(HOST, 5000, GW, 3868, 0x2222, &c, 1, 1020);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert(!res.created);
	ck_assert_uint_eq(res.udp_port, 9900);
	assert_relay_sctp(5000, 7);

	c = pktgen_cookie_ack();
	inbound(RPEER, 9900, 7, 5000, 0x1111, &c, 1, 1030);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	assert_addr(&res.from, GW);
	assert_relay_sctp(3868, 5000);
	ck_assert_int_eq(a->state, ASSOC_ESTABLISHED);
	ck_assert_uint_eq(st.assoc_created, 1);
	ck_assert_uint_eq(st.relay_ingested, 2);
	return a;
}

START_TEST(relay_carries_an_association_to_the_rule_target)
{
	struct assoc *a = relay_establish();
	struct pktgen_chunk c = pktgen_init(0x1111, 65536, 10, 10, 1, NULL, 0);

	/* A retransmitted INIT finds the same association. */
	relay(HOST, 5000, GW, 3868, 0, &c, 1, 1040);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert(!res.created);
	ck_assert_uint_eq(assoc_table_count(tab), 1);

	c = pktgen_data(1, 0, 0, 0, "hello", 5);
	relay(HOST, 5000, GW, 3868, 0x2222, &c, 1, 1050);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	assert_relay_sctp(5000, 7);
	c = pktgen_sack(1, 65536);
	inbound(RPEER, 9900, 7, 5000, 0x1111, &c, 1, 1060);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	assert_addr(&res.from, GW);
	assert_relay_sctp(3868, 5000);
	ck_assert_uint_eq(a->pkts_out, 4);
	ck_assert_uint_eq(a->pkts_in, 3);

	/* A wrong tag from the host matches nothing and creates nothing. */
	relay(HOST, 5000, GW, 3868, 0x3333, &c, 1, 1070);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_NO_ASSOC);
	ck_assert_uint_eq(assoc_table_count(tab), 1);

	/* A corrupted checksum is dropped before anything is looked up. */
	{
		size_t len = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 5000, 3868, 0x2222, &c, 1);

		buf[HEAD + 8] ^= 0x01;
		len = pktgen_ipv4(buf + HEAD, PKTGEN_MAX, len, HOST, GW, 0);
		xlate_relay(&x, buf + HEAD, len, 1080, &res);
	}
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_BAD_CRC);

	/* The shutdown closes it as any other association. */
	c = pktgen_shutdown(1);
	relay(HOST, 5000, GW, 3868, 0x2222, &c, 1, 1100);
	ck_assert_int_eq(a->state, ASSOC_SHUTDOWN);
	c = pktgen_shutdown_ack();
	inbound(RPEER, 9900, 7, 5000, 0x1111, &c, 1, 1110);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	assert_addr(&res.from, GW);
	c = pktgen_shutdown_complete(false);
	relay(HOST, 5000, GW, 3868, 0x2222, &c, 1, 1120);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	assert_relay_sctp(5000, 7);
	ck_assert_int_eq(a->state, ASSOC_CLOSED);
}
END_TEST

START_TEST(relay_from_outside_is_refused)
{
	struct pktgen_chunk c = pktgen_init(0x4444, 65536, 10, 10, 1, NULL, 0);

	/* internal 10.10.1.0/24 is configured: a host beyond it may not use the relay */
	setup_relay();
	relay("198.51.100.7", 5000, GW, 3868, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_RELAY_NOT_INTERNAL);
	ck_assert_uint_eq(st.drops[DROP_RELAY_NOT_INTERNAL], 1);
	ck_assert_uint_eq(st.relay_ingested, 0);
	ck_assert_uint_eq(assoc_table_count(tab), 0);
	/* an internal host may */
	relay(HOST, 5000, GW, 3868, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
}
END_TEST

START_TEST(relay_port_without_rule_is_accepted)
{
	struct pktgen_chunk c = pktgen_init(0x4444, 65536, 10, 10, 1, NULL, 0);

	setup_relay();
	relay(HOST, 5000, GW, 22, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ACCEPT);
	ck_assert_ptr_null(res.assoc);
	ck_assert_uint_eq(st.relay_no_rule, 1);
	ck_assert_uint_eq(st.relay_ingested, 0);
	ck_assert_uint_eq(assoc_table_count(tab), 0);

	/* The rule's target port (7) is not a relay port on the gateway either. */
	relay(HOST, 5000, GW, 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ACCEPT);
	ck_assert_uint_eq(st.relay_no_rule, 2);

	/* A claimed port: counted as ingested, not as a missing rule. */
	relay(HOST, 5000, GW, 3868, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(st.relay_no_rule, 2);
	ck_assert_uint_eq(st.relay_ingested, 1);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
}
END_TEST

START_TEST(relay_to_ipv6_peer_for_ipv4_host)
{
	const char *addrs[] = { "10.10.1.2", "fd00::2" };
	const char *peer_addrs[] = { "2001:db8::9", "203.0.113.99" };
	struct pktgen_chunk c = pktgen_init(0x5151, 65536, 10, 10, 1, addrs, 2);
	struct pkt_sctp s;
	struct assoc *a;

	setup_relay();
	relay(HOST, 5001, GW, 2905, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	assert_addr(&res.peer, RPEER6);
	ck_assert_uint_eq(res.udp_port, 9899);
	s = assert_relay_sctp(5001, 2905); /* Q defaults to P: the port stays */
	ck_assert_uint_eq(s.addr_params, 0);
	a = res.assoc;
	ck_assert_uint_eq(a->relay_port, 2905);
	assert_addr(&a->relay_addr, GW);
	ck_assert_uint_eq(st.rule_hits.relay[1], 1);

	c = pktgen_init_ack(0x6161, 65536, 10, 10, 1, peer_addrs, 2, "k", 1);
	inbound(RPEER6, 40000, 2905, 5001, 0x5151, &c, 1, 1010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, a);
	assert_addr(&res.from, GW);
	ck_assert_uint_eq(res.from.family, AF_INET);
	assert_addr(&res.inner, HOST);
	assert_addr(&res.peer, RPEER6);
	s = assert_relay_sctp(2905, 5001);
	ck_assert_uint_eq(s.addr_params, 0);
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);
	ck_assert_int_eq(a->state, ASSOC_COOKIE);

	c = pktgen_cookie_echo("k", 1);
	relay(HOST, 5001, GW, 2905, 0x6161, &c, 1, 1020);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(res.udp_port, 40000);
	c = pktgen_cookie_ack();
	inbound(RPEER6, 40000, 2905, 5001, 0x5151, &c, 1, 1030);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	assert_addr(&res.from, GW);
	ck_assert_int_eq(a->state, ASSOC_ESTABLISHED);
	ck_assert_uint_eq(st.drops[DROP_IN_FAMILY], 0);

	/* The same family mismatch without a relay is still refused: a plain association
	 * of this host hearing from an IPv6 address of its peer. */
	c = pktgen_init(0x7171, 65536, 10, 10, 1, NULL, 0);
	outbound(HOST, 6000, "198.51.100.1", 7, 0, &c, 1, 1040);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(res.assoc->relay_port, 0);
	c = pktgen_heartbeat("hb", 2);
	inbound("2001:db8::1", 9899, 7, 6000, 0x7171, &c, 1, 1050);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_IN_FAMILY);
}
END_TEST

START_TEST(relay_port_collision_translates_and_restores)
{
	struct assoc *a = relay_establish(), *b;
	struct pktgen_chunk c = pktgen_init(0x5252, 65536, 10, 10, 1, NULL, 0);
	uint16_t seen;

	/* A second host relayed from the same port to the same peer and port. */
	relay("10.10.1.3", 5000, GW, 3868, 0, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert(res.created);
	b = res.assoc;
	ck_assert_ptr_ne(a, b);
	seen = b->seen_port;
	ck_assert_uint_ne(seen, 5000);
	assert_relay_sctp(seen, 7);
	ck_assert_uint_eq(st.ports_translated, 1);

	c = pktgen_init_ack(0x6262, 65536, 10, 10, 1, NULL, 0, "k", 1);
	inbound(RPEER, 9900, 7, seen, 0x5252, &c, 1, 2010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, b);
	assert_addr(&res.inner, "10.10.1.3");
	assert_addr(&res.from, GW);
	assert_relay_sctp(3868, 5000); /* both ports restored in one rewrite */
}
END_TEST

START_TEST(relay_association_is_relearned)
{
	struct pktgen_chunk c = pktgen_data(5, 0, 0, 0, "after restart", 13);
	struct assoc *a;

	relay_establish();
	/* The daemon restarted: the table is empty, the endpoints still talk. */
	assoc_remove(tab, assoc_next(tab, NULL));
	ck_assert_uint_eq(assoc_table_count(tab), 0);

	relay(HOST, 5000, GW, 3868, 0x2222, &c, 1, 9000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	a = res.assoc;
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->state, ASSOC_ESTABLISHED);
	ck_assert_uint_eq(a->rtag, 0x2222);
	ck_assert_uint_eq(a->itag, 0);
	ck_assert_uint_eq(a->rport, 7);
	ck_assert_uint_eq(a->relay_port, 3868);
	assert_addr(&a->relay_addr, GW);
	assert_addr(&res.peer, RPEER);
	ck_assert_uint_eq(res.udp_port, 9900);
	assert_relay_sctp(5000, 7);
	ck_assert_uint_eq(st.assoc_relearned, 1);
	ck_assert_uint_eq(st.rule_hits.relay[0], 2);
	ck_assert_uint_eq(assoc_table_count(tab), 1);

	/* A forged tag for the same endpoints does not make a second entry. */
	relay(HOST, 5000, GW, 3868, 0x3333, &c, 1, 9001);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_NO_ASSOC);
	ck_assert_uint_eq(assoc_table_count(tab), 1);

	/* The peer's answer fills in the host's tag and is injected as from the gateway. */
	c = pktgen_sack(5, 65536);
	inbound(RPEER, 40001, 7, 5000, 0x1111, &c, 1, 9010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(a->itag, 0x1111);
	ck_assert_uint_eq(a->paths[0].udp_port, 40001);
	assert_addr(&res.from, GW);
	assert_relay_sctp(3868, 5000);
	c = pktgen_data(6, 0, 0, 0, "x", 1);
	relay(HOST, 5000, GW, 3868, 0x2222, &c, 1, 9020);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert_uint_eq(res.udp_port, 40001);
	ck_assert_uint_eq(st.assoc_relearned, 1);
}
END_TEST

START_TEST(inject_from_is_the_peer_without_relay)
{
	struct pktgen_chunk c = pktgen_data(1, 0, 0, 0, "x", 1);

	establish();
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	assert_addr(&res.from, PEER);
	ck_assert_uint_eq(res.assoc->relay_port, 0);
	ck_assert_uint_eq(sctp_port(res.sctp, 0), 7);
}
END_TEST

/* ---- multi-homed internal hosts ---- */

/* The host lists 10.0.0.2 and 10.0.0.3 (and one outside the internal networks, which
 * is not kept): packets from either find the association, the latest source is where
 * inbound packets go, and an address never listed finds nothing. */
START_TEST(multihomed_host_any_listed_address)
{
	const char *addrs[] = { "10.0.0.2", "10.0.0.3", "192.0.2.9" };
	struct gw_addr second = addr_of("10.0.0.3"), first = addr_of(INSIDE);
	struct pktgen_chunk c;
	struct assoc *a;

	c = pktgen_init(0x1111, 65536, 10, 10, 1, addrs, 3);
	outbound(INSIDE, 5000, PEER, 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	a = res.assoc;
	ck_assert_uint_eq(a->niaddrs, 2);
	ck_assert_uint_eq(st.addr_params_removed, 3); /* all stripped, whatever was kept */
	c = pktgen_init_ack(0x2222, 65536, 10, 10, 100, NULL, 0, "cookie", 6);
	inbound(PEER, 9899, 7, 5000, 0x1111, &c, 1, 1010);
	c = pktgen_cookie_echo("cookie", 6);
	outbound(INSIDE, 5000, PEER, 7, 0x2222, &c, 1, 1020);
	c = pktgen_cookie_ack();
	inbound(PEER, 9899, 7, 5000, 0x1111, &c, 1, 1030);
	ck_assert_int_eq(a->state, ASSOC_ESTABLISHED);
	ck_assert(addr_equal(&res.inner, &first));

	/* the host's first link fails: it sends from its second address */
	c = pktgen_data(2, 0, 0, 0, "x", 1);
	outbound("10.0.0.3", 5000, PEER, 7, 0x2222, &c, 1, 2000);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_ptr_eq(res.assoc, a);
	ck_assert(addr_equal(&a->iaddr, &second));
	c = pktgen_sack(2, 65536);
	inbound(PEER, 9899, 7, 5000, 0x1111, &c, 1, 2010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert(addr_equal(&res.inner, &second));

	/* an address it never listed: dropped, counted, nothing created */
	c = pktgen_data(3, 0, 0, 0, "y", 1);
	outbound("10.0.0.4", 5000, PEER, 7, 0x2222, &c, 1, 2100);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_OUT_UNLISTED_ADDR);
	ck_assert_uint_eq(st.drops[DROP_OUT_UNLISTED_ADDR], 1);
	ck_assert_uint_eq(assoc_table_count(tab), 1);
	/* nor does a wrong tag from a listed one move the address in use */
	outbound(INSIDE, 5000, PEER, 7, 0x9999, &c, 1, 2200);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert(addr_equal(&a->iaddr, &second));
}
END_TEST

/* Opened from outside: the host's INIT-ACK lists its addresses. */
START_TEST(multihomed_host_from_outside)
{
	const char *addrs[] = { "10.0.0.5", "10.0.0.15" };
	struct gw_addr second = addr_of("10.0.0.15");
	struct pktgen_chunk c;
	struct assoc *a;

	c = pktgen_init(0x5555, 65536, 10, 10, 1, NULL, 0);
	inbound(PEER, 9911, 40000, 7, 0, &c, 1, 1000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	a = res.assoc;
	c = pktgen_init_ack(0x6666, 65536, 10, 10, 100, addrs, 2, "cookie", 6);
	outbound("10.0.0.5", 7, PEER, 40000, 0x5555, &c, 1, 1010);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_uint_eq(a->niaddrs, 2);
	c = pktgen_data(1, 0, 0, 0, "z", 1);
	outbound("10.0.0.15", 7, PEER, 40000, 0x5555, &c, 1, 1100);
	ck_assert_int_eq(res.verdict, XV_ENCAP);
	ck_assert_ptr_eq(res.assoc, a);
	c = pktgen_sack(1, 65536);
	inbound(PEER, 9911, 40000, 7, 0x6666, &c, 1, 1110);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert(addr_equal(&res.inner, &second));
}
END_TEST

/* ---- keepalives ---- */

static const struct ka_key test_key = { 11, 22 };

/* The HEARTBEAT the gateway would send on path 0 of a at now, answered by the peer:
 * ports swapped, the host's tag. Returns the answer's length in buf + HEAD. */
static size_t keepalive_answer(struct assoc *a, uint64_t now)
{
	struct ka_binding b = { a->id, a->seen_port, a->rport, a->rtag };
	uint8_t hb[KA_HEARTBEAT_LEN];
	struct pktgen_chunk c;

	ck_assert_uint_eq(ka_build_heartbeat(hb, sizeof(hb), &test_key, &b, &a->paths[0].addr, now),
			  KA_HEARTBEAT_LEN);
	c = pktgen_heartbeat_ack(hb + 12 + 8, KA_INFO_LEN);
	return pktgen_sctp(buf + HEAD, PKTGEN_MAX, a->rport, a->seen_port, a->itag, &c, 1);
}

static void inbound_raw(const char *peer, uint16_t udp_port, size_t len, uint64_t now)
{
	struct gw_addr pa = addr_of(peer);

	xlate_inbound(&x, &pa, udp_port, 0, buf + HEAD, len, now, &res);
}

START_TEST(keepalive_answer_absorbed_and_counted)
{
	struct assoc *a;
	size_t n;

	x.ka_key = &test_key;
	a = establish();
	ck_assert_uint_eq(a->ka_interval_s, CONF_DEFAULT_KEEPALIVE);
	ck_assert_uint_eq(a->paths[0].last_out_ms, 1020); /* the COOKIE-ECHO */
	n = keepalive_answer(a, 20000);
	inbound_raw(PEER, 40000, n, 20030);
	ck_assert_int_eq(res.verdict, XV_ABSORBED);
	ck_assert_uint_eq(st.keepalives_answered, 1);
	ck_assert_uint_eq(a->paths[0].ka_answered, 1);
	ck_assert_uint_eq(a->paths[0].ka_rtt_ms, 30);
	ck_assert_uint_eq(st.in_pkts, 0);
	/* nothing of the endpoints' state changed, and the idle clock is theirs */
	ck_assert_int_eq(a->state, ASSOC_ESTABLISHED);
	ck_assert_uint_eq(a->last_ms, 1030);
	/* the same answer again: a replay */
	n = keepalive_answer(a, 20000);
	inbound_raw(PEER, 40000, n, 20040);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_IN_KEEPALIVE_REPLAYED);
	/* an older one than the newest taken: a replay too */
	n = keepalive_answer(a, 19000);
	inbound_raw(PEER, 40000, n, 20050);
	ck_assert_int_eq(res.reason, DROP_IN_KEEPALIVE_REPLAYED);
	/* a newer one is taken */
	n = keepalive_answer(a, 35000);
	inbound_raw(PEER, 40000, n, 35010);
	ck_assert_int_eq(res.verdict, XV_ABSORBED);
	ck_assert_uint_eq(a->paths[0].ka_answered, 2);
}
END_TEST

START_TEST(keepalive_forged_and_stale_dropped)
{
	struct assoc *a;
	size_t n;

	x.ka_key = &test_key;
	a = establish();
	n = keepalive_answer(a, 20000);
	buf[HEAD + n - 1] ^= 0x40; /* the MAC */
	pktgen_sctp_fix_crc(buf + HEAD, n);
	inbound_raw(PEER, 40000, n, 20030);
	ck_assert_int_eq(res.verdict, XV_DROP);
	ck_assert_int_eq(res.reason, DROP_IN_KEEPALIVE_FORGED);
	ck_assert_uint_eq(st.drops[DROP_IN_KEEPALIVE_FORGED], 1);
	/* a forged answer teaches nothing: not even a UDP port */
	n = keepalive_answer(a, 20000);
	buf[HEAD + n - 1] ^= 0x40;
	pktgen_sctp_fix_crc(buf + HEAD, n);
	inbound_raw(PEER, 40001, n, 20040);
	ck_assert_uint_eq(a->paths[0].udp_port, 40000);
	/* older than twice the interval and 30 s */
	n = keepalive_answer(a, 20000);
	inbound_raw(PEER, 40000, n, 20000 + (2 * 15 + 30) * 1000 + 1);
	ck_assert_int_eq(res.reason, DROP_IN_KEEPALIVE_STALE);
	ck_assert_uint_eq(st.keepalives_answered, 0);
}
END_TEST

/* Bundled with the peer's DATA: only the answer goes, the rest reaches the host. */
START_TEST(keepalive_answer_bundled)
{
	struct ka_binding b;
	uint8_t hb[KA_HEARTBEAT_LEN];
	struct pktgen_chunk c[2];
	struct pkt_sctp s;
	struct assoc *a;
	size_t n;

	x.ka_key = &test_key;
	a = establish();
	b = (struct ka_binding){ a->id, a->seen_port, a->rport, a->rtag };
	ka_build_heartbeat(hb, sizeof(hb), &test_key, &b, &a->paths[0].addr, 5000);
	c[0] = pktgen_heartbeat_ack(hb + 12 + 8, KA_INFO_LEN);
	c[1] = pktgen_data(7, 0, 0, 0, "data", 4);
	n = pktgen_sctp(buf + HEAD, PKTGEN_MAX, 7, 5000, 0x1111, c, 2);
	inbound_raw(PEER, 40000, n, 5010);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_uint_eq(st.keepalives_answered, 1);
	assert_sctp_out_ok();
	ck_assert_int_eq(pkt_parse_sctp(res.sctp, res.sctp_len, &s), PKT_OK);
	ck_assert_uint_eq(s.nchunks, 1);
	ck_assert_uint_eq(s.first_chunk, SCTP_CT_DATA);
}
END_TEST

/* The host's own heartbeats and their answers pass untouched. */
START_TEST(keepalive_hosts_heartbeats_pass)
{
	struct pktgen_chunk c = pktgen_heartbeat_ack("host's own info", 15);

	x.ka_key = &test_key;
	establish();
	inbound(PEER, 40000, 7, 5000, 0x1111, &c, 1, 5000);
	ck_assert_int_eq(res.verdict, XV_INJECT);
	ck_assert_uint_eq(st.keepalives_answered, 0);
	ck_assert_uint_eq(st.drops[DROP_IN_KEEPALIVE_FORGED], 0);
}
END_TEST

/* Each association takes its rule's interval; a reload's rules apply again. */
START_TEST(keepalive_interval_by_rule)
{
	static const char *const lines[] = {
		"internal 10.0.0.0/24",
		"keepalive 20",
		"encapsulate to 203.0.113.0/24 port 7 keepalive 4",
		"encapsulate to any",
		"forward port 7 to 10.0.0.5 keepalive 0",
	};
	static const char *const lines2[] = {
		"internal 10.0.0.0/24",
		"encapsulate to any keepalive 9",
		"forward port 7 to 10.0.0.5",
	};
	struct pktgen_chunk c;
	struct assoc *in7, *in9, *out;
	struct gw_conf c2;
	struct conf_reader r;

	load_conf(lines, 5);
	c = pktgen_init(0x1111, 65536, 10, 10, 1, NULL, 0);
	outbound(INSIDE, 5000, PEER, 7, 0, &c, 1, 1000);
	in7 = res.assoc;
	c = pktgen_init(0x3333, 65536, 10, 10, 1, NULL, 0);
	outbound(INSIDE, 5001, PEER, 9, 0, &c, 1, 1000);
	in9 = res.assoc;
	c = pktgen_init(0x5555, 65536, 10, 10, 1, NULL, 0);
	inbound(PEER, 9911, 40000, 7, 0, &c, 1, 1000);
	out = res.assoc;
	ck_assert_uint_eq(in7->ka_interval_s, 4);
	ck_assert_uint_eq(in9->ka_interval_s, 20);
	ck_assert_uint_eq(out->ka_interval_s, 0);
	conf_read_init(&r, &c2, "test2.conf");
	for (unsigned i = 0; i < 3; i++)
		ck_assert_msg(conf_read_line(&r, lines2[i]) == 0, "%s", r.err);
	ck_assert_int_eq(conf_read_finish(&r), 0);
	ck_assert_uint_eq(xlate_keepalive_of(&c2, in7), 9);
	ck_assert_uint_eq(xlate_keepalive_of(&c2, in9), 9);
	ck_assert_uint_eq(xlate_keepalive_of(&c2, out), CONF_DEFAULT_KEEPALIVE);
}
END_TEST

static Suite *xlate_suite(void)
{
	Suite *s = suite_create("xlate");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup_default, teardown);
	tcase_add_test(tc, outbound_init_creates_and_strips_addresses);
	tcase_add_test(tc, outbound_not_matching_rule_is_accepted);
	tcase_add_test(tc, handshake_learns_tags_ports_and_state);
	tcase_add_test(tc, wrong_tag_or_bad_crc_never_moves_port);
	tcase_add_test(tc, nat_rebinding_is_followed);
	tcase_add_test(tc, zero_checksum_passes_but_teaches_nothing);
	tcase_add_test(tc, abort_and_shutdown_close);
	tcase_add_test(tc, outbound_t_bit_abort_uses_own_tag);
	tcase_add_test(tc, inbound_init_forward_rule);
	tcase_add_test(tc, inbound_init_without_rule_is_refused);
	tcase_add_test(tc, init_from_new_port_for_live_association_is_aborted);
	tcase_add_test(tc, multihomed_peer_gets_a_path_per_address);
	tcase_add_test(tc, malformed_inputs_are_counted);
	tcase_add_test(tc, table_full_is_counted_and_established_survive);
	tcase_add_test(tc, ipv6_association);
	tcase_add_test(tc, port_collision_translates_the_later_association);
	tcase_add_test(tc, init_flood_is_rate_limited_per_source_and_in_total);
	tcase_add_test(tc, lost_associations_are_relearned_from_traffic);
	tcase_add_test(tc, relay_carries_an_association_to_the_rule_target);
	tcase_add_test(tc, relay_port_without_rule_is_accepted);
	tcase_add_test(tc, relay_from_outside_is_refused);
	tcase_add_test(tc, relay_to_ipv6_peer_for_ipv4_host);
	tcase_add_test(tc, relay_port_collision_translates_and_restores);
	tcase_add_test(tc, relay_association_is_relearned);
	tcase_add_test(tc, inject_from_is_the_peer_without_relay);
	tcase_add_test(tc, multihomed_host_any_listed_address);
	tcase_add_test(tc, multihomed_host_from_outside);
	tcase_add_test(tc, keepalive_answer_absorbed_and_counted);
	tcase_add_test(tc, keepalive_forged_and_stale_dropped);
	tcase_add_test(tc, keepalive_answer_bundled);
	tcase_add_test(tc, keepalive_hosts_heartbeats_pass);
	tcase_add_test(tc, keepalive_interval_by_rule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xlate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
