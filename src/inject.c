/* inject.c - decapsulated SCTP back on the wire as native packets. IPv4 goes through an
 * IP_HDRINCL raw socket (we choose the source: the peer as seen); IPv6 through an
 * IPPROTO_RAW socket, which also takes a complete header. Both carry the daemon's mark
 * so its own rules never queue them again. ICMP errors for internal hosts go through
 * raw ICMP / ICMPv6 sockets instead: they come from the gateway itself, so the kernel
 * picks the source address and writes the IP header. */
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/icmp.h>

#include "inject.h"
#include "log.h"
#include "pkt.h"

static int raw_open(int family, uint32_t mark, char *err, size_t errlen)
{
	int fd, one = 1;

	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0) {
		snprintf(err, errlen, "raw %s socket: %s (needs CAP_NET_RAW)",
			 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		return -1;
	}
	/* Required: the daemon writes the IPv4 header (the source is the peer as seen);
	 * IPPROTO_RAW implies it, but the design must not rest on an implication. The mark
	 * keeps the daemon's own rules from queueing its packets again. */
	if (family == AF_INET && setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "inject: setsockopt IP_HDRINCL: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		snprintf(err, errlen,
			 "inject: setsockopt SO_MARK on raw socket: %s (needs "
			 "CAP_NET_ADMIN)",
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A send-only raw ICMP socket: every ICMP message the host receives would otherwise be
 * copied to it and sit unread, so all types are filtered out. */
static int icmp_open(int family, uint32_t mark, char *err, size_t errlen)
{
	int fd, rc, small = 1;

	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (fd < 0) {
		snprintf(err, errlen, "raw %s socket: %s (needs CAP_NET_RAW)",
			 family == AF_INET ? "ICMP" : "ICMPv6", strerror(errno));
		return -1;
	}
	/* Required: the filter (without it the socket queues every ICMP message the host
	 * gets) and the mark. Optional: the smallest receive buffer, a second line of
	 * defence behind the filter. */
	if (family == AF_INET) {
		struct icmp_filter f = { .data = ~0u };

		rc = setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		rc = setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	if (rc < 0) {
		snprintf(err, errlen, "inject: setsockopt %s: %s",
			 family == AF_INET ? "ICMP_FILTER" : "ICMP6_FILTER", strerror(errno));
		close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) < 0)
		log_warn("inject: setsockopt SO_RCVBUF on ICMP socket");
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		snprintf(err, errlen,
			 "inject: setsockopt SO_MARK on ICMP socket: %s (needs "
			 "CAP_NET_ADMIN)",
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int inject_open(struct inject_sock *s, uint32_t mark, char *err, size_t errlen)
{
	s->fd4 = s->fd6 = s->icmp4 = s->icmp6 = -1;
	s->fd4 = raw_open(AF_INET, mark, err, errlen);
	if (s->fd4 < 0)
		goto fail;
	s->icmp4 = icmp_open(AF_INET, mark, err, errlen);
	if (s->icmp4 < 0)
		goto fail;
	/* A host without IPv6 still serves IPv4. */
	s->fd6 = raw_open(AF_INET6, mark, err, errlen);
	if (s->fd6 < 0 && errno != EAFNOSUPPORT)
		goto fail;
	if (s->fd6 >= 0) {
		s->icmp6 = icmp_open(AF_INET6, mark, err, errlen);
		if (s->icmp6 < 0)
			goto fail;
	}
	return 0;
fail:
	inject_close(s);
	return -1;
}

void inject_close(struct inject_sock *s)
{
	if (s->fd4 >= 0)
		close(s->fd4);
	if (s->fd6 >= 0)
		close(s->fd6);
	if (s->icmp4 >= 0)
		close(s->icmp4);
	if (s->icmp6 >= 0)
		close(s->icmp6);
	s->fd4 = s->fd6 = s->icmp4 = s->icmp6 = -1;
}

/* Write the IP header in front of the SCTP packet at sctp and say how to send it: the
 * whole packet in iov, to sa (salen). Returns the raw socket of dst's family, or -errno
 * when there is nothing to send. inject_send and inject_send_batch share it. */
static int inject_prepare(const struct inject_sock *s, const struct gw_addr *src,
			  const struct gw_addr *dst, uint8_t tos, uint8_t *sctp, size_t len,
			  union gw_sockaddr *sa, socklen_t *salen, struct iovec *iov)
{
	uint8_t *hdr;
	size_t hl;
	int fd;

	if (dst->family == AF_INET) {
		hdr = sctp - 20;
		hl = pkt_build_ipv4(hdr, src, dst, tos, 64, IPPROTO_SCTP_NUM, len);
		fd = s->fd4;
	} else {
		hdr = sctp - 40;
		hl = pkt_build_ipv6(hdr, src, dst, tos, 64, IPPROTO_SCTP_NUM, len);
		fd = s->fd6;
	}
	*salen = addr_to_sockaddr(dst, 0, sa);
	if (!hl)
		return -EMSGSIZE;
	if (fd < 0)
		return -EAFNOSUPPORT;
	iov->iov_base = hdr;
	iov->iov_len = hl + len;
	return fd;
}

int inject_send(struct inject_sock *s, const struct gw_addr *src, const struct gw_addr *dst,
		uint8_t tos, uint8_t *sctp, size_t len)
{
	union gw_sockaddr sa;
	socklen_t salen;
	struct iovec iov;
	int fd;

	fd = inject_prepare(s, src, dst, tos, sctp, len, &sa, &salen, &iov);
	if (fd < 0)
		return fd;
	if (sendto(fd, iov.iov_base, iov.iov_len, MSG_DONTWAIT, &sa.sa, salen) < 0)
		return -errno;
	return 0;
}

/* Send the m messages in mm (for o[idx[0..m)]) through fd. sendmmsg stops at the first
 * packet that fails and, once it has sent others, drops its errno: the next call starts
 * with that packet and reports it. Returns how many went. */
static unsigned inject_send_run(int fd, struct mmsghdr *mm, struct inject_out *o,
				const unsigned *idx, unsigned m)
{
	unsigned i = 0, sent = 0;
	int r;

	while (i < m) {
		r = sendmmsg(fd, mm + i, m - i, MSG_DONTWAIT);
		if (r > 0) {
			for (unsigned k = i; k < i + (unsigned)r; k++)
				o[idx[k]].err = 0;
			i += (unsigned)r;
			sent += (unsigned)r;
			continue;
		}
		o[idx[i++]].err = -errno;
	}
	return sent;
}

unsigned inject_send_batch(struct inject_sock *s, struct inject_out *o, unsigned n)
{
	struct mmsghdr mm[INJECT_BATCH_MAX];
	struct iovec iov[INJECT_BATCH_MAX];
	union gw_sockaddr sa[INJECT_BATCH_MAX];
	unsigned idx[INJECT_BATCH_MAX];
	unsigned i = 0, m, sent = 0;
	bool v4;
	int fd = -1, r;

	while (i < n) {
		v4 = o[i].dst.family == AF_INET;
		/* A run: the next packets of one family; those that cannot be sent at all
		 * get their error now and no message. */
		for (m = 0; m < INJECT_BATCH_MAX && i < n && (o[i].dst.family == AF_INET) == v4;
		     i++) {
			struct inject_out *p = &o[i];
			struct msghdr *mh = &mm[m].msg_hdr;
			socklen_t salen;

			r = inject_prepare(s, &p->src, &p->dst, p->tos, p->sctp, p->len, &sa[m],
					   &salen, &iov[m]);
			if (r < 0) {
				p->err = r;
				continue;
			}
			fd = r;
			memset(&mm[m], 0, sizeof(mm[m]));
			mh->msg_name = &sa[m];
			mh->msg_namelen = salen;
			mh->msg_iov = &iov[m];
			mh->msg_iovlen = 1;
			idx[m++] = i;
		}
		if (m)
			sent += inject_send_run(fd, mm, o, idx, m);
	}
	return sent;
}

int inject_icmp(struct inject_sock *s, const struct gw_addr *dst, const void *msg, size_t len)
{
	union gw_sockaddr sa;
	socklen_t salen = addr_to_sockaddr(dst, 0, &sa);
	int fd = dst->family == AF_INET ? s->icmp4 : s->icmp6;

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, msg, len, MSG_DONTWAIT, &sa.sa, salen) < 0)
		return -errno;
	return 0;
}
