/* nft.c - the daemon's nftables table, built and removed as atomic libnftnl batches.
 *
 * The only nftables code of the daemon. Every message in a batch asks for an ACK; the
 * kernel answers the whole batch while still inside our sendto(), so after sending we read
 * until the socket is empty and match every ACK / error to its message by sequence number.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/rtnetlink.h>

#include "nft.h"
#include "steer.h"

#define NFT_FAMILY NFPROTO_INET
#define NFT_FAMILY_NAME "inet"
#define NFT_CHAIN_ROUTER "prerouting_sctp" /* router mode: internal hosts' SCTP */
#define NFT_CHAIN_OUTPUT "output_sctp"     /* host mode: this host's own SCTP */
#define NFT_CHAIN_INPUT "input_sctp"       /* relay mode, queue ingest: SCTP to relay ports */
#define NFT_CHAIN_FRAG "frag_mark"         /* IPv6 SCTP fragments, before reassembly */
#define NFT_CHAIN_ICMP "output_icmp"       /* this host's ICMP errors about injected SCTP */
#define NFT_CHAIN_DISPATCH "dispatch"      /* several workers: which queue takes a packet */
#define NFT_CHAIN_RELAY_DISPATCH "relay_dispatch_" /* ... for relay rules, by Q's bits */
#define NFT_TABLE_COMMENT "managed by sctp-udp-gw, do not touch"
/*
 * Mangle priority (-150): after defragmentation (-400) and conntrack (-200), and before the
 * usual filter chains (0), so the gateway takes internal SCTP even where a filter would
 * drop protocol 132 it was never meant to route natively. Packets we re-inject with
 * NF_ACCEPT still go through every later chain, so the admin's filter keeps the last word.
 */
#define NFT_CHAIN_PRIO -150
/* Before defragmentation (-400): the chain that marks IPv6 fragments sees them whole. */
#define NFT_CHAIN_PRIO_FRAG -450
#define NFT_IPPROTO_SCTP 132
#define NFT_IPPROTO_ICMP 1
#define NFT_IPPROTO_ICMPV6 58
#define NFT_IPPROTO_FRAGMENT 44

/* Begin, end, table create / delete / create, five chains, one rule per internal prefix,
 * one for host mode, one per relay port, the fragment rule, the ICMP chain's (one per
 * internal prefix and eight); with workers the dispatch chains and their rules (workers^2
 * + workers^2). */
#define NFT_MAX_MSGS                                                                             \
	(2 * CONF_MAX_INTERNAL + CONF_MAX_RELAY + 24 + 2 * CONF_MAX_WORKERS * CONF_MAX_WORKERS + \
	 3 * CONF_MAX_WORKERS + 2)
#define NFT_BATCH_LIMIT (256 * 1024)
#define NFT_WHAT_LEN 80

struct nft_batch {
	struct mnl_nlmsg_batch *b;
	uint32_t seq0;  /* sequence number of the BATCH_BEGIN message */
	unsigned nmsgs; /* messages so far, begin and end included */
	bool overflow;
	unsigned nqueue; /* rules with a queue verdict */
	bool acked[NFT_MAX_MSGS];
	bool is_rule[NFT_MAX_MSGS];
	int error[NFT_MAX_MSGS]; /* errno the kernel reported for each message, 0 = none */
	char what[NFT_MAX_MSGS][NFT_WHAT_LEN];
	char buf[2 * NFT_BATCH_LIMIT]; /* mnl_nlmsg_batch needs room for one overrun */
};

const char *nft_queue_kind_name(enum nft_queue_kind k)
{
	switch (k) {
	case NFT_QUEUE_NATIVE:
		return "nft queue";
	case NFT_QUEUE_XT_COMPAT:
		return "xt NFQUEUE via nft_compat";
	case NFT_QUEUE_NONE:
		return "none (nothing to queue)";
	}
	return "unknown";
}

static struct nft_batch *nft_batch_new(void)
{
	struct nft_batch *nb = calloc(1, sizeof(*nb));

	if (!nb)
		return NULL;
	nb->b = mnl_nlmsg_batch_start(nb->buf, NFT_BATCH_LIMIT);
	if (!nb->b) {
		free(nb);
		return NULL;
	}
	nb->seq0 = (uint32_t)time(NULL);
	return nb;
}

static void nft_batch_free(struct nft_batch *nb)
{
	if (!nb)
		return;
	mnl_nlmsg_batch_stop(nb->b);
	free(nb);
}

/* Where the next message goes, and its sequence number; what names it in errors. */
static char *nft_batch_cur(struct nft_batch *nb, uint32_t *seq, const char *what)
{
	if (nb->nmsgs >= NFT_MAX_MSGS) {
		nb->overflow = true;
		nb->nmsgs = NFT_MAX_MSGS - 1; /* keep writing in place; the batch is never sent */
	}
	snprintf(nb->what[nb->nmsgs], NFT_WHAT_LEN, "%s", what);
	*seq = nb->seq0 + nb->nmsgs;
	return mnl_nlmsg_batch_current(nb->b);
}

