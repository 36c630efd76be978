/* sctpblast.c - load generator: stamped SCTP DATA packets of one fixed association at
 * the maximum rate or a fixed one, for a number of seconds, either as native SCTP (raw
 * IPPROTO_SCTP socket, from the internal host) or as SCTP over UDP (RFC 6951, from the
 * remote peer). With -H it first sends an INIT and waits for the INIT-ACK, so the gateway
 * learns both tags; DATA then carries the tag the INIT-ACK announced.
 *
 * With -n N it uses N associations instead of one, packets going round-robin: the i-th
 * has the internal host's port (native: -s side, udp: the destination port) plus i and
 * the internal host's initiate tag BENCH_ITAG + i, so several workers, which split
 * associations by their ports, all get work.
 *
 * Prints one line: sent=N secs=T pps=R errors=E [vtag=...]. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchpkt.h"

#define BLAST_BATCH 32
#define BLAST_BUF 2048
#define BLAST_SLEEP_MAX_PPS 20000 /* above this, spin instead of sleeping between sends */

struct blast {
	bool udp;
	struct sockaddr_in dst, src;
	uint16_t sport, dport;
	uint32_t vtag;
	size_t payload;
	double secs;
	uint64_t rate; /* packets per second, 0 = as fast as possible */
	unsigned nassoc;
	int fd;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: sctpblast -d DST [-m native|udp] [-s SRC] [-P UDP_DPORT] [-B UDP_SPORT]\n"
		"                 [-S SPORT] [-D DPORT] [-V VTAG] [-l PAYLOAD] [-t SECS] [-r PPS] "
		"[-H]\n"
		"                 [-n ASSOCIATIONS]\n");
	exit(2);
}

