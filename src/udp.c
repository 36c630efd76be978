/* udp.c - the encapsulation sockets (RFC 6951): one per address family, bound to the
 * local encapsulation port, receiving in batches with the local address and TOS and
 * sending in batches (sendmmsg).
 *
 * Datagrams go out with DF and are not fragmented by the gateway (IP_PMTUDISC_DO): a
 * packet that does not fit fails with EMSGSIZE and the internal host is told the MTU
 * instead. Only udp_send_frag, for an inner packet that allowed fragmentation itself,
 * lifts that for one datagram. ICMP errors about our datagrams wait in the error queue
 * (IP_RECVERR). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/errqueue.h>

#include "log.h"
#include "udp.h"

#define UDP_SOCKBUF (4 * 1024 * 1024)

/* An integer socket option. */
struct udp_opt {
	int level, name;
	const char *what;
	int val;
};

/*
 * Required: the design depends on them, so setup fails naming the option. PKTINFO and
 * TOS / TCLASS give every datagram its local address and ECN bits (RFC 6951 5.8);
 * RECVERR puts ICMP errors and the path MTU in the error queue (RFC 6951 5.5);
 * MTU_DISCOVER DO keeps DF on and the gateway from fragmenting; V6ONLY lets the IPv4
 * socket have the port's IPv4 side.
 */
static const struct udp_opt udp_opts4[] = {
	{ IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO", 1 },
	{ IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS", 1 },
	{ IPPROTO_IP, IP_RECVERR, "IP_RECVERR", 1 },
	{ IPPROTO_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER", IP_PMTUDISC_DO },
};
static const struct udp_opt udp_opts6[] = {
	{ IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", 1 },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", 1 },
	{ IPPROTO_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS", 1 },
	{ IPPROTO_IPV6, IPV6_RECVERR, "IPV6_RECVERR", 1 },
	{ IPPROTO_IPV6, IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER", IPV6_PMTUDISC_DO },
};

static int udp_setopt(int fd, const struct udp_opt *o, char *err, size_t errlen)
{
	if (setsockopt(fd, o->level, o->name, &o->val, sizeof(o->val)) == 0)
		return 0;
	snprintf(err, errlen, "udp: setsockopt %s: %s", o->what, strerror(errno));
	return -1;
}

/* Optional: big buffers absorb bursts from many associations between two loop turns;
 * without CAP_NET_ADMIN the kernel clamps them to its maximum, worth a warning only. */
static void udp_set_bufs(int fd)
{
	int bufsz = UDP_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz)) < 0)
		log_warn("udp: setsockopt SO_RCVBUF");
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz)) < 0)
		log_warn("udp: setsockopt SO_SNDBUF");
}

/* Every option of a new socket; the mark (required when set) routes the datagrams as
 * the daemon's own, and with several workers the port is shared (SO_REUSEPORT). */
static int udp_set_opts(int fd, int family, uint32_t mark, bool reuseport, char *err, size_t errlen)
{
	const struct udp_opt *opts = family == AF_INET ? udp_opts4 : udp_opts6;
	size_t n = family == AF_INET ? sizeof(udp_opts4) / sizeof(udp_opts4[0])
				     : sizeof(udp_opts6) / sizeof(udp_opts6[0]);
	struct udp_opt o;

	for (size_t i = 0; i < n; i++)
		if (udp_setopt(fd, &opts[i], err, errlen) < 0)
			return -1;
	udp_set_bufs(fd);
	o = (struct udp_opt){ SOL_SOCKET, SO_MARK, "SO_MARK", (int)mark };
	if (mark && udp_setopt(fd, &o, err, errlen) < 0)
		return -1;
	o = (struct udp_opt){ SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 1 };
	if (reuseport && udp_setopt(fd, &o, err, errlen) < 0)
		return -1;
	return 0;
}