static void nft_batch_next(struct nft_batch *nb)
{
	if (!mnl_nlmsg_batch_next(nb->b))
		nb->overflow = true;
	nb->nmsgs++;
}

static void nft_batch_begin(struct nft_batch *nb)
{
	uint32_t seq;
	char *p = nft_batch_cur(nb, &seq, "table " NFT_FAMILY_NAME " " NFT_TABLE_NAME);

	nftnl_batch_begin(p, seq);
	nft_batch_next(nb);
}

static void nft_batch_end(struct nft_batch *nb)
{
	uint32_t seq;
	char *p = nft_batch_cur(nb, &seq, "table " NFT_FAMILY_NAME " " NFT_TABLE_NAME);

	nftnl_batch_end(p, seq);
	nft_batch_next(nb);
}

static int nft_batch_table(struct nft_batch *nb, uint16_t type, uint16_t flags, bool comment)
{
	struct nftnl_udata_buf *ud = NULL;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	uint32_t seq;
	char *p;

	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	if (comment) {
		/* nft shows it, so whoever lists the ruleset knows who owns the table */
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud ||
		    !nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, NFT_TABLE_COMMENT)) {
			nftnl_udata_buf_free(ud);
			nftnl_table_free(t);
			return -ENOMEM;
		}
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
	}
	p = nft_batch_cur(nb, &seq, "table " NFT_FAMILY_NAME " " NFT_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(p, type, NFT_FAMILY, flags | NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nft_batch_next(nb);
	nftnl_udata_buf_free(ud);
	nftnl_table_free(t);
	return 0;
}

/* A base chain on hook at priority prio, or with NFT_REGULAR a regular chain (a jump
 * target). */
#define NFT_REGULAR (-1) /* not a hook: NF_INET_PRE_ROUTING is 0 */
static int nft_batch_chain_prio(struct nft_batch *nb, const char *name, int hook, int prio)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	char what[NFT_WHAT_LEN];
	uint32_t seq;
	char *p;

	c = nftnl_chain_alloc();
	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook != NFT_REGULAR) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	snprintf(what, sizeof(what), "chain %s %s %s", NFT_FAMILY_NAME, NFT_TABLE_NAME, name);
	p = nft_batch_cur(nb, &seq, what);
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, NFT_FAMILY, NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nft_batch_next(nb);
	nftnl_chain_free(c);
	return 0;
}

static int nft_batch_chain(struct nft_batch *nb, const char *name, int hook)
{
	return nft_batch_chain_prio(nb, name, hook, NFT_CHAIN_PRIO);
}

/* Each helper adds one expression; a failed allocation is caught once, by nft_rule_ok. */
static bool nft_rule_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return false;
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool nft_expr_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return nft_rule_add(r, e);
}

static bool nft_expr_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return nft_rule_add(r, e);
}

static bool nft_expr_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return nft_rule_add(r, e);
}

static bool nft_expr_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return nft_rule_add(r, e);
}

/*
 * [ct load state] [bitwise & every state bit] [cmp != 0]: "ct state invalid,established,
 * related,new,untracked", true for every packet, so it changes no verdict. It is there for
 * its side effect: a ct expression makes the kernel track connections in this namespace,
 * and tracking reassembles IP fragments before the prerouting chain, so the queue gets whole
 * packets (a host may fragment SCTP sent without DF; the gateway cannot use fragments).
 * A narrower match such as "ct state != invalid" would let packets the SCTP tracker
 * calls invalid (say, a verification tag it did not expect) pass natively, unqueued.
 */
static bool nft_expr_ct_any(struct nftnl_rule *r)
{
	uint32_t every = NF_CT_STATE_INVALID_BIT | NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
			 NF_CT_STATE_BIT(IP_CT_RELATED) | NF_CT_STATE_BIT(IP_CT_NEW) |
			 NF_CT_STATE_UNTRACKED_BIT;
	uint32_t none = 0;
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	return nft_rule_add(r, e) && nft_expr_bitwise(r, &every, sizeof(every)) &&
	       nft_expr_cmp(r, NFT_CMP_NEQ, &none, sizeof(none));
}

/*
 * [fib daddr type] [cmp == unicast]: the packet is to be routed on, not delivered here
 * (local, anycast of this router) nor broadcast or multicast; what the forward hook saw.
 */
static bool nft_expr_fib_unicast(struct nftnl_rule *r)
{
	uint32_t unicast = RTN_UNICAST;
	struct nftnl_expr *e = nftnl_expr_alloc("fib");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	}
	return nft_rule_add(r, e) && nft_expr_cmp(r, NFT_CMP_EQ, &unicast, sizeof(unicast));
}

