/* nfq.c - NFQUEUE I/O: libmnl socket, libnetfilter_queue message helpers, batched
 * receive and batched verdicts. Every packet read gets exactly one verdict. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* The module prefix is nfqueue_: libnetfilter_queue's old API owns nfq_open() and
 * friends; we use only its nfq_nlmsg_* helpers. */
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfq.h"

#define NFQ_BATCH 64                 /* packets per nfqueue_process call */
#define NFQ_COPY_RANGE 0xffff        /* the kernel's maximum: whole packets */
#define NFQ_RBUF_LEN (NFQ_COPY_RANGE + 8192) /* payload + attributes */
#define NFQ_VERDICT_MSG_MAX 64       /* one NFQNL_MSG_VERDICT is 32 bytes */
#define NFQ_VBUF_LEN (NFQ_BATCH * NFQ_VERDICT_MSG_MAX)
/* Receive buffer per queued packet: the kernel doubles what we ask, so this leaves about
 * 4 KiB of skb truesize for every packet the queue may hold (MTU-sized packets). */
#define NFQ_RCVBUF_PER_PKT 2048
#define NFQ_RCVBUF_MAX (256 * 1024 * 1024)

struct nfqueue {
	struct mnl_socket *nl;
	uint16_t num;
	uint32_t portid;
	uint64_t enobufs;
	uint64_t malformed;      /* messages without a usable packet; dropped */
	uint64_t verdict_errors; /* errors the kernel returned for our verdicts */
	size_t vlen;             /* bytes of verdicts waiting in vbuf */
	char vbuf[NFQ_VBUF_LEN];
	char rbuf[NFQ_RBUF_LEN]; /* the packet handed to the callback lives here: writable */
};

static void nfq_verdict_flush(struct nfqueue *q, int *fatal)
{
	if (!q->vlen)
		return;
	if (mnl_socket_sendto(q->nl, q->vbuf, q->vlen) < 0)
		*fatal = -errno;
	q->vlen = 0;
}

/* Queue a verdict; they go out in one sendto at the end of the batch (or when full). */
static void nfq_verdict(struct nfqueue *q, uint32_t id, unsigned verdict, int *fatal)
{
	struct nlmsghdr *nlh;

	if (q->vlen + NFQ_VERDICT_MSG_MAX > sizeof(q->vbuf))
		nfq_verdict_flush(q, fatal);
	/* anything else would be refused by the kernel and leave the packet queued forever */
	if (verdict != NF_ACCEPT)
		verdict = NF_DROP;
	nlh = nfq_nlmsg_put(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	q->vlen += nlh->nlmsg_len;
}

/* One NFQNL_MSG_PACKET: fill p. 0, or -1 when it carries no packet id (no verdict is
 * possible then), or 1 when the id is known but the packet is unusable. */
static int nfq_parse(const struct nlmsghdr *nlh, struct nfqueue_packet *p)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return -1;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p->id = ntohl(ph->packet_id);
	p->hw_proto = ntohs(ph->hw_protocol);
	p->hook = ph->hook;
	p->mark = attr[NFQA_MARK] ? ntohl(mnl_attr_get_u32(attr[NFQA_MARK])) : 0;
	if (!attr[NFQA_PAYLOAD])
		return 1;
	p->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	p->len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	/* a packet longer than the copy range arrives cut; never pass half a packet on */
	if (attr[NFQA_CAP_LEN] && ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) != p->len)
		return 1;
	return 0;
}

/* One message read from the socket; returns 1 when it was a packet that got a verdict.
 * Without cb (not ready yet) the packet is dropped. */
static int nfq_handle_msg(struct nfqueue *q, const struct nlmsghdr *nlh, nfqueue_packet_cb cb,
			  void *arg, int *fatal)
{
	struct nfqueue_packet p = { 0 };
	unsigned verdict = NF_DROP;
	int rc;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		/* we never ask for ACKs after the bind, so this is a refused verdict */
		q->verdict_errors++;
		return 0;
	}
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
		return 0;
	rc = nfq_parse(nlh, &p);
	if (rc < 0) {
		q->malformed++;
		return 0;
	}
	if (rc == 0 && cb)
		verdict = cb(&p, arg);
	else if (rc > 0)
		q->malformed++;
	nfq_verdict(q, p.id, verdict, fatal);
	return 1;
}

