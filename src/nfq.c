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
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* The module prefix is nfqueue_: libnetfilter_queue's old API owns nfq_open() and
 * friends; we use only its nfq_nlmsg_* helpers. */
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfq.h"

#define NFQ_BATCH 64          /* packets per nfqueue_process call */
#define NFQ_COPY_RANGE 0xffff /* the kernel's maximum: whole packets */
/* payload + attributes, rounded up: each of the recvmmsg buffers starts aligned */
#define NFQ_RBUF_LEN ((NFQ_COPY_RANGE + 8192 + 63) & ~63)
#define NFQ_VERDICT_MSG_MAX 64 /* one NFQNL_MSG_VERDICT(_BATCH) is 32 bytes */
#define NFQ_PEND_MAX NFQ_BATCH /* verdicts decided before they are sent */
/* every pending verdict alone, or the accepts alone plus one batch message */
#define NFQ_VBUF_LEN ((NFQ_PEND_MAX + 1) * NFQ_VERDICT_MSG_MAX)
#define NFQ_PROC_PATH "/proc/net/netfilter/nfnetlink_queue"
/* Receive buffer per queued packet: the kernel doubles what we ask, so this leaves about
 * 4 KiB of skb truesize for every packet the queue may hold (MTU-sized packets). */
#define NFQ_RCVBUF_PER_PKT 2048
#define NFQ_RCVBUF_MAX (256 * 1024 * 1024)

struct nfq_pending {
	uint32_t id;
	bool accept;
};

struct nfqueue {
	struct mnl_socket *nl;
	uint16_t num;
	uint32_t portid;
	uint32_t cfg_seq; /* sequence of the last config message */
	int proc_fd;      /* NFQ_PROC_PATH, opened while we may (root-only file) */
	uint64_t enobufs;
	struct nfqueue_vstats vs;
	unsigned npend; /* verdicts decided, not yet sent */
	struct nfq_pending pend[NFQ_PEND_MAX];
	char vbuf[NFQ_VBUF_LEN];
	char rbuf[NFQ_RBUF_LEN]; /* config answers */
	/* One recvmmsg fills up to NFQ_BATCH of these; the packets handed to the callback
	 * live here (writable) until the next nfqueue_process. Pages are touched only as
	 * deep as packets reach, so the resident size follows the packet sizes. */
	char *rbufs; /* NFQ_BATCH * NFQ_RBUF_LEN */
	struct mmsghdr msgs[NFQ_BATCH];
	struct iovec iovs[NFQ_BATCH];
};

static size_t nfq_verdict_put(struct nfqueue *q, size_t off, int type, uint32_t id, int verdict)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(q->vbuf + off, type, q->num);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	return off + nlh->nlmsg_len;
}

/* Send the pending verdicts in one sendto. The kernel queues packets in id order and
 * delivers them to us in that order (one it cannot deliver never enters the queue), so
 * every packet still queued with an id up to the highest one we read was read by us:
 * after the accepts, one batch message drops all the rest. The kernel compares ids
 * modulo 2^32, but ids that wrap inside one batch get one message each all the same. */
static void nfq_verdict_flush(struct nfqueue *q, int *fatal)
{
	const struct nfq_pending *p = q->pend;
	unsigned i, n = q->npend, drops = 0, singles = 0;
	bool batch, wrapped = false;
	size_t off = 0;

	if (!n)
		return;
	q->npend = 0;
	for (i = 0; i < n; i++) {
		drops += !p[i].accept;
		wrapped |= i && p[i].id <= p[i - 1].id;
	}
	/* a batch covering nothing would be refused with ENOENT */
	batch = drops != 0;
	if (batch && wrapped) {
		batch = false;
		q->vs.wrap_fallbacks++;
	}
	for (i = 0; i < n; i++) {
		if (batch && !p[i].accept)
			continue;
		off = nfq_verdict_put(q, off, NFQNL_MSG_VERDICT, p[i].id,
				      p[i].accept ? NF_ACCEPT : NF_DROP);
		singles++;
	}
	if (batch)
		off = nfq_verdict_put(q, off, NFQNL_MSG_VERDICT_BATCH, p[n - 1].id, NF_DROP);
	if (mnl_socket_sendto(q->nl, q->vbuf, off) < 0) {
		*fatal = -errno;
		return;
	}
	q->vs.single_msgs += singles;
	if (batch) {
		q->vs.batch_msgs++;
		q->vs.batched_pkts += drops;
	}
}