/* [meta nfproto] [payload saddr / daddr + bitwise when the prefix is not byte aligned +
 * cmp]: the packet's source (or destination) lies in pfx. As nft does, a byte-aligned
 * prefix loads just its bytes, any other the whole address and a mask, so `nft list`
 * shows "ip saddr P/len". */
static bool nft_expr_prefix(struct nftnl_rule *r, const struct conf_prefix *pfx, bool dst)
{
	bool v4 = pfx->addr.family == AF_INET;
	uint8_t nfproto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	unsigned maxlen = v4 ? 32 : 128;
	unsigned plen = pfx->len > maxlen ? maxlen : pfx->len;
	uint8_t mask[16] = { 0 }, net[16] = { 0 };
	uint32_t len = plen % 8 ? maxlen / 8 : plen / 8;
	uint32_t off = (v4 ? 12 : 8) + (dst ? maxlen / 8 : 0);
	bool ok;

	ok = nft_expr_meta(r, NFT_META_NFPROTO) &&
	     nft_expr_cmp(r, NFT_CMP_EQ, &nfproto, sizeof(nfproto));
	if (!ok || !plen)
		return ok;
	memset(mask, 0xff, plen / 8);
	if (plen % 8)
		mask[plen / 8] = (uint8_t)(0xff << (8 - plen % 8));
	for (unsigned j = 0; j < len; j++)
		net[j] = pfx->addr.bytes[j] & mask[j];
	ok = nft_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len);
	if (ok && plen % 8)
		ok = nft_expr_bitwise(r, mask, len);
	return ok && nft_expr_cmp(r, NFT_CMP_EQ, net, len);
}

/* [payload th OFFSET, 1 byte] [cmp == value] */
static bool nft_expr_th_byte(struct nftnl_rule *r, uint32_t offset, uint8_t value)
{
	return nft_expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, offset, 1) &&
	       nft_expr_cmp(r, NFT_CMP_EQ, &value, sizeof(value));
}

/* [immediate verdict] */
static bool nft_expr_verdict(struct nftnl_rule *r, uint32_t verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	}
	return nft_rule_add(r, e);
}

static bool nft_expr_counter(struct nftnl_rule *r)
{
	return nft_rule_add(r, nftnl_expr_alloc("counter"));
}

/* [exthdr ipv6 fragment present] [cmp == 1]: "exthdr frag exists" */
static bool nft_expr_frag_exists(struct nftnl_rule *r)
{
	uint8_t one = 1;
	struct nftnl_expr *e = nftnl_expr_alloc("exthdr");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, NFT_REG_1);
		nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, NFT_IPPROTO_FRAGMENT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, 0);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_FLAGS, NFT_EXTHDR_F_PRESENT);
	}
	return nft_rule_add(r, e) && nft_expr_cmp(r, NFT_CMP_EQ, &one, sizeof(one));
}

/* [immediate value] [meta set mark] */
static bool nft_expr_set_mark(struct nftnl_rule *r, uint32_t mark)
{
	struct nftnl_expr *imm = nftnl_expr_alloc("immediate");
	struct nftnl_expr *set;

	if (imm) {
		nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, &mark, sizeof(mark));
	}
	if (!nft_rule_add(r, imm))
		return false;
	set = nftnl_expr_alloc("meta");
	if (set) {
		nftnl_expr_set_u32(set, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(set, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
	return nft_rule_add(r, set);
}

/*
 * Without a listener on the queue (daemon crashed or killed) the kernel drops queued
 * packets: fail closed, the default. With queue-bypass it accepts them instead and
 * internal SCTP goes on natively (fail open).
 */
static bool nft_expr_queue(struct nftnl_rule *r, enum nft_queue_kind kind, uint16_t num,
			   bool bypass)
{
	struct xt_NFQ_info_v3 *info;
	struct nftnl_expr *e;

	if (kind == NFT_QUEUE_NATIVE) {
		e = nftnl_expr_alloc("queue");
		if (e) {
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
					   bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
		}
		return nft_rule_add(r, e);
	}
	e = nftnl_expr_alloc("target");
	info = calloc(1, sizeof(*info));
	if (!e || !info) {
		nftnl_expr_free(e);
		free(info);
		return false;
	}
	info->queuenum = num;
	info->queues_total = 1;
	info->flags = bypass ? NFQ_FLAG_BYPASS : 0;
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	/* the expression takes ownership of info and frees it */
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
	return nft_rule_add(r, e);
}

static struct nftnl_rule *nft_rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r) {
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	}
	return r;
}