static int udp_open_family(int family, uint16_t port, uint32_t mark, bool reuseport, char *err,
			   size_t errlen)
{
	struct gw_addr any = { .family = (uint8_t)family };
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	union gw_sockaddr sa;
	socklen_t salen = addr_to_sockaddr(&any, port, &sa);
	int fd, e;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "udp socket: %s", strerror(e));
		errno = e; /* udp_open tells a host without IPv6 by it */
		return -1;
	}
	if (udp_set_opts(fd, family, mark, reuseport, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	if (bind(fd, &sa.sa, salen) == 0)
		return fd;
	e = errno;
	if (e == EADDRINUSE)
		snprintf(err, errlen,
			 "UDP port %u (%s) is already in use by another program; if it is the "
			 "kernel's SCTP (sysctl net.sctp.udp_port), set that to 0 or choose "
			 "another udp-port",
			 port, fam);
	else
		snprintf(err, errlen, "bind UDP port %u (%s): %s", port, fam, strerror(e));
	close(fd);
	errno = e;
	return -1;
}

int udp_open(struct udp_sock *u, uint16_t port, uint32_t mark, bool reuseport, char *err,
	     size_t errlen)
{
	u->port = port;
	u->fd6 = -1;
	u->fd4 = udp_open_family(AF_INET, port, mark, reuseport, err, errlen);
	if (u->fd4 < 0)
		return -1;
	u->fd6 = udp_open_family(AF_INET6, port, mark, reuseport, err, errlen);
	if (u->fd6 < 0) {
		/* A host without IPv6 still serves IPv4. */
		if (errno == EAFNOSUPPORT)
			return 0;
		close(u->fd4);
		u->fd4 = -1;
		return -1;
	}
	return 0;
}

void udp_close(struct udp_sock *u)
{
	if (u->fd4 >= 0)
		close(u->fd4);
	if (u->fd6 >= 0)
		close(u->fd6);
	u->fd4 = u->fd6 = -1;
}

/* The errors an ICMP message about one of our datagrams leaves on the socket. */
static bool udp_icmp_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case EMSGSIZE:
	case ENOPROTOOPT:
	case EPROTO:
	case EACCES:
		return true;
	}
	return false;
}

/* Aligned as struct cmsghdr (its first member is a size_t), which cannot itself be the
 * member of an array element: it ends in a flexible array. */
union udp_cbuf {
	char buf[CMSG_SPACE(sizeof(int))];
	size_t align;
};

/* Fill in mh, with its address, iovec and control buffer, for one datagram; udp_send and
 * udp_send_batch build the same message. Returns the socket of dst's family (-1: none). */
static int udp_msg_fill(const struct udp_sock *u, struct msghdr *mh, union gw_sockaddr *sa,
			struct iovec *iov, union udp_cbuf *cbuf, const struct gw_addr *dst,
			uint16_t port, uint8_t tos, const void *buf, size_t len)
{
	struct cmsghdr *cm;
	int fd, ecn = tos & 0x3;

	memset(mh, 0, sizeof(*mh));
	iov->iov_base = (void *)buf;
	iov->iov_len = len;
	mh->msg_name = sa;
	mh->msg_namelen = addr_to_sockaddr(dst, port, sa);
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	fd = dst->family == AF_INET ? u->fd4 : u->fd6;
	/* RFC 6951 5.8: the ECN bits travel unchanged. */
	if (ecn) {
		memset(cbuf, 0, sizeof(*cbuf));
		mh->msg_control = cbuf->buf;
		mh->msg_controllen = sizeof(cbuf->buf);
		cm = CMSG_FIRSTHDR(mh);
		cm->cmsg_level = dst->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
		cm->cmsg_type = dst->family == AF_INET ? IP_TOS : IPV6_TCLASS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &ecn, sizeof(ecn));
	}
	return fd;
}

