/* sctpk - echo server and client on the Linux kernel's SCTP socket API, for the test
 * VMs (tests/e2e/vm). Built static against linux/sctp.h alone: no libsctp in the VM.
 *
 *   sctpk server [-b ADDR]... [-e UDPPORT] [-H] [-s SECONDS [-w SECONDS]] PORT
 *   sctpk client [-b ADDR]... [-e UDPPORT] [-p LPORT] [-n COUNT] [-i MS] [-d SECONDS]
 *                [-r MS] [-t TAG] [-m BYTES] [-H] [-E] ADDR PORT
 *
 * -b binds these local addresses (sctp_bindx; more than one makes the host multi-homed
 * in INIT / INIT-ACK), -e sets the remote UDP encapsulation port (RFC 6951; needs the
 * net.sctp.udp_port sysctl for the local one). The client sends COUNT messages
 * "tok-TAG-N" every MS milliseconds, counts the distinct tokens echoed, and gives up at
 * the deadline. -r is the initial RTO and the longest INIT retransmission interval, so
 * an association comes up soon after its path does. Output lines start with
 * "sctpk client:" / "sctpk server:"; the last client line is
 * "sctpk client: echoed GOT/COUNT tag TAG ...". Exit status 0 only when every token
 * came back. Before it, "sctpk client: longest gap MS ms ..." gives the longest
 * silence between two echoes (a path failover's cost). -m pads each message to BYTES
 * (at most MAX_MSG_SIZE) after its token, for messages bigger than the path; each first
 * echo of a token then also prints "sctpk client: token N echoed after MS ms" (from
 * its send).
 *
 * For idle paths (NAT keepalive tests): -H turns the endpoint's own HEARTBEATs off
 * (SPP_HB_DISABLE), so an idle association sends nothing at all. Server -s: once an
 * association has carried no message for SECONDS, the server sends one first and
 * reports "sctpk server: first-send port PORT ...: echo in MS ms" or "...: no echo
 * within MS ms" (-w, default 10 s). Client -E: after its COUNT tokens, it echoes back
 * every message the peer sends until the deadline.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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

#define MAX_BIND 8
#define MAX_CONNS 32
#define MAX_COUNT 100000
#define MAX_MSG_SIZE 16000

struct opts {
	const char *role;
	struct sockaddr_storage bind[MAX_BIND];
	int nbind;
	int encaps_port;
	int local_port;
	int count;
	int interval_ms;
	int deadline_s;
	int rto_ms;
	const char *tag;
	int msg_size;
	struct sockaddr_storage peer;
	int port;
	int hb_off;
	int first_idle_s;
	int first_wait_s;
	int echo_back;
};

static void say(const char *role, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const char *role, const char *fmt, ...)
{
	va_list ap;

	printf("sctpk %s: ", role);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_addr(const char *s, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static const char *addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = sa->sa_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (!inet_ntop(sa->sa_family, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/* The socket's default for new associations: no HEARTBEATs of the endpoint's own, so
 * an idle association is really silent. */