/* Append the rule to the batch (and free it); what names it in errors. */
static void nft_batch_add_rule(struct nft_batch *nb, struct nftnl_rule *r, const char *what)
{
	struct nlmsghdr *nlh;
	uint32_t seq;
	char *p;

	p = nft_batch_cur(nb, &seq, what);
	nb->is_rule[nb->nmsgs] = true;
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, NFT_FAMILY,
				    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nft_batch_next(nb);
	nftnl_rule_free(r);
}

static bool nft_expr_jump(struct nftnl_rule *r, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	return nft_rule_add(r, e);
}

/* The end of a rule that takes a packet: with one worker its queue, with several a jump
 * to the chain that picks the worker (dispatch unless named). */
static bool nft_expr_take(struct nftnl_rule *r, const struct gw_conf *conf,
			  enum nft_queue_kind kind, const char *dispatch)
{
	if (steer_workers(conf) > 1)
		return nft_expr_jump(r, dispatch ? dispatch : NFT_CHAIN_DISPATCH);
	return nft_expr_queue(r, kind, conf->queue_num, conf->queue_bypass);
}

/* [payload th OFFSET, 2 bytes] [& mask] [== value]: the low bits of an SCTP port. */
static bool nft_expr_port_bits(struct nftnl_rule *r, uint32_t offset, uint16_t mask, uint16_t value)
{
	uint16_t m = htons(mask), v = htons(value);

	return nft_expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, offset, sizeof(m)) &&
	       nft_expr_bitwise(r, &m, sizeof(m)) && nft_expr_cmp(r, NFT_CMP_EQ, &v, sizeof(v));
}

/*
 * Several workers. An association must stay on one worker, whose table alone knows it,
 * in both directions. Outbound packets are dispatched here by the low bits of their
 * source and destination ports, key (sport ^ dport) & (workers - 1); inbound datagrams
 * by the same key of the SCTP ports they carry (a reuseport program; see
 * steer_worker_of). Rules enumerate (sport bits, dport bits), workers^2 of them, since nft
 * cannot XOR two fields. A relay rule knows the remote port Q its packets will carry,
 * so its chain relay_dispatch_K (K = Q's bits) needs only the source port.
 */
static int nft_batch_dispatch(struct nft_batch *nb, const struct gw_conf *conf,
			      enum nft_queue_kind kind, int relay_bits)
{
	uint16_t mask = (uint16_t)steer_mask(conf);
	char chain[32], what[NFT_WHAT_LEN];
	int rc;

	if (relay_bits < 0)
		snprintf(chain, sizeof(chain), "%s", NFT_CHAIN_DISPATCH);
	else
		snprintf(chain, sizeof(chain), "%s%d", NFT_CHAIN_RELAY_DISPATCH, relay_bits);
	rc = nft_batch_chain(nb, chain, NFT_REGULAR);
	for (unsigned a = 0; !rc && a <= mask; a++) {
		for (unsigned b = 0; !rc && b <= mask; b++) {
			struct nftnl_rule *r = nft_rule_new(chain);
			unsigned key =
				steer_key(conf, (uint16_t)a,
					  (uint16_t)(relay_bits < 0 ? b : (unsigned)relay_bits));
			bool ok;

			if (!r)
				return -ENOMEM;
			ok = nft_expr_port_bits(r, 0, mask, (uint16_t)a);
			if (relay_bits < 0)
				ok = ok && nft_expr_port_bits(r, 2, mask, (uint16_t)b);
			ok = ok && nft_expr_queue(r, kind, (uint16_t)(conf->queue_num + key),
						  conf->queue_bypass);
			if (!ok) {
				nftnl_rule_free(r);
				return -ENOMEM;
			}
			snprintf(what, sizeof(what), "%.24s rule for queue %u (%.26s)", chain,
				 conf->queue_num + key, nft_queue_kind_name(kind));
			nft_batch_add_rule(nb, r, what);
			nb->nqueue++;
			if (relay_bits >= 0)
				break; /* the destination port is the relay's: one rule per a */
		}
	}
	/* A packet too short to show its ports matched none of them: the first queue
	 * takes it (and drops it as malformed), rather than the chain's accept. */
	if (!rc) {
		struct nftnl_rule *r = nft_rule_new(chain);

		if (!r)
			return -ENOMEM;
		if (!nft_expr_queue(r, kind, conf->queue_num, conf->queue_bypass)) {
			nftnl_rule_free(r);
			return -ENOMEM;
		}
		snprintf(what, sizeof(what), "%.24s last rule (%.26s)", chain,
			 nft_queue_kind_name(kind));
		nft_batch_add_rule(nb, r, what);
		nb->nqueue++;
	}
	return rc;
}