int udp_send(struct udp_sock *u, const struct gw_addr *dst, uint16_t port, uint8_t tos,
	     const void *buf, size_t len)
{
	union gw_sockaddr sa;
	union udp_cbuf cbuf;
	struct iovec iov;
	struct msghdr mh;
	int fd;

	fd = udp_msg_fill(u, &mh, &sa, &iov, &cbuf, dst, port, tos, buf, len);
	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendmsg(fd, &mh, MSG_DONTWAIT) >= 0)
		return 0;
	/* With IP_RECVERR an ICMP error about an earlier datagram also becomes the socket's
	 * pending error, and the next send may return it instead of sending (the datagram
	 * is then not sent at all). That send took the pending error; a second try tells a
	 * stale error from a real one. */
	if (!udp_icmp_errno(errno) || sendmsg(fd, &mh, MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

/* Send o[0..m), built in mm, through fd. sendmmsg stops at the first datagram that fails
 * and, once it has sent others, drops that datagram's errno: the next call starts with it
 * and reports the errno. As in udp_send, a datagram has at most two tries, the second
 * after an ICMP error (or the unknown one of a short count). Returns how many went. */
static unsigned udp_send_run(int fd, struct mmsghdr *mm, struct udp_out *o, unsigned m)
{
	unsigned i = 0, sent = 0;
	bool tried = false; /* o[i] has failed once */
	int r;

	while (i < m) {
		r = sendmmsg(fd, mm + i, m - i, MSG_DONTWAIT);
		if (r > 0) {
			for (unsigned k = i; k < i + (unsigned)r; k++)
				o[k].err = 0;
			i += (unsigned)r;
			sent += (unsigned)r;
			tried = i < m;
			continue;
		}
		if (!tried && udp_icmp_errno(errno)) {
			tried = true;
			continue;
		}
		o[i++].err = -errno;
		tried = false;
	}
	return sent;
}

unsigned udp_send_batch(struct udp_sock *u, struct udp_out *o, unsigned n)
{
	struct mmsghdr mm[UDP_BATCH_MAX];
	struct iovec iov[UDP_BATCH_MAX];
	union gw_sockaddr sa[UDP_BATCH_MAX];
	union udp_cbuf cbuf[UDP_BATCH_MAX];
	unsigned i = 0, m, sent = 0;
	bool v4;
	int fd = -1;

	while (i < n) {
		v4 = o[i].dst.family == AF_INET;
		for (m = 0;
		     m < UDP_BATCH_MAX && i + m < n && (o[i + m].dst.family == AF_INET) == v4;
		     m++) {
			struct udp_out *d = &o[i + m];

			fd = udp_msg_fill(u, &mm[m].msg_hdr, &sa[m], &iov[m], &cbuf[m], &d->dst,
					  d->port, d->tos, d->data, d->len);
			mm[m].msg_len = 0;
		}
		if (fd < 0) {
			for (unsigned k = i; k < i + m; k++)
				o[k].err = -EAFNOSUPPORT;
		} else {
			sent += udp_send_run(fd, mm, o + i, m);
		}
		i += m;
	}
	return sent;
}

/* No per-send cmsg switches path MTU discovery off, so the socket option is turned off
 * around one sendmsg and back on. The datagram's fragments are built inside sendmsg, so
 * it alone goes out without DF. Rare path: two extra system calls are fine. */
int udp_send_frag(struct udp_sock *u, const struct gw_addr *dst, uint16_t port, uint8_t tos,
		  const void *buf, size_t len)
{
	bool v4 = dst->family == AF_INET;
	int fd = v4 ? u->fd4 : u->fd6, level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
	int opt = v4 ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER;
	int dont = v4 ? IP_PMTUDISC_DONT : IPV6_PMTUDISC_DONT;
	int discover = v4 ? IP_PMTUDISC_DO : IPV6_PMTUDISC_DO;
	int err;

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (setsockopt(fd, level, opt, &dont, sizeof(dont)) < 0)
		return -errno;
	err = udp_send(u, dst, port, tos, buf, len);
	/* Cannot fail with these arguments; if it ever did, say so rather than go on
	 * fragmenting every datagram silently. */
	if (setsockopt(fd, level, opt, &discover, sizeof(discover)) < 0)
		return -errno;
	return err;
}

/* The local address and TOS / traffic class of a received datagram, from its control
 * messages (IP_PKTINFO, IP_TOS, IPV6_PKTINFO, IPV6_TCLASS). */
static void udp_read_cmsgs(struct msghdr *mh, struct udp_dgram *d)
{
	d->tos = 0;
	memset(&d->dst, 0, sizeof(d->dst));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			addr_from_v4(&d->dst, pi.ipi_addr.s_addr);
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS) {
			d->tos = *(uint8_t *)CMSG_DATA(cm);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			d->dst.family = AF_INET6;
			d->dst.v6 = pi.ipi6_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS) {
			int tc;

			memcpy(&tc, CMSG_DATA(cm), sizeof(tc));
			d->tos = (uint8_t)tc;
		}
	}
}