/* Every message in one datagram; returns how many packets got a verdict. */
static int nfq_handle_dgram(struct nfqueue *q, size_t n, nfqueue_packet_cb cb, void *arg, int *fatal)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)q->rbuf;
	int len = (int)n, handled = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		handled += nfq_handle_msg(q, nlh, cb, arg, fatal);
	if (len > 0)
		q->malformed++; /* a cut message at the end; it had no id we could read */
	return handled;
}

int nfqueue_process(struct nfqueue *q, nfqueue_packet_cb cb, void *arg)
{
	int fd = mnl_socket_get_fd(q->nl), fatal = 0, handled = 0, i;

	for (i = 0; i < NFQ_BATCH && !fatal; i++) {
		ssize_t n = recv(fd, q->rbuf, sizeof(q->rbuf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				q->enobufs++;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fatal = -errno;
			break;
		}
		if (n == 0)
			break;
		handled += nfq_handle_dgram(q, (size_t)n, cb, arg, &fatal);
	}
	/* also after a receive error: what was read still needs its verdicts */
	nfq_verdict_flush(q, &fatal);
	if (fatal) {
		errno = -fatal;
		return -1;
	}
	return handled;
}

/* Wait for the ACK of the config message. A packet already queued to us meanwhile gets
 * NF_DROP: we are not ready for it, and it must not stay without a verdict. */
static int nfq_wait_ack(struct nfqueue *q, uint32_t seq)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, q->rbuf, sizeof(q->rbuf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)q->rbuf;
		int len = (int)n, fatal = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR) {
				nfq_handle_msg(q, nlh, NULL, NULL, &fatal);
				continue;
			}
			if (nlh->nlmsg_seq != seq ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			nfq_verdict_flush(q, &fatal);
			return e->error;
		}
		nfq_verdict_flush(q, &fatal);
		if (fatal)
			return fatal;
	}
}

struct nfqueue *nfqueue_open(uint16_t num, uint32_t maxlen, char *err, size_t errlen)
{
	struct nfqueue *q = calloc(1, sizeof(*q));
	struct nlmsghdr *nlh;
	const char *what;
	uint64_t want;
	int fd, rc, rcvbuf, on = 1;
	uint32_t seq;

	if (!q) {
		snprintf(err, errlen, "nfqueue_open: queue %u: %s", num, strerror(ENOMEM));
		return NULL;
	}
	q->num = num;
	what = "netlink socket";
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		rc = -errno;
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	fd = mnl_socket_get_fd(q->nl);

	/* the queue holds up to maxlen packets in our socket: make room for all of them */
	want = (uint64_t)maxlen * NFQ_RCVBUF_PER_PKT;
	rcvbuf = want > NFQ_RCVBUF_MAX ? NFQ_RCVBUF_MAX : (int)want;
	what = "receive buffer";
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) {
		rc = -errno;
		goto fail;
	}
	/* an overrun drops packets in the kernel (fail closed, counted there); it must not
	 * turn into a socket error for us */
	what = "NETLINK_NO_ENOBUFS";
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on)) < 0) {
		rc = -errno;
		goto fail;
	}

	/* Bind, copy mode, length and flags in one message: the kernel applies them together,
	 * so no packet reaches us with a half-configured queue. Flags: no FAIL_OPEN (with no
	 * room, packets are dropped, never passed unseen); no GSO (the kernel segments and
	 * completes checksums before queueing, so every payload is a whole, final packet). */
	what = "bind";
	seq = (uint32_t)num << 16 | 1;
	nlh = nfq_nlmsg_put(q->rbuf, NFQNL_MSG_CONFIG, num);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = nfq_wait_ack(q, seq);
	if (rc < 0)
		goto fail;

	what = "O_NONBLOCK";
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	return q;
fail:
	snprintf(err, errlen, "nfqueue_open: queue %u: %s: %s%s", num, what, strerror(-rc),
		 rc == -EPERM && !strcmp(what, "bind") ?
			 " (bound by another process, or no CAP_NET_ADMIN)" : "");
	nfqueue_close(q);
	return NULL;
}

void nfqueue_close(struct nfqueue *q)
{
	if (!q)
		return;
	/* closing the socket unbinds the queue; the kernel drops what was still queued */
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q);
}

int nfqueue_fd(const struct nfqueue *q)
{
	return mnl_socket_get_fd(q->nl);
}

uint64_t nfqueue_enobufs(const struct nfqueue *q)
{
	return q->enobufs;
}