/*
 * Router mode, hook prerouting: [meta nfproto] [payload saddr + bitwise when the prefix is
 * not byte aligned + cmp] [meta l4proto sctp] [meta mark != mark] [fib daddr type unicast]
 * [ct state: any] [queue]. Prerouting, not forward: the kernel checks a forwarded packet
 * against the egress link's MTU before the forward hook and would answer a DF packet too
 * big for that link itself, with the link MTU; taken here, every packet reaches the daemon,
 * which answers with the tunnel MTU. This is the order nft itself emits for "ip saddr P
 * meta l4proto sctp ...", so `nft list` prints it back in that short form.
 */
static int nft_batch_rule(struct nft_batch *nb, const struct gw_conf *conf,
			  const struct conf_prefix *pfx, enum nft_queue_kind kind)
{
	bool v4 = pfx->addr.family == AF_INET;
	uint8_t l4proto = NFT_IPPROTO_SCTP;
	unsigned plen = pfx->len > (v4 ? 32u : 128u) ? (v4 ? 32u : 128u) : pfx->len;
	char what[NFT_WHAT_LEN], a[GW_ADDRSTRLEN];
	struct nftnl_rule *r;
	bool ok;

	if (pfx->addr.family != AF_INET && pfx->addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	r = nft_rule_new(NFT_CHAIN_ROUTER);
	if (!r)
		return -ENOMEM;

	ok = nft_expr_prefix(r, pfx, false) && nft_expr_meta(r, NFT_META_L4PROTO) &&
	     nft_expr_cmp(r, NFT_CMP_EQ, &l4proto, sizeof(l4proto)) &&
	     nft_expr_meta(r, NFT_META_MARK) &&
	     nft_expr_cmp(r, NFT_CMP_NEQ, &conf->mark, sizeof(conf->mark)) &&
	     nft_expr_fib_unicast(r) && nft_expr_ct_any(r) && nft_expr_take(r, conf, kind, NULL);
	if (!ok) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	snprintf(what, sizeof(what), "rule for %s/%u (%s)", addr_format(&pfx->addr, a, sizeof(a)),
		 plen, nft_queue_kind_name(kind));
	nft_batch_add_rule(nb, r, what);
	nb->nqueue++;
	return 0;
}

/*
 * Host mode, hook output: [meta l4proto sctp] [meta mark != mark] [meta oiftype !=
 * loopback] [queue]. Everything this host's own stack sends off the box; the daemon's
 * injected packets carry its mark, and SCTP between local applications stays native.
 * No conntrack match: local packets are fragmented after the output hook, never before.
 */
static int nft_batch_host_rule(struct nft_batch *nb, const struct gw_conf *conf,
			       enum nft_queue_kind kind)
{
	uint8_t l4proto = NFT_IPPROTO_SCTP;
	uint16_t loopback = ARPHRD_LOOPBACK;
	char what[NFT_WHAT_LEN];
	struct nftnl_rule *r;
	bool ok;

	r = nft_rule_new(NFT_CHAIN_OUTPUT);
	if (!r)
		return -ENOMEM;
	ok = nft_expr_meta(r, NFT_META_L4PROTO) &&
	     nft_expr_cmp(r, NFT_CMP_EQ, &l4proto, sizeof(l4proto)) &&
	     nft_expr_meta(r, NFT_META_MARK) &&
	     nft_expr_cmp(r, NFT_CMP_NEQ, &conf->mark, sizeof(conf->mark)) &&
	     nft_expr_meta(r, NFT_META_OIFTYPE) &&
	     nft_expr_cmp(r, NFT_CMP_NEQ, &loopback, sizeof(loopback)) &&
	     nft_expr_take(r, conf, kind, NULL);
	if (!ok) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	snprintf(what, sizeof(what), "host-mode rule (%s)", nft_queue_kind_name(kind));
	nft_batch_add_rule(nb, r, what);
	nb->nqueue++;
	return 0;
}

/*
 * Relay mode with queue ingest, hook input: [meta l4proto sctp] [sctp dport P] [meta
 * mark != mark] [queue], one rule per relay port, so SCTP to the gateway itself reaches
 * the daemon and never the kernel's SCTP stack (which would answer it with an ABORT).
 */
static int nft_batch_relay_rule(struct nft_batch *nb, const struct gw_conf *conf,
				const struct conf_relay *rl, enum nft_queue_kind kind)
{
	uint8_t l4proto = NFT_IPPROTO_SCTP;
	uint16_t dport = htons(rl->port);
	char what[NFT_WHAT_LEN], dispatch[32];
	struct nftnl_rule *r;
	bool ok;

	snprintf(dispatch, sizeof(dispatch), "%s%u", NFT_CHAIN_RELAY_DISPATCH,
		 steer_key(conf, rl->to_port, 0));
	r = nft_rule_new(NFT_CHAIN_INPUT);
	if (!r)
		return -ENOMEM;
	ok = nft_expr_meta(r, NFT_META_L4PROTO) &&
	     nft_expr_cmp(r, NFT_CMP_EQ, &l4proto, sizeof(l4proto)) &&
	     nft_expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, sizeof(dport)) &&
	     nft_expr_cmp(r, NFT_CMP_EQ, &dport, sizeof(dport)) &&
	     nft_expr_meta(r, NFT_META_MARK) &&
	     nft_expr_cmp(r, NFT_CMP_NEQ, &conf->mark, sizeof(conf->mark)) &&
	     nft_expr_take(r, conf, kind, dispatch);
	if (!ok) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	snprintf(what, sizeof(what), "relay rule for port %u (%s)", rl->port,
		 nft_queue_kind_name(kind));
	nft_batch_add_rule(nb, r, what);
	nb->nqueue++;
	return 0;
}