static int heartbeats_off(const char *role, int fd)
{
	struct sctp_paddrparams pp;

	memset(&pp, 0, sizeof(pp));
	pp.spp_flags = SPP_HB_DISABLE;
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp)) < 0) {
		say(role, "SCTP_PEER_ADDR_PARAMS (heartbeats off): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* "heartbeats off|on" as the association really has it (inherited from the socket). */
static void print_heartbeats(const char *role, int fd)
{
	struct sctp_paddrparams pp;
	socklen_t len = sizeof(pp);

	memset(&pp, 0, sizeof(pp));
	if (getsockopt(fd, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &len) < 0) {
		say(role, "SCTP_PEER_ADDR_PARAMS: %s", strerror(errno));
		return;
	}
	if (pp.spp_flags & SPP_HB_DISABLE)
		say(role, "heartbeats off");
	else
		say(role, "heartbeats on (interval %u ms)", pp.spp_hbinterval);
}

/* A one-to-one socket of the family the addresses need, bound as asked, with the
 * remote encapsulation port and the fast INIT retransmissions set. */
static int open_socket(const struct opts *o, int family, int port)
{
	char packed[MAX_BIND * sizeof(struct sockaddr_in6)];
	size_t off = 0;
	int fd, i, one = 1;

	for (i = 0; i < o->nbind; i++)
		if (o->bind[i].ss_family == AF_INET6)
			family = AF_INET6;
	fd = socket(family, SOCK_STREAM, IPPROTO_SCTP);
	if (fd < 0) {
		say(o->role, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof(one));
	if (o->nbind > 0) {
		for (i = 0; i < o->nbind; i++) {
			struct sockaddr_storage a = o->bind[i];

			set_port(&a, port);
			memcpy(packed + off, &a, addr_len(&a));
			off += addr_len(&a);
		}
		if (setsockopt(fd, IPPROTO_SCTP, SCTP_SOCKOPT_BINDX_ADD, packed, off) < 0) {
			say(o->role, "bindx: %s", strerror(errno));
			goto fail;
		}
	} else if (port) {
		struct sockaddr_storage any = { .ss_family = (sa_family_t)family };

		set_port(&any, port);
		if (bind(fd, (struct sockaddr *)&any, addr_len(&any)) < 0) {
			say(o->role, "bind: %s", strerror(errno));
			goto fail;
		}
	}
	if (o->encaps_port) {
		struct sctp_udpencaps ue;

		memset(&ue, 0, sizeof(ue));
		ue.sue_port = htons(o->encaps_port);
		if (setsockopt(fd, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &ue, sizeof(ue)) <
		    0) {
			say(o->role, "SCTP_REMOTE_UDP_ENCAPS_PORT: %s", strerror(errno));
			goto fail;
		}
	}
	if (o->hb_off && heartbeats_off(o->role, fd) < 0)
		goto fail;
	if (o->rto_ms) {
		struct sctp_initmsg im = { .sinit_max_attempts = 100,
					   .sinit_max_init_timeo = (__u16)o->rto_ms };
		struct sctp_rtoinfo ri = { .srto_initial = (__u32)o->rto_ms };

		if (setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im)) < 0 ||
		    setsockopt(fd, IPPROTO_SCTP, SCTP_RTOINFO, &ri, sizeof(ri)) < 0) {
			say(o->role, "SCTP_INITMSG / SCTP_RTOINFO: %s", strerror(errno));
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* "peer addresses A B ..." as the kernel knows them (the INIT / INIT-ACK lists). */
static void print_peer_addrs(const char *role, int fd)
{
	char buf[4096], line[1024], a[INET6_ADDRSTRLEN];
	struct sctp_getaddrs *ga = (struct sctp_getaddrs *)buf;
	socklen_t len = sizeof(buf);
	size_t off = 0, used = 0;
	unsigned int i;

	memset(buf, 0, sizeof(buf));
	if (getsockopt(fd, IPPROTO_SCTP, SCTP_GET_PEER_ADDRS, ga, &len) < 0)
		return;
	line[0] = '\0';
	for (i = 0; i < ga->addr_num; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)((char *)ga->addrs + off);

		if (off + sizeof(struct sockaddr_in) > sizeof(buf) - sizeof(*ga))
			break;
		used += (size_t)snprintf(line + used, sizeof(line) - used, " %s",
					 addr_str(sa, a, sizeof(a)));
		if (used >= sizeof(line))
			break;
		off += sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in);
	}
	say(role, "peer addresses%s", line);
}

/* Server -s: per association, the silence before the server speaks first and the
 * wait for the echo of what it sent. */
enum fs_state { FS_ECHO, FS_WAIT, FS_DONE };

struct first_send {
	enum fs_state state;
	int id;
	long long last_ms; /* last message either way */
	long long sent_ms; /* when the first-send message went */
	char peer[INET6_ADDRSTRLEN];
};

static void first_send_init(struct first_send *f, int id, const struct sockaddr *from)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->last_ms = now_ms();
	addr_str(from, f->peer, sizeof(f->peer));
}

/* Milliseconds until the next association is due to send or give up (-1: none). */
static int first_send_timeout(const struct opts *o, const struct first_send *fs, int n)
{
	long long t = now_ms(), next = -1, due;
	int i;

	for (i = 1; i < n; i++) {
		if (fs[i].state == FS_ECHO)
			due = fs[i].last_ms + o->first_idle_s * 1000LL;
		else if (fs[i].state == FS_WAIT)
			due = fs[i].sent_ms + o->first_wait_s * 1000LL;
		else
			continue;
		if (next < 0 || due < next)
			next = due;
	}
	if (next < 0)
		return -1;
	return next <= t ? 0 : (int)(next - t);
}

/* Send first on every association silent long enough; give up on overdue echoes. */
static void first_send_tick(const struct opts *o, const struct pollfd *pfd, struct first_send *fs,
			    int n)
{
	long long t = now_ms();
	int i;

	for (i = 1; i < n; i++) {
		struct first_send *f = &fs[i];

		if (f->state == FS_ECHO && t - f->last_ms >= o->first_idle_s * 1000LL) {
			char msg[64];
			int len = snprintf(msg, sizeof(msg), "first-%d-%d\n", o->port, f->id);

			if (send(pfd[i].fd, msg, (size_t)len, 0) != len) {
				say(o->role, "first-send port %d assoc %d from %s: send: %s",
				    o->port, f->id, f->peer, strerror(errno));
				f->state = FS_DONE;
				continue;
			}
			say(o->role, "first-send port %d assoc %d from %s: sent after %lld ms idle",
			    o->port, f->id, f->peer, t - f->last_ms);
			f->sent_ms = t;
			f->state = FS_WAIT;
		} else if (f->state == FS_WAIT && t - f->sent_ms >= o->first_wait_s * 1000LL) {
			say(o->role, "first-send port %d assoc %d from %s: no echo within %lld ms",
			    o->port, f->id, f->peer, t - f->sent_ms);
			f->state = FS_DONE;
		}
	}
}

/* A message on an association in first-send mode: 1 if it was the echo (or a late one)
 * and is consumed, 0 if it is to be echoed as usual. */
static int first_send_recv(const struct opts *o, struct first_send *f, const char *buf, ssize_t r)
{
	long long t = now_ms();

	if (f->state == FS_ECHO) {
		f->last_ms = t;
		return 0;
	}
	if (!memmem(buf, (size_t)r, "first-", 6))
		return 1;
	say(o->role, "first-send port %d assoc %d from %s: %secho in %lld ms", o->port, f->id,
	    f->peer, f->state == FS_DONE ? "late " : "", t - f->sent_ms);
	f->state = FS_DONE;
	return 1;
}

static int run_server(const struct opts *o)
{
	struct pollfd pfd[MAX_CONNS + 1];
	struct first_send fs[MAX_CONNS + 1];
	int lfd, n = 1, i, accepted = 0;

	lfd = open_socket(o, AF_INET6, o->port);
	if (lfd < 0)
		return 1;
	if (listen(lfd, 16) < 0) {
		say(o->role, "listen: %s", strerror(errno));
		return 1;
	}
	say(o->role, "listening on port %d", o->port);
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	for (;;) {
		if (poll(pfd, n, o->first_idle_s ? first_send_timeout(o, fs, n) : -1) < 0) {
			if (errno == EINTR)
				continue;
			say(o->role, "poll: %s", strerror(errno));
			return 1;
		}
		if ((pfd[0].revents & POLLIN) && n <= MAX_CONNS) {
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			char a[INET6_ADDRSTRLEN];
			int c = accept(lfd, (struct sockaddr *)&from, &flen);

			if (c >= 0) {
				say(o->role, "association from %s",
				    addr_str((struct sockaddr *)&from, a, sizeof(a)));
				print_peer_addrs(o->role, c);
				if (o->hb_off)
					print_heartbeats(o->role, c);
				first_send_init(&fs[n], ++accepted, (struct sockaddr *)&from);
				pfd[n].fd = c;
				pfd[n].events = POLLIN;
				pfd[n].revents =
					0; /* not polled yet: no stale event from a closed one */
				n++;
			}
		}
		for (i = 1; i < n; i++) {
			char buf[65536];
			ssize_t r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = recv(pfd[i].fd, buf, sizeof(buf), 0);
			if (r > 0 && o->first_idle_s && first_send_recv(o, &fs[i], buf, r))
				continue;
			if (r > 0 && send(pfd[i].fd, buf, (size_t)r, 0) == r)
				continue;
			say(o->role, "association closed (%s)",
			    r < 0    ? strerror(errno)
			    : r == 0 ? "shutdown"
				     : "send failed");
			close(pfd[i].fd);
			fs[i] = fs[n - 1];
			pfd[i] = pfd[--n];
			i--;
		}
		if (o->first_idle_s)
			first_send_tick(o, pfd, fs, n);
	}
}

/* The distinct tokens in an echo: "tok-TAG-N", possibly several per message. */
static int count_tokens(const char *tag, const char *buf, size_t len, unsigned char *seen,
			int count)
{
	char prefix[128];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "tok-%s-", tag);
	const char *p = buf, *end = buf + len;
	int got = 0;

	while ((p = memmem(p, (size_t)(end - p), prefix, plen)) != NULL) {
		int v = 0;

		p += plen;
		while (p < end && *p >= '0' && *p <= '9')
			v = v * 10 + (*p++ - '0');
		if (v >= 1 && v <= count && !seen[v]) {
			seen[v] = 1;
			got++;
		}
	}
	return got;
}

