/* nfq_rewrite.c - the other way to send outbound packets (issue 6): rewrite each queued
 * IPv4 SCTP packet into IPv4 + UDP in the verdict itself (NF_ACCEPT with NFQA_PAYLOAD)
 * instead of dropping it and sending the datagram through the UDP socket. The queue and
 * rule are the daemon's own (nfqueue_open, nft_install from libgw.a, same length and
 * buffers); only the loop is this file's: up to 64 packets read with one recvmmsg, one
 * send carrying all their verdicts, as nfqueue_process does.
 *
 * The new packet: source OUTSIDE_ADDRESS, destination the SCTP packet's, UDP udp-port to
 * udp-port, the SCTP packet unchanged as payload, IPv4 and UDP checksums computed. No
 * association table, no parsing beyond the IP header: it is a bound on what the rewrite
 * path could reach, to compare with the gateway and the accept-only floor.
 *
 * With -s the same loop takes the daemon's way out instead: NF_DROP for each packet and
 * its SCTP packet sent as a UDP datagram through udp_send_batch (libgw.a, one sendmmsg
 * for the batch, the daemon's socket options) straight from the receive buffers, as the
 * worker does, so the two mechanisms compare with nothing else different. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "addr.h"
#include "conf.h"
#include "udp.h"
#include "nfq.h"
#include "nft.h"
#include "pkt.h"

#define RW_QUEUE_MAXLEN 4096 /* GW_QUEUE_MAXLEN in src/gw.c */
#define RW_BATCH 64          /* packets per round, as NFQ_BATCH in src/nfq.c */
#define RW_RBUF_LEN (0xffff + 8192)
#define RW_ENCAP 28        /* IPv4 + UDP header in front of the SCTP packet */
#define RW_SLOT_MAX 2048   /* a packet longer than this gets a plain NF_DROP */
#define RW_VERDICT_LEN 128 /* nlmsghdr + nfgenmsg + verdict + payload attribute header */
/* netlink refuses a message larger than the socket's send buffer (about 200 KiB) */
#define RW_VBUF_LEN (RW_BATCH / 2 * (RW_VERDICT_LEN + RW_SLOT_MAX))
#define RW_VBUF_ROOM (RW_VERDICT_LEN + RW_SLOT_MAX)

struct rw_stats {
	unsigned long long rewritten, dropped, verdict_errors, sends, udp_errors;
};

/* -s: the datagrams of one batch, waiting for udp_send_batch; they point into the
 * receive buffers, which stay untouched until the next recvmmsg. */
struct rw_sock {
	struct udp_sock u;
	unsigned n;
	struct udp_out out[RW_BATCH];
};

static uint32_t rw_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t rw_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Write into out the IPv4 + UDP packet carrying the SCTP packet of the IPv4 packet ip;
 * returns its length, 0 when ip is not IPv4 SCTP without options we can take. */
static size_t rw_build(uint8_t *out, const uint8_t *ip, size_t len, const struct gw_addr *src,
		       uint16_t port)
{
	struct gw_addr dst = { .family = AF_INET };
	size_t ihl, slen, ulen;
	uint8_t *udp = out + 20;
	uint32_t sum;

	if (len < 20 || ip[0] >> 4 != 4 || ip[9] != IPPROTO_SCTP_NUM)
		return 0;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + SCTP_COMMON_HDR_LEN || len - ihl + RW_ENCAP > RW_SLOT_MAX)
		return 0;
	slen = len - ihl;
	ulen = slen + 8;
	memcpy(&dst.v4, ip + 16, 4);
	if (pkt_build_ipv4(out, src, &dst, ip[1], 64, IPPROTO_UDP, ulen) != 20)
		return 0;
	udp[0] = (uint8_t)(port >> 8);
	udp[1] = (uint8_t)port;
	udp[2] = (uint8_t)(port >> 8);
	udp[3] = (uint8_t)port;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, ip + ihl, slen);
	/* pseudo-header: addresses, protocol, UDP length; then header and payload */
	sum = rw_sum(0, out + 12, 8) + IPPROTO_UDP + (uint32_t)ulen;
	sum = rw_fold(rw_sum(sum, udp, ulen));
	if (!sum)
		sum = 0xffff;
	udp[6] = (uint8_t)(sum >> 8);
	udp[7] = (uint8_t)sum;
	return 20 + ulen;
}

/* One NFQNL_MSG_PACKET into a verdict at vbuf + off (rewritten packet in NFQA_PAYLOAD, or
 * NF_DROP); returns the new offset. Messages without a packet id are skipped. */
/* -s: queue the SCTP packet of ip for the batch's sendmmsg; false when it cannot go. */
static bool rw_queue_dgram(struct rw_sock *k, const uint8_t *ip, size_t len, uint16_t port)
{
	struct udp_out *o;
	size_t ihl;

	if (k->n == RW_BATCH || len < 20 || ip[0] >> 4 != 4 || ip[9] != IPPROTO_SCTP_NUM)
		return false;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + SCTP_COMMON_HDR_LEN || len - ihl > RW_SLOT_MAX)
		return false;
	o = &k->out[k->n];
	*o = (struct udp_out){ .dst = { .family = AF_INET },
			       .port = port,
			       .tos = ip[1],
			       .data = ip + ihl,
			       .len = len - ihl };
	memcpy(&o->dst.v4, ip + 16, 4);
	k->n++;
	return true;
}

