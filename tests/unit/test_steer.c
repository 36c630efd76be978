/* test_steer.c - the steering programs of several workers, run in a small classic BPF
 * interpreter: every program passes the kernel's structural checks, the UDP reuseport
 * program returns exactly steer_worker_of(), and each relay packet is accepted by exactly
 * one worker's raw-socket filter, the one its peer's answers are steered to. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "steer.h"
#include "xlate.h"

/* Room for the largest program, plus a guard that must stay untouched. */
#define GUARD 8
#define PROG_ROOM (STEER_MAX_INSNS + GUARD)
#define GUARD_CODE 0xdead

/* xorshift32: reproducible; failures print the ports they used. */
static uint32_t rng_state = 0x2545f491u;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint16_t rng_port(void)
{
	return (uint16_t)rng();
}

/* What bpf_check_classic() checks about the programs' shape: a length in 1..BPF_MAXINSNS,
 * only known opcodes, every jump landing inside the program, a RET last. */
static void check_valid(const struct sock_filter *p, size_t n, const char *what)
{
	ck_assert_msg(n >= 1 && n <= BPF_MAXINSNS && n <= STEER_MAX_INSNS, "%s: %zu instructions",
		      what, n);
	for (size_t i = n; i < PROG_ROOM; i++)
		ck_assert_msg(p[i].code == GUARD_CODE, "%s: wrote past its %zu instructions", what,
			      n);
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];

		switch (f->code) {
		case BPF_JMP | BPF_JA:
			ck_assert_msg(f->k < n - pc - 1, "%s: ja at %zu to %zu of %zu", what, pc,
				      pc + 1 + f->k, n);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			ck_assert_msg(pc + 1 + f->jt < n && pc + 1 + f->jf < n,
				      "%s: jeq at %zu (jt %u jf %u) of %zu", what, pc, f->jt, f->jf,
				      n);
			break;
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LDX | BPF_B | BPF_MSH:
		case BPF_LD | BPF_W | BPF_IMM:
		case BPF_MISC | BPF_TAX:
		case BPF_ALU | BPF_XOR | BPF_X:
		case BPF_ALU | BPF_XOR | BPF_K:
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_RET | BPF_K:
		case BPF_RET | BPF_A:
			break;
		default:
			ck_abort_msg("%s: opcode %#x at %zu", what, f->code, pc);
		}
	}
	ck_assert_msg(BPF_CLASS(p[n - 1].code) == BPF_RET, "%s: last is %#x", what, p[n - 1].code);
}

/* Only what the programs use. A load beyond the packet ends the program with 0, as in
 * the kernel. Programs are checked first, so jumps stay inside. */
static uint32_t bpf_run(const struct sock_filter *p, size_t n, const uint8_t *pkt, size_t len)
{
	uint32_t a = 0, x = 0;
	uint64_t off;

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];

		switch (f->code) {
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_H | BPF_IND:
			off = (uint64_t)f->k + (BPF_MODE(f->code) == BPF_IND ? x : 0);
			if (off + 2 > len)
				return 0;
			a = (uint32_t)pkt[off] << 8 | pkt[off + 1];
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (f->k >= len)
				return 0;
			x = (pkt[f->k] & 0xfu) * 4u;
			break;
		case BPF_LD | BPF_W | BPF_IMM:
			a = f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_ALU | BPF_XOR | BPF_X:
			a ^= x;
			break;
		case BPF_ALU | BPF_XOR | BPF_K:
			a ^= f->k;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		case BPF_RET | BPF_A:
			return a;
		default:
			ck_abort_msg("opcode %#x at %zu", f->code, pc);
		}
	}
	ck_abort_msg("ran past the end of a %zu-instruction program", n);
	return 0;
}

