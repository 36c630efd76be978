/* kbulk - bulk SCTP transfer on the Linux kernel's socket API, for the test VMs
 * (tests/e2e/vm) and bench/kernel_bulk.sh. Built static against linux/sctp.h alone.
 *
 *   kbulk recv PORT
 *   kbulk send [-e UDPPORT] [-n COUNT] [-l LEN] ADDR PORT
 *
 * recv accepts associations one after the other and prints, for each, when the sender
 * has shut it down: "kbulk recv: BYTES bytes MSGS msgs in MS ms" (MS from the first
 * byte to the SHUTDOWN). send sends COUNT messages of LEN bytes (default 13981 x 1200,
 * about 16 MB) over one association and closes it gracefully; -e sets the remote UDP
 * encapsulation port (RFC 6951; needs the net.sctp.udp_port sysctl for the local one).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sctp.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_recv(int port)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	static char buf[65536];
	int lfd, one = 1;

	lfd = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&any, sizeof(any)) < 0 || listen(lfd, 4) < 0) {
		printf("kbulk recv: socket / bind / listen: %s\n", strerror(errno));
		return 1;
	}
	printf("kbulk recv: listening on port %d\n", port);
	fflush(stdout);
	for (;;) {
		long long bytes = 0, msgs = 0, first = 0;
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			continue;
		for (;;) {
			struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
			ssize_t r = recvmsg(c, &mh, 0);

			if (r <= 0)
				break;
			if (!first)
				first = now_ms();
			bytes += r;
			if (mh.msg_flags & MSG_EOR)
				msgs++;
		}
		printf("kbulk recv: %lld bytes %lld msgs in %lld ms\n", bytes, msgs,
		       first ? now_ms() - first : 0);
		fflush(stdout);
		close(c);
	}
}

static int run_send(const char *addr, int port, int encaps, long count, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen;
	char *msg = malloc(len);
	long long start;
	long i;
	int fd;

	if (!msg)
		return 1;
	memset(msg, 'k', len);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		slen = sizeof(*sin6);
	} else {
		printf("kbulk send: bad address %s\n", addr);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, IPPROTO_SCTP);
	if (fd < 0) {
		printf("kbulk send: socket: %s\n", strerror(errno));
		return 1;
	}
	if (encaps) {
		struct sctp_udpencaps ue;

		memset(&ue, 0, sizeof(ue));
		ue.sue_port = htons((uint16_t)encaps);
		if (setsockopt(fd, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &ue, sizeof(ue)) <
		    0) {
			printf("kbulk send: SCTP_REMOTE_UDP_ENCAPS_PORT: %s\n", strerror(errno));
			return 1;
		}
	}
	start = now_ms();
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		printf("kbulk send: connect: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < count; i++) {
		if (send(fd, msg, len, 0) != (ssize_t)len) {
			printf("kbulk send: send: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("kbulk send: %ld msgs of %zu bytes queued in %lld ms\n", count, len,
	       now_ms() - start);
	fflush(stdout);
	close(fd); /* graceful SHUTDOWN once everything is acknowledged */
	free(msg);
	return 0;
}

int main(int argc, char **argv)
{
	long count = 13981;
	size_t len = 1200;
	int encaps = 0, c;

	if (argc >= 3 && strcmp(argv[1], "recv") == 0)
		return run_recv(atoi(argv[2]));
	if (argc < 2 || strcmp(argv[1], "send") != 0)
		goto usage;
	optind = 2;
	while ((c = getopt(argc, argv, "e:n:l:")) != -1) {
		switch (c) {
		case 'e':
			encaps = atoi(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'l':
			len = (size_t)atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind + 2 != argc || count < 1 || len < 1 || len > 65536)
		goto usage;
	return run_send(argv[optind], atoi(argv[optind + 1]), encaps, count, len);
usage:
	fprintf(stderr, "usage: kbulk recv PORT\n"
			"       kbulk send [-e UDPPORT] [-n COUNT] [-l LEN] ADDR PORT\n");
	return 2;
}
