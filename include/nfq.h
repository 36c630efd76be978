/* nfq.h - NFQUEUE I/O through libmnl + libnetfilter_queue: batched receive, one verdict
 * for every packet. */
#ifndef SCTPGW_NFQ_H
#define SCTPGW_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfqueue;

struct nfqueue_packet {
	uint32_t id;
	uint8_t *data; /* IP header first; writable; valid until the next nfqueue_process */
	size_t len;
	uint32_t mark;
	uint16_t hw_proto;
	uint8_t hook; /* NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_LOCAL_IN */
};

/* Called for each queued packet; must return NF_ACCEPT or NF_DROP (the verdict). */
typedef unsigned (*nfqueue_packet_cb)(struct nfqueue_packet *p, void *arg);

/* Bind queue num; maxlen is the kernel queue length. NULL with err set on failure. */
struct nfqueue *nfqueue_open(uint16_t num, uint32_t maxlen, char *err, size_t errlen);
void nfqueue_close(struct nfqueue *q);
int nfqueue_fd(const struct nfqueue *q);
/* Read the packets waiting (up to a batch of 64, with one recvmmsg), call cb for each,
 * send the verdicts: the NF_ACCEPTs one NFQNL_MSG_VERDICT each, then one
 * NFQNL_MSG_VERDICT_BATCH drops every packet of the batch up to its highest id (all in
 * one sendto). The packets' data stays valid until the next call, so what cb decided
 * to send can go out in one batch afterwards. Returns the number of packets handled,
 * or -1 on a fatal socket error. */
int nfqueue_process(struct nfqueue *q, nfqueue_packet_cb cb, void *arg);
/* Overruns (ENOBUFS) seen on the socket. */
uint64_t nfqueue_enobufs(const struct nfqueue *q);

/* Fail-open (kernel flag NFQA_CFG_F_FAIL_OPEN), off by default. On, the kernel ACCEPTs a
 * packet it cannot queue to us (queue full, or delivery to our socket failed) instead of
 * dropping it: such packets pass untranslated, e.g. native SCTP leaves unencapsulated.
 * Waits for the kernel's answer; a packet read meanwhile is dropped, so call it right
 * after nfqueue_open. 0, or -errno. */
int nfqueue_set_fail_open(struct nfqueue *q, bool on);

struct nfqueue_vstats {
	uint64_t single_msgs;    /* NFQNL_MSG_VERDICT messages sent */
	uint64_t batch_msgs;     /* NFQNL_MSG_VERDICT_BATCH messages sent */
	uint64_t batched_pkts;   /* packets read by us that a batch message dropped */
	uint64_t wrap_fallbacks; /* batches sent per packet because their ids wrapped */
	uint64_t verdict_errors; /* verdicts the kernel refused (e.g. packet flushed) */
	uint64_t malformed;      /* messages without a usable packet; dropped */
};

void nfqueue_verdict_stats(const struct nfqueue *q, struct nfqueue_vstats *vs);

/* The kernel's view of one queue (/proc/net/netfilter/nfnetlink_queue, in the caller's
 * network namespace). Counters are the kernel's 32-bit ones and wrap. */
struct nfqueue_kstats {
	uint32_t peer_portid;   /* netlink port bound to the queue */
	uint32_t queue_total;   /* packets waiting for a verdict now */
	uint32_t queue_dropped; /* dropped because the queue was full (fail-open: not counted) */
	uint32_t user_dropped;  /* dropped because delivery to the socket failed (overrun) */
	uint32_t id_sequence;   /* last packet id handed out */
};

/* Fill ks for queue num. 0, -ENOENT when the queue is not bound (or the file is missing:
 * nfnetlink_queue not loaded), or another -errno (-EACCES: the file is root's, 0440). */
int nfqueue_kernel_stats(uint16_t num, struct nfqueue_kstats *ks);
/* The same for q's own queue, through the file opened by nfqueue_open: works after the
 * daemon gave up root. -errno of that open if it failed. */
int nfqueue_kstats(const struct nfqueue *q, struct nfqueue_kstats *ks);
/* The same on text in that file's format; lines that do not parse are skipped. 0 or
 * -ENOENT. */
int nfqueue_parse_kstats(const char *text, uint16_t num, struct nfqueue_kstats *ks);

#endif