/*
 * Hook prerouting before defragmentation: [meta nfproto ipv6] [meta l4proto sctp] [exthdr
 * frag exists] [meta mark set CONF_FRAG_MARK]. A packet reassembled from fragments keeps
 * the mark of its first one, so the daemon can tell an IPv6 packet its source fragmented
 * (which it may carry in a fragmented datagram) from a whole one too big for the tunnel
 * (which gets packet-too-big). Its length says nothing: a host fragments to the MTU it
 * learned, below its link's, and nothing else in the queue's metadata says it either.
 */
static int nft_batch_frag_rule(struct nft_batch *nb, const struct gw_conf *conf)
{
	uint8_t nfproto = NFPROTO_IPV6, l4proto = NFT_IPPROTO_SCTP;
	struct nftnl_rule *r = nft_rule_new(NFT_CHAIN_FRAG);
	bool ok;

	if (!r)
		return -ENOMEM;
	ok = nft_expr_meta(r, NFT_META_NFPROTO) &&
	     nft_expr_cmp(r, NFT_CMP_EQ, &nfproto, sizeof(nfproto)) &&
	     nft_expr_meta(r, NFT_META_L4PROTO) &&
	     nft_expr_cmp(r, NFT_CMP_EQ, &l4proto, sizeof(l4proto)) && nft_expr_frag_exists(r) &&
	     nft_expr_set_mark(r, CONF_FRAG_MARK(conf->mark));
	if (!ok) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	nft_batch_add_rule(nb, r, "fragment mark rule");
	return 0;
}

/* One rule of the ICMP chain: built by the caller from r, added here. */
static int nft_batch_icmp_add(struct nft_batch *nb, struct nftnl_rule *r, bool ok, const char *what)
{
	if (!ok) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	nft_batch_add_rule(nb, r, what);
	return 0;
}

/*
 * Hook output: the ICMP errors this host's own kernel sends about a packet the daemon
 * injected (source a peer, destination an internal host, say one whose neighbour entry
 * failed) go to the peer and quote the internal address: drop them. [meta oiftype ==
 * loopback] accept; [daddr in an internal network] accept (the daemon's own errors to
 * internal hosts); then for each ICMP error type, [meta nfproto] [meta l4proto icmp /
 * icmpv6] [th 0 == type] [th quoted protocol == sctp] [counter] drop: the quoted
 * protocol is at @th,136,8 (8 bytes of ICMP header, IPv4 protocol at 9) or @th,112,8
 * (IPv6 next header at 6). Native SCTP of this host (host mode) is never a peer's.
 */
static int nft_batch_icmp_chain(struct nft_batch *nb, const struct gw_conf *conf)
{
	static const uint8_t types4[] = { 3, 11, 12 };  /* unreachable, time, parameter */
	static const uint8_t types6[] = { 1, 2, 3, 4 }; /* unreachable, too big, time, param */
	uint16_t loopback = ARPHRD_LOOPBACK;
	struct nftnl_rule *r;
	unsigned i;
	int rc;

	rc = nft_batch_chain(nb, NFT_CHAIN_ICMP, NF_INET_LOCAL_OUT);
	r = rc ? NULL : nft_rule_new(NFT_CHAIN_ICMP);
	if (!rc)
		rc = nft_batch_icmp_add(
			nb, r,
			r && nft_expr_meta(r, NFT_META_OIFTYPE) &&
				nft_expr_cmp(r, NFT_CMP_EQ, &loopback, sizeof(loopback)) &&
				nft_expr_verdict(r, NF_ACCEPT),
			"ICMP rule for loopback");
	for (i = 0; !rc && i < conf->ninternal && i < CONF_MAX_INTERNAL; i++) {
		r = nft_rule_new(NFT_CHAIN_ICMP);
		rc = nft_batch_icmp_add(nb, r,
					r && nft_expr_prefix(r, &conf->internal[i], true) &&
						nft_expr_verdict(r, NF_ACCEPT),
					"ICMP rule for an internal network");
	}
	for (i = 0; !rc && i < sizeof(types4) + sizeof(types6); i++) {
		bool v4 = i < sizeof(types4);
		uint8_t nfproto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
		uint8_t l4proto = v4 ? NFT_IPPROTO_ICMP : NFT_IPPROTO_ICMPV6;
		uint8_t type = v4 ? types4[i] : types6[i - sizeof(types4)];

		r = nft_rule_new(NFT_CHAIN_ICMP);
		rc = nft_batch_icmp_add(
			nb, r,
			r && nft_expr_meta(r, NFT_META_NFPROTO) &&
				nft_expr_cmp(r, NFT_CMP_EQ, &nfproto, sizeof(nfproto)) &&
				nft_expr_meta(r, NFT_META_L4PROTO) &&
				nft_expr_cmp(r, NFT_CMP_EQ, &l4proto, sizeof(l4proto)) &&
				nft_expr_th_byte(r, 0, type) &&
				nft_expr_th_byte(r, v4 ? 17 : 14, NFT_IPPROTO_SCTP) &&
				nft_expr_counter(r) && nft_expr_verdict(r, NF_DROP),
			"ICMP error rule");
	}
	return rc;
}

