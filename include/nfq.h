/* nfq.h - NFQUEUE I/O through libmnl + libnetfilter_queue: batched receive, one verdict
 * for every packet. */
#ifndef SCTPGW_NFQ_H
#define SCTPGW_NFQ_H

#include <stddef.h>
#include <stdint.h>

struct nfqueue;

struct nfqueue_packet {
	uint32_t id;
	uint8_t *data;    /* IP header first; writable */
	size_t len;
	uint32_t mark;
	uint16_t hw_proto;
	uint8_t hook;     /* NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_LOCAL_IN */
};

/* Called for each queued packet; must return NF_ACCEPT or NF_DROP (the verdict). */
typedef unsigned (*nfqueue_packet_cb)(struct nfqueue_packet *p, void *arg);

/* Bind queue num; maxlen is the kernel queue length. NULL with err set on failure. */
struct nfqueue *nfqueue_open(uint16_t num, uint32_t maxlen, char *err, size_t errlen);
void nfqueue_close(struct nfqueue *q);
int nfqueue_fd(const struct nfqueue *q);
/* Read every packet waiting (up to a batch), call cb, send the verdicts. Returns the
 * number of packets handled, or -1 on a fatal socket error. */
int nfqueue_process(struct nfqueue *q, nfqueue_packet_cb cb, void *arg);
/* Overruns (ENOBUFS) seen on the socket. */
uint64_t nfqueue_enobufs(const struct nfqueue *q);

#endif