/* Decide a verdict; they go out together at the end of the batch (or when full). */
static void nfq_verdict(struct nfqueue *q, uint32_t id, unsigned verdict, int *fatal)
{
	if (q->npend == NFQ_PEND_MAX)
		nfq_verdict_flush(q, fatal);
	/* anything else than NF_ACCEPT means drop: another verdict would be refused by the
	 * kernel and leave the packet queued forever */
	q->pend[q->npend].id = id;
	q->pend[q->npend].accept = verdict == NF_ACCEPT;
	q->npend++;
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
		/* we ask for ACKs only for config messages and wait for them there, so this
		 * is a refused verdict */
		q->vs.verdict_errors++;
		return 0;
	}
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
		return 0;
	rc = nfq_parse(nlh, &p);
	if (rc < 0) {
		q->vs.malformed++;
		return 0;
	}
	if (rc == 0 && cb)
		verdict = cb(&p, arg);
	else if (rc > 0)
		q->vs.malformed++;
	nfq_verdict(q, p.id, verdict, fatal);
	return 1;
}

/* Every message in one datagram; returns how many packets got a verdict. */
static int nfq_handle_dgram(struct nfqueue *q, const char *buf, size_t n, nfqueue_packet_cb cb,
			    void *arg, int *fatal)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int len = (int)n, handled = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		handled += nfq_handle_msg(q, nlh, cb, arg, fatal);
	if (len > 0)
		q->vs.malformed++; /* a cut message at the end; it had no id we could read */
	return handled;
}

int nfqueue_process(struct nfqueue *q, nfqueue_packet_cb cb, void *arg)
{
	int fd = mnl_socket_get_fd(q->nl), fatal = 0, handled = 0, n;

	/* One system call for the whole batch: the kernel queues one datagram per packet.
	 * The headers were set up once at open; recvmmsg only writes lengths and flags. */
	do {
		n = recvmmsg(fd, q->msgs, NFQ_BATCH, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == ENOBUFS)
			q->enobufs++;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			fatal = -errno;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		if (q->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			q->vs.malformed++; /* cannot happen with whole-packet buffers */
			continue;
		}
		handled += nfq_handle_dgram(q, q->iovs[i].iov_base, q->msgs[i].msg_len, cb, arg,
					    &fatal);
	}
	/* also after a receive error: what was read still needs its verdicts */
	nfq_verdict_flush(q, &fatal);
	if (fatal) {
		errno = -fatal;
		return -1;
	}
	return handled;
}

/* Config messages get their own sequence numbers, never 0 (the kernel's packets). */
static uint32_t nfq_next_seq(struct nfqueue *q)
{
	q->cfg_seq = (uint32_t)q->num << 16 | ((q->cfg_seq + 1) & 0xffff);
	if (!(q->cfg_seq & 0xffff))
		q->cfg_seq++;
	return q->cfg_seq;
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

/* The queue and its receive buffers; the recvmmsg headers point into them once. */
static struct nfqueue *nfq_alloc(uint16_t num)
{
	struct nfqueue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->num = num;
	q->proc_fd = -1;
	q->rbufs = malloc((size_t)NFQ_BATCH * NFQ_RBUF_LEN);
	if (!q->rbufs) {
		free(q);
		return NULL;
	}
	for (int i = 0; i < NFQ_BATCH; i++) {
		q->iovs[i] = (struct iovec){ .iov_base = q->rbufs + (size_t)i * NFQ_RBUF_LEN,
					     .iov_len = NFQ_RBUF_LEN };
		q->msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &q->iovs[i], .msg_iovlen = 1 };
	}
	return q;
}

/* The netlink socket, bound, with its options; both are required. The queue holds up to
 * maxlen packets in our socket: the buffer makes room for all of them. An overrun drops
 * packets in the kernel (fail closed, counted there); it must not turn into a socket
 * error for us (NETLINK_NO_ENOBUFS). 0, or -errno with *what naming the step. */
static int nfq_socket(struct nfqueue *q, uint32_t maxlen, const char **what)
{
	uint64_t want = (uint64_t)maxlen * NFQ_RCVBUF_PER_PKT;
	int fd, on = 1, rcvbuf = want > NFQ_RCVBUF_MAX ? NFQ_RCVBUF_MAX : (int)want;

	*what = "netlink socket";
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	q->portid = mnl_socket_get_portid(q->nl);
	fd = mnl_socket_get_fd(q->nl);
	*what = "setsockopt SO_RCVBUF";
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		return -errno;
	*what = "setsockopt NETLINK_NO_ENOBUFS";
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on)) < 0)
		return -errno;
	return 0;
}

/* Bind, copy mode, length and flags in one message: the kernel applies them together,
 * so no packet reaches us with a half-configured queue. Flags: no FAIL_OPEN (with no
 * room, packets are dropped, never passed unseen; nfqueue_set_fail_open changes it); no
 * GSO (the kernel segments and completes checksums before queueing, so every payload is
 * a whole, final packet). 0, or -errno. */
static int nfq_bind(struct nfqueue *q, uint32_t maxlen)
{
	uint32_t seq = nfq_next_seq(q);
	struct nlmsghdr *nlh = nfq_nlmsg_put(q->rbuf, NFQNL_MSG_CONFIG, q->num);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return nfq_wait_ack(q, seq);
}