static size_t rw_one(const struct nlmsghdr *nlh, char *vbuf, size_t off, uint16_t qnum,
		     const struct gw_addr *src, uint16_t port, struct rw_sock *k,
		     struct rw_stats *st)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *v;
	struct nlattr *pa;
	size_t n = 0;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		st->verdict_errors++;
		return off;
	}
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) ||
	    nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return off;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	v = nfq_nlmsg_put(vbuf + off, NFQNL_MSG_VERDICT, qnum);
	/* the payload attribute is written in place: no second copy of the packet */
	pa = mnl_nlmsg_get_payload_tail(v);
	if (k && attr[NFQA_PAYLOAD]) {
		st->rewritten += rw_queue_dgram(k, mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
						mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]), port);
		nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_DROP);
		return off + v->nlmsg_len;
	}
	if (attr[NFQA_PAYLOAD])
		n = rw_build((uint8_t *)mnl_attr_get_payload(pa),
			     mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
			     mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]), src, port);
	/* the verdict attribute goes after the payload one: nfq_nlmsg_verdict_put appends */
	if (n) {
		pa->nla_type = NFQA_PAYLOAD;
		pa->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + n);
		v->nlmsg_len += MNL_ALIGN(pa->nla_len);
		st->rewritten++;
	} else {
		st->dropped++;
	}
	nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), n ? NF_ACCEPT : NF_DROP);
	return off + v->nlmsg_len;
}

/* Every verdict built so far in one send; the netlink socket's default destination is
 * the kernel. */
static int rw_send(int fd, const char *vbuf, size_t *off, struct rw_stats *st)
{
	if (!*off)
		return 0;
	if (send(fd, vbuf, *off, 0) < 0) {
		perror("nfq_rewrite: send");
		return -1;
	}
	*off = 0;
	st->sends++;
	return 0;
}

/* -s: the batch's datagrams in one sendmmsg (per family) */
static void rw_sock_flush(struct rw_sock *k, struct rw_stats *st)
{
	if (!k || !k->n)
		return;
	st->udp_errors += k->n - udp_send_batch(&k->u, k->out, k->n);
	k->n = 0;
}

int main(int argc, char **argv)
{
	static struct gw_conf conf;
	static char rbuf[RW_BATCH][RW_RBUF_LEN], vbuf[RW_VBUF_LEN];
	static struct mmsghdr msgs[RW_BATCH];
	static struct iovec iovs[RW_BATCH];
	char err[CONF_ERR_LEN + 128];
	enum nft_queue_kind kind;
	struct epoll_event ev = { .events = EPOLLIN };
	struct rw_stats st = { 0 };
	static struct rw_sock sock;
	struct rw_sock *sk = NULL;
	struct gw_addr src;
	struct nfqueue *q;
	sigset_t mask;
	int epfd, sigfd, fd, rc = 1, a = 1;

	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		sk = &sock;
		a++;
	}
	if (argc != a + 2 || addr_parse(argv[a + 1], &src) < 0 || src.family != AF_INET) {
		fprintf(stderr, "usage: nfq_rewrite [-s] CONFIG OUTSIDE_IPV4_ADDRESS\n");
		return 2;
	}
	if (conf_load_file(argv[a], &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (sk && udp_open(&sk->u, conf.udp_port, conf.mark, false, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	q = nfqueue_open(conf.queue_num, RW_QUEUE_MAXLEN, err, sizeof(err));
	if (!q) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fd = nfqueue_fd(q);
	ev.data.fd = fd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	ev.data.fd = sigfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	if (nft_install(&conf, false, &kind, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	printf("ready: queue %u via %s, %s UDP %u from %s\n", conf.queue_num,
	       nft_queue_kind_name(kind), sk ? "sending through the socket as" : "rewriting to",
	       conf.udp_port, argv[a + 1]);
	fflush(stdout);
	for (;;) {
		struct epoll_event got[8];
		int k = epoll_wait(epfd, got, 8, -1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		for (int i = 0; i < k; i++) {
			size_t off = 0;
			int got_n;

			if (got[i].data.fd == sigfd)
				goto stop;
			for (int b = 0; b < RW_BATCH; b++) {
				iovs[b] = (struct iovec){ .iov_base = rbuf[b],
							  .iov_len = RW_RBUF_LEN };
				msgs[b].msg_hdr =
					(struct msghdr){ .msg_iov = &iovs[b], .msg_iovlen = 1 };
			}
			got_n = recvmmsg(fd, msgs, RW_BATCH, MSG_DONTWAIT, NULL);

			for (int b = 0; b < got_n; b++) {
				const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf[b];
				int len = (int)msgs[b].msg_len;

				for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
					if (off + RW_VBUF_ROOM > sizeof(vbuf) &&
					    rw_send(fd, vbuf, &off, &st) < 0)
						goto stop;
					off = rw_one(nlh, vbuf, off, conf.queue_num, &src,
						     conf.udp_port, sk, &st);
				}
			}
			if (rw_send(fd, vbuf, &off, &st) < 0)
				goto stop;
			rw_sock_flush(sk, &st);
		}
	}
stop:
	rc = 0;
	if (nft_remove(err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		rc = 1;
	}
	printf("%s=%llu dropped=%llu verdict_errors=%llu sends=%llu udp_errors=%llu\n",
	       sk ? "sent" : "rewritten", st.rewritten, st.dropped, st.verdict_errors, st.sends,
	       st.udp_errors);
out:
	nfqueue_close(q);
	if (sk)
		udp_close(&sk->u);
	return rc;
}