static int blast_open(struct blast *b, uint16_t udp_sport)
{
	int bufsz = 4 << 20;

	b->fd = socket(AF_INET, b->udp ? SOCK_DGRAM : SOCK_RAW,
		       b->udp ? IPPROTO_UDP : IPPROTO_SCTP_NUM);
	if (b->fd < 0) {
		perror("socket");
		return -1;
	}
	setsockopt(b->fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	if (b->udp)
		b->src.sin_port = htons(udp_sport);
	if ((b->src.sin_addr.s_addr || b->udp) &&
	    bind(b->fd, (struct sockaddr *)&b->src, sizeof(b->src)) < 0) {
		perror("bind");
		return -1;
	}
	return 0;
}

/* INIT until an INIT-ACK for it comes back (native only): the raw socket sees every SCTP
 * packet arriving at this host. */
static int blast_handshake_one(struct blast *b, unsigned a)
{
	uint8_t pkt[256], rx[2048];
	uint16_t sport = (uint16_t)(b->sport + a);
	uint32_t itag = BENCH_ITAG + a;

	for (int attempt = 0; attempt < 10; attempt++) {
		size_t n = bench_build_init(pkt, sport, b->dport, itag);
		uint64_t deadline = bench_now_ns(CLOCK_MONOTONIC) + 300000000u;

		if (sendto(b->fd, pkt, n, 0, (struct sockaddr *)&b->dst, sizeof(b->dst)) < 0) {
			perror("sendto INIT");
			return -1;
		}
		for (;;) {
			uint64_t now = bench_now_ns(CLOCK_MONOTONIC);
			struct pollfd pfd = { .fd = b->fd, .events = POLLIN };
			ssize_t got;
			size_t ihl;
			uint8_t *s;

			if (now >= deadline)
				break;
			if (poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
				continue;
			got = recv(b->fd, rx, sizeof(rx), 0);
			if (got < 20)
				continue;
			ihl = (size_t)(rx[0] & 0x0f) * 4;
			if ((size_t)got < ihl + SCTP_COMMON_HDR_LEN + 20)
				continue;
			s = rx + ihl;
			if (s[SCTP_COMMON_HDR_LEN] != SCTP_CT_INIT_ACK ||
			    bench_get32(s + 4) != itag ||
			    !pkt_sctp_checksum_ok(s, (size_t)got - ihl))
				continue;
			b->vtag = bench_get32(s + SCTP_COMMON_HDR_LEN + 4);
			return 0;
		}
	}
	fprintf(stderr, "sctpblast: association %u: no INIT-ACK after 10 INITs\n", a);
	return -1;
}

/* Every association; the responder gives them all the same tag (DATA carries it). */
static int blast_handshake(struct blast *b)
{
	for (unsigned a = 0; a < b->nassoc; a++)
		if (blast_handshake_one(b, a) < 0)
			return -1;
	return 0;
}

/* Association a's ports and tag into a DATA packet built by bench_build_data. */
static void blast_set_assoc(const struct blast *b, uint8_t *pkt, unsigned a)
{
	if (b->udp) {
		bench_put16(pkt + 2, (uint16_t)(b->dport + a));
		bench_put32(pkt + 4, b->vtag + a);
	} else {
		bench_put16(pkt, (uint16_t)(b->sport + a));
	}
}

static void blast_run(struct blast *b)
{
	static uint8_t buf[BLAST_BATCH][BLAST_BUF];
	struct mmsghdr mm[BLAST_BATCH];
	struct iovec iov[BLAST_BATCH];
	uint64_t t0, end, now, sent = 0, errors = 0;
	size_t len = 0;
	int last_err = 0;

	for (int i = 0; i < BLAST_BATCH; i++) {
		len = bench_build_data(buf[i], b->sport, b->dport, b->vtag, b->payload);
		iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = len };
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_name = &b->dst;
		mm[i].msg_hdr.msg_namelen = sizeof(b->dst);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now = bench_now_ns(CLOCK_MONOTONIC);
	end = t0 + (uint64_t)(b->secs * 1e9);
	while (now < end) {
		unsigned n = BLAST_BATCH;
		int r;

		if (b->rate) {
			uint64_t due = (uint64_t)((double)(now - t0) * (double)b->rate / 1e9);

			if (due <= sent) {
				if (b->rate <= BLAST_SLEEP_MAX_PPS) {
					uint64_t next = t0 + (uint64_t)((double)(sent + 1) * 1e9 /
									(double)b->rate);
					struct timespec ts = { .tv_sec =
								       (time_t)(next / 1000000000u),
							       .tv_nsec =
								       (long)(next % 1000000000u) };

					clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				}
				now = bench_now_ns(CLOCK_MONOTONIC);
				continue;
			}
			if (due - sent < n)
				n = (unsigned)(due - sent);
		}
		for (unsigned i = 0; i < n; i++) {
			if (b->nassoc > 1)
				blast_set_assoc(b, buf[i], (unsigned)((sent + i) % b->nassoc));
			bench_stamp(buf[i], len, sent + i, bench_now_ns(CLOCK_REALTIME));
		}
		r = sendmmsg(b->fd, mm, n, 0);
		if (r < 0) {
			errors++;
			last_err = errno;
		} else {
			sent += (unsigned)r;
		}
		now = bench_now_ns(CLOCK_MONOTONIC);
	}
	printf("sent=%llu secs=%.3f pps=%.0f errors=%llu%s%s vtag=0x%08x\n",
	       (unsigned long long)sent, (double)(now - t0) / 1e9,
	       (double)sent * 1e9 / (double)(now - t0), (unsigned long long)errors,
	       errors ? " last_error=" : "", errors ? strerror(last_err) : "", b->vtag);
}

int main(int argc, char **argv)
{
	struct blast b = {
		.dst = { .sin_family = AF_INET, .sin_port = htons(9899) },
		.src = { .sin_family = AF_INET },
		.sport = BENCH_IN_PORT,
		.dport = BENCH_PEER_PORT,
		.vtag = BENCH_RTAG,
		.payload = 64,
		.secs = 3,
		.nassoc = 1,
	};
	bool handshake = false, have_dst = false, vtag_set = false;
	uint16_t udp_sport = 9898;
	int opt;

	while ((opt = getopt(argc, argv, "m:d:s:P:B:S:D:V:l:t:r:Hn:")) != -1) {
		switch (opt) {
		case 'm':
			if (strcmp(optarg, "udp") == 0)
				b.udp = true;
			else if (strcmp(optarg, "native") != 0)
				usage();
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &b.dst.sin_addr) != 1)
				usage();
			have_dst = true;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &b.src.sin_addr) != 1)
				usage();
			break;
		case 'P':
			b.dst.sin_port = htons((uint16_t)atoi(optarg));
			break;
		case 'B':
			udp_sport = (uint16_t)atoi(optarg);
			break;
		case 'S':
			b.sport = (uint16_t)atoi(optarg);
			break;
		case 'D':
			b.dport = (uint16_t)atoi(optarg);
			break;
		case 'V':
			b.vtag = (uint32_t)strtoul(optarg, NULL, 0);
			vtag_set = true;
			break;
		case 'l':
			b.payload = (size_t)atoi(optarg);
			break;
		case 't':
			b.secs = atof(optarg);
			break;
		case 'r':
			b.rate = strtoull(optarg, NULL, 0);
			break;
		case 'H':
			handshake = true;
			break;
		case 'n':
			b.nassoc = (unsigned)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!have_dst || b.payload < BENCH_MIN_PAYLOAD || b.payload % 4 ||
	    b.payload + BENCH_DATA_OFF > BLAST_BUF || (handshake && b.udp) || b.nassoc < 1 ||
	    b.nassoc > 4096)
		usage();
	if (b.udp && !vtag_set)
		b.vtag = BENCH_ITAG;
	if (!b.udp)
		b.dst.sin_port = 0; /* raw sockets: the "port" would be the protocol */
	if (blast_open(&b, udp_sport) < 0)
		return 1;
	if (handshake) {
		if (blast_handshake(&b) < 0)
			return 1;
		if (b.secs <= 0) {
			printf("handshake ok associations=%u vtag=0x%08x\n", b.nassoc, b.vtag);
			return 0;
		}
	}
	blast_run(&b);
	close(b.fd);
	return 0;
}