int udp_recv_batch(int fd, struct udp_dgram *dg, unsigned n, size_t cap)
{
	struct mmsghdr mm[UDP_BATCH_MAX];
	struct iovec iov[UDP_BATCH_MAX];
	union gw_sockaddr from[UDP_BATCH_MAX];
	char cbuf[UDP_BATCH_MAX][CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
	int got;

	if (n > UDP_BATCH_MAX)
		n = UDP_BATCH_MAX;
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = dg[i].buf;
		iov[i].iov_len = cap;
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_name = &from[i];
		mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = cbuf[i];
		mm[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
	}
	got = recvmmsg(fd, mm, n, MSG_DONTWAIT, NULL);
	if (got < 0) {
		/* With IP_RECVERR an ICMP error is also reported once as the socket's
		 * pending error when the queue is empty; the error queue has the details. */
		if (errno == EAGAIN || udp_icmp_errno(errno))
			return 0;
		return -errno;
	}

	for (int i = 0; i < got; i++) {
		struct msghdr *mh = &mm[i].msg_hdr;
		struct udp_dgram *d = &dg[i];

		d->len = mm[i].msg_len;
		if (mh->msg_flags & MSG_TRUNC)
			d->len = cap + 1; /* the caller sees it as too long */
		addr_from_sockaddr(&from[i], &d->src, &d->src_port);
		udp_read_cmsgs(mh, d);
	}
	return got;
}

int udp_recv_error(int fd, struct udp_err *e, uint8_t *buf, size_t cap)
{
	union gw_sockaddr to;
	/* struct sock_extended_err is followed by the offender's address; for ICMP errors
	 * the kernel puts IP_PKTINFO / IP_TOS (we asked for them) before it. */
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6)) +
			 CMSG_SPACE(sizeof(struct in6_pktinfo)) + 2 * CMSG_SPACE(sizeof(int)) + 64];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_name = &to,
		.msg_namelen = sizeof(to),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;
	bool found = false;

	memset(&to, 0, sizeof(to));
	memset(e, 0, sizeof(*e));
	n = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	e->payload = buf;
	e->len = (size_t)n;
	addr_from_sockaddr(&to, &e->dst, &e->dst_port);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		struct sock_extended_err ee;
		union gw_sockaddr off;
		size_t room;

		if (!((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
		      (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
			continue;
		if (cm->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
		e->errnum = ee.ee_errno;
		e->origin = ee.ee_origin;
		e->type = ee.ee_type;
		e->code = ee.ee_code;
		e->info = ee.ee_info;
		room = cm->cmsg_len - CMSG_LEN(sizeof(ee));
		memset(&off, 0, sizeof(off));
		memcpy(&off, CMSG_DATA(cm) + sizeof(ee), room < sizeof(off) ? room : sizeof(off));
		addr_from_sockaddr(&off, &e->offender, NULL);
		found = true;
	}
	if (!found)
		e->origin = SO_EE_ORIGIN_NONE;
	return 1;
}

int udp_path_mtu(const struct gw_addr *dst, uint32_t mark)
{
	union gw_sockaddr sa;
	/* any port: connect only looks up the route */
	socklen_t salen = addr_to_sockaddr(dst, 9, &sa), ol = sizeof(int);
	int fd, mtu = 0, rc;

	fd = socket(dst->family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	/* the datagrams' route is the one for the mark: without it the MTU could be another's */
	if ((mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) ||
	    connect(fd, &sa.sa, salen) < 0 ||
	    getsockopt(fd, dst->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       dst->family == AF_INET ? IP_MTU : IPV6_MTU, &mtu, &ol) < 0)
		rc = -errno;
	else
		rc = mtu;
	close(fd);
	return rc;
}
