/* udp_floor.c - the floor for the inbound path: the daemon's own UDP receive (udp_open,
 * udp_recv_batch with the same batch and buffer layout as src/gw.c) and raw-socket
 * injection (inject_open, inject_send), with no parsing, no CRC32c check and no lookup
 * in between: every datagram is re-emitted as native SCTP to one fixed address. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "inject.h"
#include "udp.h"

/* The values of src/gw.c. */
#define FLOOR_BATCH 32
#define FLOOR_HEADROOM 64
#define FLOOR_DGRAM_CAP 65536

int main(int argc, char **argv)
{
	static struct udp_dgram dg[FLOOR_BATCH];
	char err[256];
	struct udp_sock u;
	struct inject_sock inj;
	struct gw_addr to;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned long long n = 0, errs = 0;
	uint8_t *mem;
	sigset_t mask;
	int epfd, sigfd;

	if (argc != 2 || addr_parse(argv[1], &to) < 0) {
		fprintf(stderr, "usage: udp_floor INTERNAL_ADDRESS\n");
		return 2;
	}
	mem = malloc((size_t)FLOOR_BATCH * (FLOOR_HEADROOM + FLOOR_DGRAM_CAP));
	if (!mem)
		return 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (udp_open(&u, CONF_DEFAULT_UDP_PORT, CONF_DEFAULT_MARK, false, err, sizeof(err)) < 0 ||
	    inject_open(&inj, CONF_DEFAULT_MARK, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ev.data.fd = u.fd4;
	epoll_ctl(epfd, EPOLL_CTL_ADD, u.fd4, &ev);
	ev.data.fd = sigfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct epoll_event got[8];
		int k = epoll_wait(epfd, got, 8, -1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		for (int i = 0; i < k; i++) {
			if (got[i].data.fd == sigfd)
				goto stop;
			/* as gw_on_udp: up to 8 full batches per wake-up */
			for (int round = 0; round < 8; round++) {
				int r;

				for (int j = 0; j < FLOOR_BATCH; j++)
					dg[j].buf = mem +
						    (size_t)j * (FLOOR_HEADROOM + FLOOR_DGRAM_CAP) +
						    FLOOR_HEADROOM;
				r = udp_recv_batch(u.fd4, dg, FLOOR_BATCH, FLOOR_DGRAM_CAP);
				if (r <= 0)
					break;
				for (int j = 0; j < r; j++) {
					if (dg[j].len > FLOOR_DGRAM_CAP ||
					    inject_send(&inj, &dg[j].src, &to, dg[j].tos, dg[j].buf,
							dg[j].len) < 0)
						errs++;
					else
						n++;
				}
				if (r < FLOOR_BATCH)
					break;
			}
		}
	}
stop:
	printf("injected=%llu errors=%llu\n", n, errs);
	udp_close(&u);
	inject_close(&inj);
	free(mem);
	return 0;
}