/* The longest time between two echoes that brought new tokens (what a path failover
 * costs the application); with tokens missing at the end, the silence since the last
 * echo counts too. */
struct gap {
	long long last_ms;
	long long max_ms;
	long long max_at_ms;
	int max_after;
};

static void gap_note(struct gap *g, long long t, int got_before)
{
	if (g->last_ms && t - g->last_ms > g->max_ms) {
		g->max_ms = t - g->last_ms;
		g->max_at_ms = g->last_ms;
		g->max_after = got_before;
	}
	g->last_ms = t;
}

static void gap_report(const struct opts *o, struct gap *g, long long start, int got)
{
	if (got < o->count)
		gap_note(g, now_ms(), got);
	say(o->role, "longest gap %lld ms between echoes (after %d echoed, from %lld ms) tag %s",
	    g->max_ms, g->max_after, g->max_at_ms ? g->max_at_ms - start : 0, o->tag);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Message n: "tok-TAG-N\n", or with -s that many bytes, the token first. */
static int build_message(const struct opts *o, int n, char *msg, size_t cap)
{
	int len = snprintf(msg, cap, "tok-%s-%d%s", o->tag, n, o->msg_size ? " " : "\n");

	if (len < 0 || (size_t)len >= cap)
		return -1;
	if (o->msg_size > len && (size_t)o->msg_size < cap) {
		memset(msg + len, 'x', (size_t)(o->msg_size - len - 1));
		msg[o->msg_size - 1] = '\n';
		len = o->msg_size;
	}
	return len;
}

/* With -s: when each token was sent, and whether its first echo was reported. */
static long long token_sent_at[MAX_COUNT + 1];
static unsigned char token_reported[MAX_COUNT + 1];

/* count_tokens, and with -s a line per token seen for the first time: how long after
 * its send it came back. */
static int count_tokens_timed(const struct opts *o, const char *buf, size_t len,
			      unsigned char *seen)
{
	int got = count_tokens(o->tag, buf, len, seen, o->count), i;

	if (!o->msg_size || !got)
		return got;
	for (i = 1; i <= o->count; i++) {
		if (seen[i] && !token_reported[i]) {
			token_reported[i] = 1;
			say(o->role, "token %d echoed after %lld ms", i,
			    now_ms() - token_sent_at[i]);
		}
	}
	return got;
}

/* Client -E: echo back every message the peer sends, until the deadline or the
 * association ends; one line per message with the silence before it. */
static void client_echo_back(const struct opts *o, int fd, long long deadline)
{
	long long last = now_ms();
	int n = 0;

	say(o->role, "echo-back tag %s until the deadline", o->tag);
	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char buf[65536];
		ssize_t r;
		int rc = poll(&pfd, 1, (int)(deadline - now_ms()));

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0) {
			say(o->role, "echo-back tag %s: association lost (%s)", o->tag,
			    r < 0 ? strerror(errno) : "shutdown by peer");
			break;
		}
		if (send(fd, buf, (size_t)r, 0) != r) {
			say(o->role, "echo-back tag %s: send: %s", o->tag, strerror(errno));
			break;
		}
		n++;
		say(o->role, "echo-back tag %s: %zd bytes after %lld ms idle", o->tag, r,
		    now_ms() - last);
		last = now_ms();
	}
	say(o->role, "echo-back tag %s: %d message(s) echoed back", o->tag, n);
}

