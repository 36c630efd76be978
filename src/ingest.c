/* ingest.c - raw IPPROTO_SCTP sockets for relay mode on kernels without SCTP.
 *
 * Raw sockets see every SCTP packet delivered to this host, not only those to relay
 * ports; xlate_relay() tells them apart. Those the daemon injected itself (host mode
 * delivers decapsulated packets to the local stack) carry its mark, read with
 * SO_RCVMARK where the kernel has it (5.19+). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest.h"
#include "log.h"
#include "pkt.h"

#ifndef SO_RCVMARK
#define SO_RCVMARK 75
#endif
#ifndef IPV6_HDR_LEN
#define IPV6_HDR_LEN 40
#endif

bool ingest_kernel_has_sctp(void)
{
	/* The module creates it in every namespace when it loads; socket(...,
	 * IPPROTO_SCTP) would instead load the module, changing what we test for. */
	return access("/proc/net/sctp", F_OK) == 0;
}

static int ingest_open_one(int family, char *err, size_t errlen)
{
	static const struct {
		int name;
		const char *what;
	} opts6[] = {
		{ IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO" },
		{ IPV6_RECVTCLASS, "IPV6_RECVTCLASS" },
		{ IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT" },
	};
	int fd, one = 1, big = 4 << 20;

	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP);
	if (fd < 0) {
		snprintf(err, errlen, "raw SCTP %s socket: %s (needs CAP_NET_RAW)",
			 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		return -1;
	}
	/* Optional: a big buffer (the kernel may clamp it), and SO_RCVMARK, which kernels
	 * before 5.19 lack (the daemon's own packets are then told by nothing else). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) < 0)
		log_warn("ingest: setsockopt SO_RCVBUF");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVMARK, &one, sizeof(one)) < 0)
		log_warn("ingest: setsockopt SO_RCVMARK");
	/* Required for IPv6, whose raw sockets strip the header: ingest_recv rebuilds it
	 * from the local address, traffic class and hop limit. */
	for (size_t i = 0; family == AF_INET6 && i < sizeof(opts6) / sizeof(opts6[0]); i++) {
		if (setsockopt(fd, IPPROTO_IPV6, opts6[i].name, &one, sizeof(one)) < 0) {
			snprintf(err, errlen, "ingest: setsockopt %s: %s", opts6[i].what,
				 strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

int ingest_open(struct ingest_sock *s, uint32_t mark, char *err, size_t errlen)
{
	s->mark = mark;
	s->fd6 = -1;
	s->fd4 = ingest_open_one(AF_INET, err, errlen);
	if (s->fd4 < 0)
		return -1;
	s->fd6 = ingest_open_one(AF_INET6, err, errlen);
	if (s->fd6 < 0 && errno != EAFNOSUPPORT) {
		ingest_close(s);
		return -1;
	}
	return 0;
}

void ingest_close(struct ingest_sock *s)
{
	if (s->fd4 >= 0)
		close(s->fd4);
	if (s->fd6 >= 0)
		close(s->fd6);
	s->fd4 = s->fd6 = -1;
}

int ingest_recv(const struct ingest_sock *s, int fd, uint8_t *buf, size_t cap, size_t *len,
		uint32_t *markp)
{
	bool v6 = fd == s->fd6;
	size_t off = v6 ? IPV6_HDR_LEN : 0;
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 3 * CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cb;
	union gw_sockaddr from;
	struct iovec iov = { .iov_base = buf + off, .iov_len = cap - off };
	struct msghdr mh = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cb.buf,
		.msg_controllen = sizeof(cb.buf),
	};
	struct gw_addr src, dst = { .family = 0 };
	uint32_t mark = 0;
	int tclass = 0, hops = 64;
	ssize_t n;

	if (cap <= off)
		return -EINVAL;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_MARK) {
			memcpy(&mark, CMSG_DATA(c), sizeof(mark));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst.family = AF_INET6;
			memcpy(dst.bytes, &pi.ipi6_addr, 16);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
			memcpy(&tclass, CMSG_DATA(c), sizeof(tclass));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
			memcpy(&hops, CMSG_DATA(c), sizeof(hops));
		}
	}
	if (s->mark && mark == s->mark)
		return 0;
	*markp = mark;
	if (!v6) {
		*len = (size_t)n;
		return 1;
	}
	addr_from_sockaddr(&from, &src, NULL);
	if (dst.family != AF_INET6 || src.family != AF_INET6)
		return -EPROTO;
	pkt_build_ipv6(buf, &src, &dst, (uint8_t)tclass, (uint8_t)hops, IPPROTO_SCTP, (size_t)n);
	*len = (size_t)n + IPV6_HDR_LEN;
	return 1;
}