static void nft_read_acks(struct nft_batch *nb, struct mnl_socket *nl, char *rbuf, size_t rlen)
{
	uint32_t portid = mnl_socket_get_portid(nl);
	ssize_t n;

	/* nothing left to read means the kernel has said all it will about this batch */
	while ((n = recv(mnl_socket_get_fd(nl), rbuf, rlen, MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		int len = (int)n;

		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;
			uint32_t i = nlh->nlmsg_seq - nb->seq0;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != portid ||
			    i >= nb->nmsgs ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			nb->acked[i] = true;
			if (e->error < 0 && !nb->error[i])
				nb->error[i] = -e->error;
		}
	}
}

/* Send the batch and collect the answers. 0, or -errno of the first message that failed
 * with *failed set to its index (-1 when the failure was local). */
static int nft_batch_run(struct nft_batch *nb, int *failed)
{
	struct mnl_socket *nl;
	char *rbuf = NULL;
	size_t rlen = MNL_SOCKET_BUFFER_SIZE;
	int rcvbuf, sndbuf, rc = 0;
	unsigned i;

	*failed = -1;
	if (nb->overflow)
		return -EMSGSIZE;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	/* one ACK per message must fit before we read any: be generous */
	rcvbuf = (int)(nb->nmsgs * 1024 + 65536);
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) <
	    0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* A batch is one message: the socket must be able to send it whole. */
	sndbuf = (int)mnl_nlmsg_batch_size(nb->b) + 65536;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) <
	    0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	rbuf = malloc(rlen);
	if (!rbuf) {
		rc = -ENOMEM;
		goto out;
	}
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(nb->b), mnl_nlmsg_batch_size(nb->b)) < 0) {
		rc = -errno;
		goto out;
	}
	nft_read_acks(nb, nl, rbuf, rlen);
	for (i = 0; i < nb->nmsgs; i++) {
		if (nb->error[i]) {
			*failed = (int)i;
			rc = -nb->error[i];
			goto out;
		}
	}
	/* begin and end carry no NLM_F_ACK; everything between must have been answered */
	for (i = 1; i + 1 < nb->nmsgs; i++) {
		if (!nb->acked[i]) {
			*failed = (int)i;
			rc = -EPROTO;
			goto out;
		}
	}
out:
	free(rbuf);
	mnl_socket_close(nl);
	return rc;
}

static void nft_format_err(char *err, size_t errlen, const char *fn, const struct nft_batch *nb,
			   int failed, int rc)
{
	if (failed >= 0 && rc == -EPROTO)
		snprintf(err, errlen, "%s: %s: no acknowledgement from the kernel", fn,
			 nb->what[failed]);
	else if (failed >= 0)
		snprintf(err, errlen, "%s: %s: %s", fn, nb->what[failed], strerror(-rc));
	else
		snprintf(err, errlen, "%s: table %s %s: %s", fn, NFT_FAMILY_NAME, NFT_TABLE_NAME,
			 strerror(-rc));
}

/* The whole table in one batch: the table replaced, the dispatch chains of several
 * workers, and the chains and rules of the internal networks, host mode and relay
 * queueing. 0 or -errno. */
static int nft_batch_fill(struct nft_batch *nb, const struct gw_conf *conf, bool relay_queue,
			  enum nft_queue_kind kind)
{
	unsigned i;
	int rc;