static int run_client(const struct opts *o)
{
	unsigned char *seen = calloc((size_t)o->count + 1, 1);
	long long start = now_ms(), deadline = start + o->deadline_s * 1000LL, next;
	struct sigaction sa = { .sa_handler = on_alarm };
	char a[INET6_ADDRSTRLEN];
	struct gap gap = { 0 };
	int fd, sent = 0, got = 0, rc;

	if (!seen)
		return 1;
	fd = open_socket(o, o->peer.ss_family, o->local_port);
	if (fd < 0) {
		free(seen);
		return 1;
	}
	/* connect() blocks through the INIT retransmissions: the alarm (no SA_RESTART)
	 * interrupts it at the deadline. */
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned int)o->deadline_s);
	if (connect(fd, (struct sockaddr *)&o->peer, addr_len(&o->peer)) < 0) {
		say(o->role, "connect to %s port %d: %s",
		    addr_str((struct sockaddr *)&o->peer, a, sizeof(a)), o->port,
		    errno == EINTR ? "no association by the deadline" : strerror(errno));
		say(o->role, "echoed 0/%d tag %s (sent 0) in %lld ms", o->count, o->tag,
		    now_ms() - start);
		free(seen);
		return 1;
	}
	alarm(0);
	say(o->role, "connected to %s port %d in %lld ms",
	    addr_str((struct sockaddr *)&o->peer, a, sizeof(a)), o->port, now_ms() - start);
	print_peer_addrs(o->role, fd);
	if (o->hb_off)
		print_heartbeats(o->role, fd);
	next = now_ms();
	while (got < o->count && now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long t = now_ms(), wait_ms;

		if (sent < o->count && t >= next) {
			char msg[MAX_MSG_SIZE];
			int len = build_message(o, sent + 1, msg, sizeof(msg));

			if (send(fd, msg, (size_t)len, 0) != len) {
				say(o->role, "send: %s", strerror(errno));
				break;
			}
			sent++;
			token_sent_at[sent] = t;
			next = t + o->interval_ms;
		}
		wait_ms = (sent < o->count ? next : deadline) - now_ms();
		if (wait_ms < 0)
			wait_ms = 0;
		if (deadline - now_ms() < wait_ms)
			wait_ms = deadline - now_ms();
		rc = poll(&pfd, 1, (int)wait_ms);
		if (rc > 0) {
			char buf[65536];
			ssize_t r = recv(fd, buf, sizeof(buf), 0);
			int n;

			if (r <= 0) {
				say(o->role, "association lost (%s)",
				    r < 0 ? strerror(errno) : "shutdown by peer");
				break;
			}
			n = count_tokens_timed(o, buf, (size_t)r, seen);
			if (n > 0)
				gap_note(&gap, now_ms(), got);
			got += n;
		}
	}
	gap_report(o, &gap, start, got);
	say(o->role, "echoed %d/%d tag %s (sent %d) in %lld ms", got, o->count, o->tag, sent,
	    now_ms() - start);
	if (o->echo_back && got == o->count)
		client_echo_back(o, fd, deadline);
	close(fd); /* graceful SHUTDOWN */
	free(seen);
	return got == o->count ? 0 : 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: sctpk server [-b ADDR]... [-e UDPPORT] [-H] [-s SECONDS [-w SECONDS]] "
		"PORT\n"
		"       sctpk client [-b ADDR]... [-e UDPPORT] [-p LPORT] [-n COUNT] [-i MS]\n"
		"                    [-d SECONDS] [-r MS] [-t TAG] [-m BYTES] [-H] [-E] ADDR "
		"PORT\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.count = 10, .interval_ms = 100, .deadline_s = 20, .tag = "k", .first_wait_s = 10
	};
	int c;

	if (argc < 2)
		return usage();
	o.role = argv[1];
	if (strcmp(o.role, "server") != 0 && strcmp(o.role, "client") != 0)
		return usage();
	optind = 2;
	while ((c = getopt(argc, argv, "b:e:p:n:i:d:r:t:m:Hs:w:E")) != -1) {
		switch (c) {
		case 'b':
			if (o.nbind == MAX_BIND || parse_addr(optarg, 0, &o.bind[o.nbind]) < 0)
				return usage();
			o.nbind++;
			break;
		case 'e':
			o.encaps_port = atoi(optarg);
			break;
		case 'p':
			o.local_port = atoi(optarg);
			break;
		case 'n':
			o.count = atoi(optarg);
			break;
		case 'i':
			o.interval_ms = atoi(optarg);
			break;
		case 'd':
			o.deadline_s = atoi(optarg);
			break;
		case 'r':
			o.rto_ms = atoi(optarg);
			break;
		case 't':
			o.tag = optarg;
			break;
		case 'm':
			o.msg_size = atoi(optarg);
			break;
		case 'H':
			o.hb_off = 1;
			break;
		case 's':
			o.first_idle_s = atoi(optarg);
			break;
		case 'w':
			o.first_wait_s = atoi(optarg);
			break;
		case 'E':
			o.echo_back = 1;
			break;
		default:
			return usage();
		}
	}
	if (o.count < 1 || o.count > MAX_COUNT || o.deadline_s < 1 || o.interval_ms < 0 ||
	    o.first_idle_s < 0 || o.first_wait_s < 1)
		return usage();
	if (o.msg_size < 0 || o.msg_size > MAX_MSG_SIZE)
		return usage();
	if (strcmp(o.role, "server") == 0) {
		if (optind + 1 != argc)
			return usage();
		o.port = atoi(argv[optind]);
		return run_server(&o);
	}
	if (optind + 2 != argc)
		return usage();
	o.port = atoi(argv[optind + 1]);
	if (parse_addr(argv[optind], o.port, &o.peer) < 0)
		return usage();
	return run_client(&o);
}