struct nfqueue *nfqueue_open(uint16_t num, uint32_t maxlen, char *err, size_t errlen)
{
	struct nfqueue *q = nfq_alloc(num);
	const char *what;
	int fd, rc;

	if (!q) {
		snprintf(err, errlen, "nfqueue_open: queue %u: %s", num, strerror(ENOMEM));
		return NULL;
	}
	/* best effort: without it, nfqueue_kstats says why */
	q->proc_fd = open(NFQ_PROC_PATH, O_RDONLY | O_CLOEXEC);
	if (q->proc_fd < 0)
		q->proc_fd = -errno;
	rc = nfq_socket(q, maxlen, &what);
	if (rc < 0)
		goto fail;
	what = "bind";
	rc = nfq_bind(q, maxlen);
	if (rc < 0)
		goto fail;
	what = "O_NONBLOCK";
	fd = mnl_socket_get_fd(q->nl);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	return q;
fail:
	snprintf(err, errlen, "nfqueue_open: queue %u: %s: %s%s", num, what, strerror(-rc),
		 rc == -EPERM && !strcmp(what, "bind")
			 ? " (bound by another process, or no CAP_NET_ADMIN)"
			 : "");
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
	if (q->proc_fd >= 0)
		close(q->proc_fd);
	free(q->rbufs);
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

int nfqueue_set_fail_open(struct nfqueue *q, bool on)
{
	struct nlmsghdr *nlh;
	uint32_t seq = nfq_next_seq(q);

	/* vbuf is free between nfqueue_process calls; rbuf receives the ACK */
	nlh = nfq_nlmsg_put(q->vbuf, NFQNL_MSG_CONFIG, q->num);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(on ? NFQA_CFG_F_FAIL_OPEN : 0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* the kernel handles the message inside our sendto, so its ACK is queued already:
	 * the socket being non-blocking now does not matter */
	return nfq_wait_ack(q, seq);
}

void nfqueue_verdict_stats(const struct nfqueue *q, struct nfqueue_vstats *vs)
{
	*vs = q->vs;
}

/* One line: nine decimal fields, the kernel's seq_show order. */
static bool nfq_parse_kstats_line(const char *line, const char *end, uint32_t *queue_num,
				  struct nfqueue_kstats *ks)
{
	unsigned long long v[9];
	const char *s = line;
	char *e;
	int i;

	for (i = 0; i < 9; i++) {
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (s == end || *s < '0' || *s > '9')
			return false;
		errno = 0;
		v[i] = strtoull(s, &e, 10);
		if (errno || e > end || v[i] > UINT32_MAX)
			return false;
		s = e;
		if (s < end && *s != ' ' && *s != '\t')
			return false;
	}
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s != end || v[0] > UINT16_MAX)
		return false;
	*queue_num = (uint32_t)v[0];
	ks->peer_portid = (uint32_t)v[1];
	ks->queue_total = (uint32_t)v[2];
	ks->queue_dropped = (uint32_t)v[5];
	ks->user_dropped = (uint32_t)v[6];
	ks->id_sequence = (uint32_t)v[7];
	return true;
}

int nfqueue_parse_kstats(const char *text, uint16_t num, struct nfqueue_kstats *ks)
{
	const char *line = text, *end;

	for (; *line; line = *end ? end + 1 : end) {
		struct nfqueue_kstats k;
		uint32_t qn;

		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (nfq_parse_kstats_line(line, end, &qn, &k) && qn == num) {
			*ks = k;
			return 0;
		}
	}
	return -ENOENT;
}

/* Read the whole file from offset 0 (a seq_file regenerates it), whole lines at a time. */
static int nfq_read_kstats(int fd, uint16_t num, struct nfqueue_kstats *ks)
{
	char buf[4096];
	size_t have = 0;
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(fd, buf + have, sizeof(buf) - 1 - have, off);
		char *nl;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += n;
		have += (size_t)n;
		buf[have] = '\0';
		nl = strrchr(buf, '\n');
		if (n == 0 || (!nl && have == sizeof(buf) - 1))
			return nfqueue_parse_kstats(buf, num, ks); /* the rest, or a huge line */
		if (!nl)
			continue;
		*nl = '\0';
		if (!nfqueue_parse_kstats(buf, num, ks))
			return 0;
		have -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, have);
	}
}

int nfqueue_kernel_stats(uint16_t num, struct nfqueue_kstats *ks)
{
	int fd = open(NFQ_PROC_PATH, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = nfq_read_kstats(fd, num, ks);
	close(fd);
	return rc;
}

int nfqueue_kstats(const struct nfqueue *q, struct nfqueue_kstats *ks)
{
	if (q->proc_fd < 0)
		return q->proc_fd;
	return nfq_read_kstats(q->proc_fd, q->num, ks);
}