	/* create-if-missing, delete, create: replaces an old table in the same transaction
	 * without a separate lookup that could race */
	rc = nft_batch_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE, false);
	if (!rc)
		rc = nft_batch_table(nb, NFT_MSG_DELTABLE, 0, false);
	if (!rc)
		rc = nft_batch_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, true);
	if (!rc && steer_workers(conf) > 1 && (conf->ninternal || conf->host_mode))
		rc = nft_batch_dispatch(nb, conf, kind, -1);
	if (!rc && steer_workers(conf) > 1 && relay_queue) {
		bool done[CONF_MAX_WORKERS] = { false };

		for (i = 0; !rc && i < conf->nrelay; i++) {
			unsigned k = steer_key(conf, conf->relay[i].to_port, 0);

			if (!done[k])
				rc = nft_batch_dispatch(nb, conf, kind, (int)k);
			done[k] = true;
		}
	}
	if (!rc && (conf->ninternal || conf->nrelay)) {
		rc = nft_batch_chain_prio(nb, NFT_CHAIN_FRAG, NF_INET_PRE_ROUTING,
					  NFT_CHAIN_PRIO_FRAG);
		if (!rc)
			rc = nft_batch_frag_rule(nb, conf);
	}
	if (!rc && conf->ninternal)
		rc = nft_batch_chain(nb, NFT_CHAIN_ROUTER, NF_INET_PRE_ROUTING);
	for (i = 0; !rc && i < conf->ninternal && i < CONF_MAX_INTERNAL; i++)
		rc = nft_batch_rule(nb, conf, &conf->internal[i], kind);
	if (!rc && conf->ninternal)
		rc = nft_batch_icmp_chain(nb, conf);
	if (!rc && conf->host_mode) {
		rc = nft_batch_chain(nb, NFT_CHAIN_OUTPUT, NF_INET_LOCAL_OUT);
		if (!rc)
			rc = nft_batch_host_rule(nb, conf, kind);
	}
	if (!rc && relay_queue && conf->nrelay) {
		rc = nft_batch_chain(nb, NFT_CHAIN_INPUT, NF_INET_LOCAL_IN);
		for (i = 0; !rc && i < conf->nrelay && i < CONF_MAX_RELAY; i++)
			rc = nft_batch_relay_rule(nb, conf, &conf->relay[i], kind);
	}
	return rc;
}

/* One try with one queue kind. *queue_rejected says the failure was a rule refused with
 * ENOENT / EOPNOTSUPP, i.e. the kernel lacks this kind of queue expression. */
static int nft_install_kind(const struct gw_conf *conf, bool relay_queue, enum nft_queue_kind kind,
			    bool *queue_rejected, unsigned *nqueue, char *err, size_t errlen)
{
	struct nft_batch *nb = nft_batch_new();
	int rc, failed = -1;

	*queue_rejected = false;
	if (!nb) {
		rc = -ENOMEM;
		goto fail;
	}
	nft_batch_begin(nb);
	rc = nft_batch_fill(nb, conf, relay_queue, kind);
	if (rc)
		goto fail;
	nft_batch_end(nb);
	rc = nft_batch_run(nb, &failed);
	if (!rc) {
		*nqueue = nb->nqueue;
		nft_batch_free(nb);
		return 0;
	}
	*queue_rejected =
		failed >= 0 && nb->is_rule[failed] && (rc == -ENOENT || rc == -EOPNOTSUPP);
fail:
	nft_format_err(err, errlen, "nft_install", nb, failed, rc);
	nft_batch_free(nb);
	return -1;
}

int nft_install(const struct gw_conf *conf, bool relay_queue, enum nft_queue_kind *used, char *err,
		size_t errlen)
{
	char native_err[256];
	unsigned nqueue = 0;
	bool rejected;

	if (nft_install_kind(conf, relay_queue, NFT_QUEUE_NATIVE, &rejected, &nqueue, native_err,
			     sizeof(native_err)) == 0) {
		/* A table without a queue rule says nothing about the kernel's queue. */
		*used = nqueue ? NFT_QUEUE_NATIVE : NFT_QUEUE_NONE;
		return 0;
	}
	if (!rejected) {
		snprintf(err, errlen, "%s", native_err);
		return -1;
	}
	/* the failed batch changed nothing; try again, whole, with the xtables target */
	if (nft_install_kind(conf, relay_queue, NFT_QUEUE_XT_COMPAT, &rejected, &nqueue, err,
			     errlen) < 0)
		return -1;
	*used = NFT_QUEUE_XT_COMPAT;
	return 0;
}

int nft_remove(char *err, size_t errlen)
{
	struct nft_batch *nb = nft_batch_new();
	int rc, failed = -1;

	if (!nb) {
		rc = -ENOMEM;
		goto fail;
	}
	nft_batch_begin(nb);
	rc = nft_batch_table(nb, NFT_MSG_DELTABLE, 0, false);
	if (rc)
		goto fail;
	nft_batch_end(nb);
	rc = nft_batch_run(nb, &failed);
	if (!rc || rc == -ENOENT) {
		nft_batch_free(nb);
		return 0;
	}
fail:
	nft_format_err(err, errlen, "nft_remove", nb, failed, rc);
	nft_batch_free(nb);
	return -1;
}
