/* steer.c - the steering programs of several workers (see steer.h). Each forward or
 * relay rule that moves a port adds a few instructions; jumps are kept short (classic
 * BPF conditional jumps reach only 255 instructions) and long ones use "ja". */
#include <stdbool.h>

#include "steer.h"

#define INSN(c, jt, jf, k) ((struct sock_filter){ (c), (jt), (jf), (k) })
#define ACCEPT 0xffffffffu

size_t steer_udp_prog(const struct gw_conf *c, struct sock_filter *out)
{
	unsigned mask = steer_mask(c);
	size_t n = 0, jumps[CONF_MAX_FORWARD], nj = 0;

	out[n++] = INSN(BPF_LD | BPF_H | BPF_ABS, 0, 0, 2); /* A = destination port */
	/* A forward rule's port P stands for its target port Q, which the internal
	 * host's packets carry (and outbound packets are dispatched by). */
	for (unsigned i = 0; i < c->nforward; i++) {
		const struct conf_forward *f = &c->forward[i];

		if (!((f->port ^ f->to_port) & mask))
			continue;
		out[n++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, f->port);
		out[n++] = INSN(BPF_LD | BPF_IMM, 0, 0, f->to_port);
		jumps[nj++] = n;
		out[n++] = INSN(BPF_JMP | BPF_JA, 0, 0, 0);
	}
	for (size_t j = 0; j < nj; j++)
		out[jumps[j]].k = (uint32_t)(n - jumps[j] - 1);
	out[n++] = INSN(BPF_MISC | BPF_TAX, 0, 0, 0);
	out[n++] = INSN(BPF_LD | BPF_H | BPF_ABS, 0, 0, 0); /* A = source port */
	out[n++] = INSN(BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0);
	out[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
	out[n++] = INSN(BPF_RET | BPF_A, 0, 0, 0);
	return n;
}

size_t steer_raw_prog(const struct gw_conf *c, unsigned worker, bool v6, struct sock_filter *out)
{
	unsigned mask = steer_mask(c);
	size_t n = 0, jumps[CONF_MAX_RELAY], nj = 0;
	/* IPv4: ports after the IP header (X = its length); IPv6: at the start. */
	uint16_t ld = v6 ? BPF_LD | BPF_H | BPF_ABS : BPF_LD | BPF_H | BPF_IND;

	if (!v6)
		out[n++] = INSN(BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0);
	out[n++] = INSN(ld, 0, 0, 2); /* A = destination port */
	for (unsigned i = 0; i < c->nrelay; i++) {
		const struct conf_relay *rl = &c->relay[i];

		out[n++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 4, rl->port);
		out[n++] = INSN(ld, 0, 0, 0); /* A = source port */
		out[n++] = INSN(BPF_ALU | BPF_XOR | BPF_K, 0, 0, rl->to_port);
		out[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
		jumps[nj++] = n;
		out[n++] = INSN(BPF_JMP | BPF_JA, 0, 0, 0);
	}
	out[n++] = INSN(BPF_RET | BPF_K, 0, 0, worker == 0 ? ACCEPT : 0);
	for (size_t j = 0; j < nj; j++)
		out[jumps[j]].k = (uint32_t)(n - jumps[j] - 1);
	out[n++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, worker);
	out[n++] = INSN(BPF_RET | BPF_K, 0, 0, ACCEPT);
	out[n++] = INSN(BPF_RET | BPF_K, 0, 0, 0);
	return n;
}