/* The self-test of the interpreter and checker: a wrong one would prove nothing. */
START_TEST(test_interpreter)
{
	static const uint8_t pkt[] = { 0x46, 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct sock_filter p[PROG_ROOM];
	size_t n = 0;

	for (size_t i = 0; i < PROG_ROOM; i++)
		p[i].code = GUARD_CODE;
	p[n++] = (struct sock_filter){ BPF_LD | BPF_H | BPF_ABS, 0, 0, 1 }; /* 0x1234 */
	p[n++] = (struct sock_filter){ BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0x1234 };
	p[n++] = (struct sock_filter){ BPF_RET | BPF_K, 0, 0, 1 };
	p[n++] = (struct sock_filter){ BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0 }; /* X = 24 */
	p[n++] = (struct sock_filter){ BPF_MISC | BPF_TAX, 0, 0, 0 };        /* X = 0x1234 */
	p[n++] = (struct sock_filter){ BPF_LD | BPF_W | BPF_IMM, 0, 0, 0xff00 };
	p[n++] = (struct sock_filter){ BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0 }; /* 0xed34 */
	p[n++] = (struct sock_filter){ BPF_ALU | BPF_XOR | BPF_K, 0, 0, 0x0f };
	p[n++] = (struct sock_filter){ BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xfff };
	p[n++] = (struct sock_filter){ BPF_JMP | BPF_JA, 0, 0, 1 };
	p[n++] = (struct sock_filter){ BPF_RET | BPF_K, 0, 0, 2 };
	p[n++] = (struct sock_filter){ BPF_RET | BPF_A, 0, 0, 0 };
	check_valid(p, n, "self-test");
	ck_assert_uint_eq(bpf_run(p, n, pkt, sizeof(pkt)), 0xd3b);
	ck_assert_uint_eq(bpf_run(p, n, pkt, 2), 0); /* the half word at 1 is cut */
	{
		static const uint8_t other[] = { 0x46, 0x12, 0x35 };

		ck_assert_uint_eq(bpf_run(p, n, other, sizeof(other)), 1);
	}

	/* Indirect loads: X = 4 * (IHL of byte 0) = 24, the packet has 6 bytes. */
	n = 0;
	p[n++] = (struct sock_filter){ BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0 };
	p[n++] = (struct sock_filter){ BPF_LD | BPF_H | BPF_IND, 0, 0, 0 };
	p[n++] = (struct sock_filter){ BPF_RET | BPF_K, 0, 0, 7 };
	for (size_t i = n; i < PROG_ROOM; i++)
		p[i].code = GUARD_CODE;
	check_valid(p, n, "self-test ind");
	ck_assert_uint_eq(bpf_run(p, n, pkt, sizeof(pkt)), 0);
	ck_assert_uint_eq(bpf_run(p, n, pkt, 0), 0);
	{
		uint8_t big[26] = { 0x46 };

		ck_assert_uint_eq(bpf_run(p, n, big, sizeof(big)), 7);
		ck_assert_uint_eq(bpf_run(p, n, big, 25), 0);
	}
}
END_TEST

static struct gw_conf *conf_new(unsigned queues)
{
	struct gw_conf *c = malloc(sizeof(*c));

	ck_assert_ptr_nonnull(c);
	conf_defaults(c);
	c->queue_count = (uint16_t)queues;
	return c;
}

static bool forwarded(const struct gw_conf *c, uint16_t port)
{
	return conf_match_forward(c, port) != NULL;
}

static bool relayed(const struct gw_conf *c, uint16_t port)
{
	return conf_match_relay(c, port) != NULL;
}

/* n forward rules on distinct ports: a third keep the port, a third change only bits
 * above any worker mask, a third change it at random (low bits too, mostly). */
static void add_forwards(struct gw_conf *c, unsigned n)
{
	struct gw_addr to;

	ck_assert_int_eq(addr_parse("10.0.0.1", &to), 0);
	while (c->nforward < n) {
		struct conf_forward *f = &c->forward[c->nforward];
		uint16_t port = rng_port();

		if (port == 0 || forwarded(c, port))
			continue;
		f->port = port;
		f->to = to;
		switch (c->nforward % 3) {
		case 0:
			f->to_port = port;
			break;
		case 1:
			f->to_port = (uint16_t)((port & 7) | (rng_port() & ~7u));
			break;
		default:
			f->to_port = rng_port();
		}
		if (f->to_port == 0)
			f->to_port = port;
		f->line = c->nforward + 1;
		c->nforward++;
	}
}

static void add_relays(struct gw_conf *c, unsigned n)
{
	struct gw_addr to;

	ck_assert_int_eq(addr_parse("203.0.113.9", &to), 0);
	while (c->nrelay < n) {
		struct conf_relay *rl = &c->relay[c->nrelay];
		uint16_t port = rng_port();

		if (port == 0 || relayed(c, port))
			continue;
		rl->port = port;
		rl->to = to;
		rl->to_port = c->nrelay % 4 == 0 ? port : rng_port();
		if (rl->to_port == 0)
			rl->to_port = port;
		rl->remote_udp_port = CONF_DEFAULT_UDP_PORT;
		rl->line = c->nrelay + 1;
		c->nrelay++;
	}
}

static size_t build_udp(const struct gw_conf *c, struct sock_filter *p)
{
	size_t n;

	for (size_t i = 0; i < PROG_ROOM; i++)
		p[i].code = GUARD_CODE;
	n = steer_udp_prog(c, p);
	check_valid(p, n, "udp");
	return n;
}

static size_t build_raw(const struct gw_conf *c, unsigned worker, bool v6, struct sock_filter *p)
{
	size_t n;

	for (size_t i = 0; i < PROG_ROOM; i++)
		p[i].code = GUARD_CODE;
	n = steer_raw_prog(c, worker, v6, p);
	check_valid(p, n, v6 ? "raw v6" : "raw v4");
	return n;
}

/* An SCTP common header: ports, then a random tag and checksum. */
static void put_sctp(uint8_t *s, uint16_t sport, uint16_t dport)
{
	uint32_t vtag = rng(), sum = rng();

	s[0] = (uint8_t)(sport >> 8);
	s[1] = (uint8_t)sport;
	s[2] = (uint8_t)(dport >> 8);
	s[3] = (uint8_t)dport;
	memcpy(s + 4, &vtag, 4);
	memcpy(s + 8, &sum, 4);
}

static uint32_t run_udp(const struct sock_filter *p, size_t n, uint16_t sport, uint16_t dport)
{
	uint8_t s[12];

	put_sctp(s, sport, dport);
	return bpf_run(p, n, s, sizeof(s));
}

static void expect_udp(const struct gw_conf *c, const struct sock_filter *p, size_t n,
		       unsigned nfwd, uint16_t sport, uint16_t dport)
{
	unsigned want = steer_worker_of(c, dport, sport);
	uint32_t got = run_udp(p, n, sport, dport);

	if (got != want)
		ck_abort_msg("udp: %u queues, %u forward rules (%s): src %u dst %u: "
			     "steer_worker_of %u, program %u",
			     c->queue_count, nfwd,
			     forwarded(c, dport) ? "dst forwarded" : "dst not forwarded", sport,
			     dport, want, got);
}

START_TEST(test_udp_matches_xlate)
{
	static const unsigned queues[] = { 1, 2, 4, 8 };
	static const unsigned nfwd[] = { 0, 1, 3, 17, CONF_MAX_FORWARD };
	struct sock_filter p[PROG_ROOM];

	for (size_t qi = 0; qi < sizeof(queues) / sizeof(queues[0]); qi++) {
		for (size_t fi = 0; fi < sizeof(nfwd) / sizeof(nfwd[0]); fi++) {
			struct gw_conf *c = conf_new(queues[qi]);
			size_t n;

			add_forwards(c, nfwd[fi]);
			n = build_udp(c, p);
			for (unsigned i = 0; i < 100000; i++) {
				uint16_t sport = rng_port(), dport = rng_port();

				/* Half the time a forwarded port, when there are some. */
				if (c->nforward && (i & 1))
					dport = c->forward[rng() % c->nforward].port;
				expect_udp(c, p, n, nfwd[fi], sport, dport);
			}
			for (unsigned i = 0; i < c->nforward; i++) {
				const struct conf_forward *f = &c->forward[i];

				for (unsigned s = 0; s < 16; s++)
					expect_udp(c, p, n, nfwd[fi], (uint16_t)s, f->port);
				expect_udp(c, p, n, nfwd[fi], 65535, f->port);
				/* Q itself, when no rule owns it, is not translated. */
				expect_udp(c, p, n, nfwd[fi], rng_port(), f->to_port);
			}
			free(c);
		}
	}
}
END_TEST

/* A datagram too short to hold both ports goes to socket 0 (the kernel's answer to a
 * load past the end); one that holds them is steered whatever follows. */
START_TEST(test_udp_short)
{
	struct gw_conf *c = conf_new(8);
	struct sock_filter p[PROG_ROOM];
	uint8_t s[12];
	size_t n;

	add_forwards(c, 40);
	n = build_udp(c, p);
	for (unsigned i = 0; i < 1000; i++) {
		uint16_t sport = rng_port(), dport = c->forward[i % c->nforward].port;

		put_sctp(s, sport, dport);
		for (size_t len = 0; len <= sizeof(s); len++) {
			uint32_t got = bpf_run(p, n, s, len);

			if (len < 4)
				ck_assert_uint_eq(got, 0);
			else
				ck_assert_uint_eq(got, steer_worker_of(c, dport, sport));
		}
	}
	free(c);
}
END_TEST

/* A packet as a raw socket delivers it: IPv4 from its header (IHL words, random header
 * bytes, so option bytes that look like ports mislead), IPv6 from the SCTP header. */
static size_t mk_raw(uint8_t *buf, unsigned ihl, bool v6, uint16_t sport, uint16_t dport)
{
	size_t hl = v6 ? 0 : ihl * 4u;

	for (size_t i = 0; i < hl; i++)
		buf[i] = (uint8_t)rng();
	if (!v6)
		buf[0] = (uint8_t)(0x40 | ihl);
	put_sctp(buf + hl, sport, dport);
	return hl + 12;
}

struct raw_progs {
	size_t n[CONF_MAX_WORKERS];
	struct sock_filter p[CONF_MAX_WORKERS][PROG_ROOM];
};

/* Bit w set when worker w's filter accepts the packet. */
static unsigned accepted_by(const struct gw_conf *c, const struct raw_progs *rp, const uint8_t *pkt,
			    size_t len)
{
	unsigned set = 0;

	for (unsigned w = 0; w < c->queue_count; w++) {
		if (bpf_run(rp->p[w], rp->n[w], pkt, len))
			set |= 1u << w;
	}
	return set;
}

static void expect_raw(const struct gw_conf *c, const struct raw_progs *rp, unsigned ihl, bool v6,
		       uint16_t sport, uint16_t dport)
{
	const struct conf_relay *rl = conf_match_relay(c, dport);
	unsigned want = 0, got;
	uint8_t pkt[60 + 12];
	size_t len = mk_raw(pkt, ihl, v6, sport, dport);
	char rule[32] = "not relayed";

	if (rl) {
		want = (sport ^ rl->to_port) & (c->queue_count - 1u);
		snprintf(rule, sizeof(rule), "relayed to port %u", rl->to_port);
	}
	got = accepted_by(c, rp, pkt, len);
	if (got != 1u << want)
		ck_abort_msg("raw %s (IHL %u): %u queues, %u relay rules: src %u dst %u (%s): "
			     "want worker %u only, accepted by workers mask %#x",
			     v6 ? "v6" : "v4", v6 ? 0 : ihl, c->queue_count, c->nrelay, sport,
			     dport, rule, want, got);
	/* The peer's answers (from Q to S) are steered to the same worker. */
	if (rl && !forwarded(c, sport))
		ck_assert_uint_eq(steer_worker_of(c, sport, rl->to_port), want);
}

static void raw_case(unsigned queues, unsigned nrelay, struct raw_progs *rp)
{
	struct gw_conf *c = conf_new(queues);

	add_relays(c, nrelay);
	for (unsigned v = 0; v < 2; v++) {
		bool v6 = v;

		for (unsigned w = 0; w < queues; w++)
			rp->n[w] = build_raw(c, w, v6, rp->p[w]);
		for (unsigned ihl = 5; ihl <= (v6 ? 5u : 15u); ihl++) {
			for (unsigned i = 0; i < c->nrelay; i++) {
				const struct conf_relay *rl = &c->relay[i];

				expect_raw(c, rp, ihl, v6, 0, rl->port);
				expect_raw(c, rp, ihl, v6, 65535, rl->port);
				expect_raw(c, rp, ihl, v6, rl->to_port, rl->port);
				for (unsigned s = 0; s < 3; s++)
					expect_raw(c, rp, ihl, v6, rng_port(), rl->port);
			}
			for (unsigned i = 0; i < 200; i++) {
				uint16_t dport = rng_port();

				if (!relayed(c, dport))
					expect_raw(c, rp, ihl, v6, rng_port(), dport);
			}
		}
	}
	free(c);
}

START_TEST(test_raw_one_worker)
{
	static const unsigned queues[] = { 1, 2, 4, 8 };
	static const unsigned nrelay[] = { 0, 1, 2, 5, 17, 100, 255, CONF_MAX_RELAY };
	struct raw_progs *rp = malloc(sizeof(*rp));

	ck_assert_ptr_nonnull(rp);
	for (size_t qi = 0; qi < sizeof(queues) / sizeof(queues[0]); qi++) {
		for (size_t ri = 0; ri < sizeof(nrelay) / sizeof(nrelay[0]); ri++)
			raw_case(queues[qi], nrelay[ri], rp);
	}
	free(rp);
}
END_TEST

/* Cut before the destination port is whole: no worker takes it, none reads past it. */
START_TEST(test_raw_short)
{
	struct gw_conf *c = conf_new(4);
	struct raw_progs *rp = malloc(sizeof(*rp));
	uint8_t pkt[60 + 12];

	ck_assert_ptr_nonnull(rp);
	add_relays(c, 30);
	for (unsigned v = 0; v < 2; v++) {
		bool v6 = v;

		for (unsigned w = 0; w < c->queue_count; w++)
			rp->n[w] = build_raw(c, w, v6, rp->p[w]);
		for (unsigned ihl = 5; ihl <= (v6 ? 5u : 15u); ihl++) {
			for (unsigned i = 0; i < 60; i++) {
				/* Every other one to a relay port, the rest probably not. */
				uint16_t dport = i & 1 ? c->relay[i % c->nrelay].port : rng_port();
				size_t len = mk_raw(pkt, ihl, v6, rng_port(), dport);

				for (size_t cut = 0; cut < len - 8; cut++)
					ck_assert_msg(accepted_by(c, rp, pkt, cut) == 0,
						      "%s IHL %u dst %u cut to %zu accepted",
						      v6 ? "v6" : "v4", ihl, dport, cut);
				/* With the ports there, one worker takes it. */
				ck_assert_uint_eq(
					__builtin_popcount(accepted_by(c, rp, pkt, len - 8)), 1);
			}
		}
	}
	free(rp);
	free(c);
}
END_TEST

static void read_lines(struct gw_conf *c, const char *const *lines)
{
	struct conf_reader r;

	conf_read_init(&r, c, "steer.conf");
	for (; *lines; lines++)
		ck_assert_msg(conf_read_line(&r, *lines) == 0, "%s", r.err);
	ck_assert_msg(conf_read_finish(&r) == 0, "%s", r.err);
}

/* A parsed configuration, with the expected workers worked out by hand (not through
 * steer_worker_of, which the other tests trust). */
START_TEST(test_parsed_conf)
{
	static const char *const lines[] = {
		"queue 0-3",
		"internal 10.0.0.0/8",
		"encapsulate to any",
		"forward port 3868 to 10.0.0.1 port 3869",
		"forward port 2905 to 10.0.0.2",
		"forward port 3869 to 10.0.0.3 port 3870",
		"relay port 7 to 203.0.113.9 port 8",
		"relay port 9 to 203.0.113.9",
		NULL,
	};
	struct gw_conf *c = malloc(sizeof(*c));
	struct raw_progs *rp = malloc(sizeof(*rp));
	struct sock_filter p[PROG_ROOM];
	uint8_t pkt[60 + 12];
	size_t n, len;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(rp);
	read_lines(c, lines);
	ck_assert_uint_eq(c->queue_count, 4);

	n = build_udp(c, p);
	/* 5000 = 0b...00: to 3868 is to 3869 (0b...01), worker 1; 3868 itself would be 0,
	 * and 3869's own rule (to 3870 = 0b...10) is not followed a second time. */
	ck_assert_uint_eq(run_udp(p, n, 5000, 3868), 1);
	ck_assert_uint_eq(run_udp(p, n, 5000, 3869), 2);
	ck_assert_uint_eq(run_udp(p, n, 5001, 3868), 0);
	ck_assert_uint_eq(run_udp(p, n, 5002, 3868), 3);
	ck_assert_uint_eq(run_udp(p, n, 5000, 2905), 1); /* 2905 = 0b...01, kept */
	ck_assert_uint_eq(run_udp(p, n, 5003, 2905), 2);
	ck_assert_uint_eq(run_udp(p, n, 5003, 3870), 1); /* no rule: 0b10 ^ 0b11 */

	for (unsigned v = 0; v < 2; v++) {
		bool v6 = v;

		for (unsigned w = 0; w < 4; w++)
			rp->n[w] = build_raw(c, w, v6, rp->p[w]);
		/* To port 7 from 5001: (5001 ^ 8) & 3 = 1 (with 7 instead of 8 it would be 2). */
		len = mk_raw(pkt, 5, v6, 5001, 7);
		ck_assert_uint_eq(accepted_by(c, rp, pkt, len), 1u << 1);
		len = mk_raw(pkt, 7, v6, 5002, 7);
		ck_assert_uint_eq(accepted_by(c, rp, pkt, len), 1u << 2);
		/* To port 9 (Q = 9 = 0b01) from 5000: worker 1. */
		len = mk_raw(pkt, 15, v6, 5000, 9);
		ck_assert_uint_eq(accepted_by(c, rp, pkt, len), 1u << 1);
		/* Not a relay port (a forward port is not one either): worker 0 only. */
		len = mk_raw(pkt, 5, v6, 5003, 3868);
		ck_assert_uint_eq(accepted_by(c, rp, pkt, len), 1u << 0);
		len = mk_raw(pkt, 5, v6, 5003, 8);
		ck_assert_uint_eq(accepted_by(c, rp, pkt, len), 1u << 0);
	}
	free(rp);
	free(c);
}
END_TEST

/* The largest configurations fit the room the callers give. */
START_TEST(test_max_rules)
{
	struct gw_conf *c = conf_new(8);
	struct sock_filter p[PROG_ROOM];

	add_forwards(c, CONF_MAX_FORWARD);
	add_relays(c, CONF_MAX_RELAY);
	/* Every forward rule moving the low bits: the longest UDP program. */
	for (unsigned i = 0; i < c->nforward; i++)
		c->forward[i].to_port = (uint16_t)(c->forward[i].port ^ 1);
	build_udp(c, p);
	for (unsigned w = 0; w < c->queue_count; w++) {
		build_raw(c, w, false, p);
		build_raw(c, w, true, p);
	}
	free(c);
}
END_TEST

static Suite *steer_suite(void)
{
	Suite *s = suite_create("steer");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_interpreter);
	tcase_add_test(tc, test_udp_matches_xlate);
	tcase_add_test(tc, test_udp_short);
	tcase_add_test(tc, test_raw_one_worker);
	tcase_add_test(tc, test_raw_short);
	tcase_add_test(tc, test_parsed_conf);
	tcase_add_test(tc, test_max_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(steer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
