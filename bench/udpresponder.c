/* udpresponder.c - the remote peer of the benchmarks: answers an INIT arriving over UDP
 * (RFC 6951) with a hand-built INIT-ACK carrying a fixed initiate tag, so the gateway
 * learns the association, and measures the one-way latency of stamped DATA packets,
 * over UDP and (with -R) as native SCTP through a raw socket.
 *
 * Latency is the kernel's receive timestamp (SO_TIMESTAMPNS, taken when the packet
 * enters this namespace) minus the sender's CLOCK_REALTIME stamp: both ends share the
 * machine's clock, and the receiver's own scheduling delay is left out.
 * On exit (SIGTERM, or -i seconds idle after the first sample) it prints:
 *   inits=N samples=N min=.. p50=.. p90=.. p99=.. p999=.. max=.. (microseconds) */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchpkt.h"
#include "compiler.h"

#define RESP_BUF 65536

static volatile sig_atomic_t resp_quit;

struct resp {
	uint32_t tag;
	uint32_t *lat; /* nanoseconds */
	size_t nlat, maxlat;
	uint64_t inits, other, last_rx_ns;
};

static void resp_on_signal(int sig GW_UNUSED)
{
	resp_quit = 1;
}

static int resp_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double resp_pct(const struct resp *r, double p)
{
	size_t i = (size_t)(p * (double)(r->nlat - 1) + 0.5);

	return r->lat[i] / 1000.0;
}

static void resp_sample(struct resp *r, const uint8_t *s, size_t len, uint64_t rx_ns)
{
	uint64_t tx = bench_data_time(s, len);

	if (!tx) {
		r->other++;
		return;
	}
	r->last_rx_ns = bench_now_ns(CLOCK_MONOTONIC);
	if (r->nlat < r->maxlat) {
		uint64_t d = rx_ns > tx ? rx_ns - tx : 0;

		r->lat[r->nlat++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	}
}

/* One datagram or raw packet; raw ones start with the IP header. */
static void resp_read(struct resp *r, int fd, bool raw)
{
	static uint8_t buf[RESP_BUF];
	char cbuf[CMSG_SPACE(sizeof(struct timespec)) * 2];
	struct sockaddr_in from;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_name = &from,
			     .msg_namelen = sizeof(from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	uint64_t rx_ns = 0;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	uint8_t *s = buf;
	size_t len;

	if (n <= 0)
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			rx_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		}
	}
	if (!rx_ns)
		rx_ns = bench_now_ns(CLOCK_REALTIME);
	len = (size_t)n;
	if (raw) {
		size_t ihl = (size_t)(buf[0] & 0x0f) * 4;

		if (len < ihl)
			return;
		s += ihl;
		len -= ihl;
	}
	if (len < SCTP_COMMON_HDR_LEN + 20)
		return;
	if (!raw && s[SCTP_COMMON_HDR_LEN] == SCTP_CT_INIT && pkt_sctp_checksum_ok(s, len)) {
		uint8_t ack[128];
		size_t al = bench_build_init_ack(ack, (uint16_t)(s[2] << 8 | s[3]),
						 (uint16_t)(s[0] << 8 | s[1]),
						 bench_get32(s + SCTP_COMMON_HDR_LEN + 4), r->tag);

		if (sendto(fd, ack, al, 0, (struct sockaddr *)&from, sizeof(from)) == (ssize_t)al)
			r->inits++;
		return;
	}
	resp_sample(r, s, len, rx_ns);
}

static int resp_socket(int type, int proto, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, type, proto), one = 1, bufsz = 8 << 20;

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	if (type == SOCK_DGRAM) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("bind");
			exit(1);
		}
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct resp r = { .tag = BENCH_RTAG, .maxlat = 4000000 };
	struct sigaction sa = { .sa_handler = resp_on_signal };
	struct pollfd pfd[2];
	uint16_t port = 9899;
	double idle = 0;
	int opt, nfd = 1;
	bool raw = false;

	while ((opt = getopt(argc, argv, "p:T:Ri:n:")) != -1) {
		switch (opt) {
		case 'p':
			port = (uint16_t)atoi(optarg);
			break;
		case 'T':
			r.tag = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'R':
			raw = true;
			break;
		case 'i':
			idle = atof(optarg);
			break;
		case 'n':
			r.maxlat = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: udpresponder [-p PORT] [-T TAG] [-R] [-i IDLE_S] "
					"[-n MAX]\n");
			return 2;
		}
	}
	r.lat = malloc(r.maxlat * sizeof(*r.lat));
	if (!r.lat)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pfd[0] = (struct pollfd){ .fd = resp_socket(SOCK_DGRAM, IPPROTO_UDP, port),
				  .events = POLLIN };
	if (raw)
		pfd[nfd++] = (struct pollfd){ .fd = resp_socket(SOCK_RAW, IPPROTO_SCTP_NUM, 0),
					      .events = POLLIN };
	printf("ready\n");
	fflush(stdout);
	while (!resp_quit) {
		if (poll(pfd, (nfds_t)nfd, 100) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < nfd; i++) {
			/* drain: one poll wake-up per packet would make us the bottleneck */
			for (int k = 0; k < 256 && (pfd[i].revents & POLLIN); k++) {
				size_t before = r.nlat + r.other + r.inits;

				resp_read(&r, pfd[i].fd, i == 1);
				if (r.nlat + r.other + r.inits == before)
					break;
			}
		}
		if (idle > 0 && r.nlat &&
		    bench_now_ns(CLOCK_MONOTONIC) - r.last_rx_ns > (uint64_t)(idle * 1e9))
			break;
	}
	qsort(r.lat, r.nlat, sizeof(*r.lat), resp_cmp);
	if (r.nlat)
		printf("inits=%llu samples=%zu min=%.1f p50=%.1f p90=%.1f p99=%.1f p999=%.1f "
		       "max=%.1f other=%llu\n",
		       (unsigned long long)r.inits, r.nlat, r.lat[0] / 1000.0, resp_pct(&r, 0.5),
		       resp_pct(&r, 0.9), resp_pct(&r, 0.99), resp_pct(&r, 0.999),
		       r.lat[r.nlat - 1] / 1000.0, (unsigned long long)r.other);
	else
		printf("inits=%llu samples=0 other=%llu\n", (unsigned long long)r.inits,
		       (unsigned long long)r.other);
	free(r.lat);
	return 0;
}
