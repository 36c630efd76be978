/* nfq_floor.c - the floor for the outbound path: the daemon's own nftables rules and
 * NFQUEUE code (nft_install, nfqueue_open, nfqueue_process from libgw.a, so the same
 * rule, queue length, buffer sizes and batching), with a callback that only says
 * NF_ACCEPT. The packets then go on natively; whatever the gateway costs beyond this
 * is parsing, the association table, CRC32c and the UDP send. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "compiler.h"
#include "conf.h"
#include "nfq.h"
#include "nft.h"

#include <linux/netfilter.h> /* after <netinet/in.h>, which conf.h brings */

#define FLOOR_QUEUE_MAXLEN 4096 /* GW_QUEUE_MAXLEN in src/gw.c */

static unsigned floor_accept(struct nfqueue_packet *p GW_UNUSED, void *arg)
{
	(*(unsigned long long *)arg)++;
	return NF_ACCEPT;
}

int main(int argc, char **argv)
{
	static struct gw_conf conf;
	char err[CONF_ERR_LEN + 128];
	enum nft_queue_kind kind;
	struct epoll_event ev = { .events = EPOLLIN };
	struct nfqueue *q;
	unsigned long long n = 0;
	sigset_t mask;
	int epfd, sigfd, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: nfq_floor CONFIG\n");
		return 2;
	}
	if (conf_load_file(argv[1], &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	q = nfqueue_open(conf.queue_num, FLOOR_QUEUE_MAXLEN, err, sizeof(err));
	if (!q) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ev.data.fd = nfqueue_fd(q);
	epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sigfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	if (nft_install(&conf, false, &kind, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	printf("ready: queue %u via %s\n", conf.queue_num, nft_queue_kind_name(kind));
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
			if (nfqueue_process(q, floor_accept, &n) < 0) {
				perror("nfqueue_process");
				goto stop;
			}
		}
	}
stop:
	rc = 0;
	if (nft_remove(err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		rc = 1;
	}
	printf("accepted=%llu enobufs=%llu\n", n, (unsigned long long)nfqueue_enobufs(q));
out:
	nfqueue_close(q);
	return rc;
}
