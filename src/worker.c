/* worker.c - the data path of one worker: queued native packets out as datagrams,
 * datagrams in as native packets, relay ingest, ICMP errors, all in batches.
 *
 * Outbound packets of a queue batch stay in the queue's buffers (valid until its next
 * read) and leave in one sendmmsg after the batch; their verdicts (DROP: the datagram
 * carries them) went out with the batch. Inbound packets of one recvmmsg are injected with one sendmmsg.
 * Nothing is allocated per packet. */
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/netfilter.h>

#include "icmp.h"
#include "nfq.h"
#include "pkt.h"
#include "steer.h"
#include "worker.h"

#define WORKER_ERRQ_BATCH 64   /* error-queue entries read per wake-up */
#define WORKER_ERRQ_QUOTE 2048 /* more than any ICMP error quotes (1232 bytes for ICMPv6) */
#define WORKER_INGEST_CAP (WORKER_DGRAM_CAP + 40)

/* What an epoll event of the worker is about. */
enum worker_fd { WFD_STOP, WFD_NFQ, WFD_UDP4, WFD_UDP6, WFD_ING4, WFD_ING6 };

static void log_drop(struct gw_worker *w, const struct xlate_result *r, const char *dir)
{
	uint64_t supp = 0;
	char a[GW_ADDRSTRLEN];

	if (r->reason == DROP_OUT_TABLE_FULL || r->reason == DROP_IN_TABLE_FULL) {
		if (ratelimit_ok(&w->rl_log.table_full, now_monotonic_ms(), &supp))
			log_warnx("association table%s full (%u of %u, none evictable): new "
				  "association refused%s; raise max-associations?",
				  w->group->n > 1 ? " of a worker" : "", assoc_table_count(w->tab),
				  assoc_table_capacity(w->tab),
				  supp ? " (and earlier ones suppressed)" : "");
		return;
	}
	if (!ratelimit_ok(&w->rl_log.drop, now_monotonic_ms(), &supp))
		return;
	log_debug("%s: dropped (%s%s%s) peer %s%s", dir, stats_drop_name(r->reason),
		  r->pkt_err ? ": " : "", r->pkt_err ? pkt_strerror(r->pkt_err) : "",
		  addr_format(&r->peer, a, sizeof(a)),
		  supp ? " (and earlier ones suppressed)" : "");
}

/* An ICMP error for an internal host, within a rate limit (RFC 4443 2.4 f asks it of
 * ICMPv6; a gateway relaying errors must not amplify a flood either). */
static void worker_icmp_to_host(struct gw_worker *w, const struct gw_addr *to, const uint8_t *msg,
				size_t len, uint64_t now)
{
	int err;

	if (!ratelimit_ok(&w->rl_icmp_to_host, now, NULL)) {
		w->stats.drops[DROP_ICMP_RATE]++;
		return;
	}
	err = inject_icmp(&w->inj, to, msg, len);
	if (err) {
		w->stats.drops[DROP_ICMP_SEND]++;
		if (ratelimit_ok(&w->rl_log.inject, now, NULL)) {
			char a[GW_ADDRSTRLEN];

			log_warnx("worker_icmp_to_host: ICMP to %s: %s",
				  addr_format(to, a, sizeof(a)), strerror(-err));
		}
		return;
	}
	w->stats.icmp_sent++;
}

static void worker_on_udp_error(struct gw_worker *w, const struct udp_err *e,
				const struct gw_addr *want, uint32_t *local_mtu, uint64_t now);

/* An error about a datagram of another worker's association: keep it for after the
 * wake-up (worker_hand_over). True when kept. */
static bool worker_defer_foreign(struct gw_worker *w, const struct udp_err *e)
{
	struct icmp_quote q;
	struct worker_foreign *f;
	unsigned owner;

	if (icmp_parse_quote(e->payload, e->len, &q) < 0)
		return false;
	/* The quoted datagram is ours: its SCTP source port is the seen port. */
	owner = steer_worker_of(w->x.conf, q.src_port, q.dst_port);
	if (owner == w->id || w->nforeign == WORKER_FOREIGN_MAX)
		return false;
	f = &w->foreign[w->nforeign++];
	f->owner = owner;
	f->e = *e;
	f->e.len = e->len < sizeof(f->quote) ? e->len : sizeof(f->quote);
	memcpy(f->quote, e->payload, f->e.len);
	f->e.payload = f->quote;
	return true;
}

/* Errors kept by worker_defer_foreign, translated in their owner's table with the
 * owner's lock held (never while holding our own: no lock order to get wrong). */
static void worker_hand_over(struct gw_worker *w)
{
	uint64_t now = now_monotonic_ms();

	for (unsigned i = 0; i < w->nforeign; i++) {
		struct worker_foreign *f = &w->foreign[i];
		struct gw_worker *o = &w->group->workers[f->owner];

		worker_lock(o);
		worker_on_udp_error(o, &f->e, NULL, NULL, now);
		worker_unlock(o);
	}
	w->nforeign = 0;
}

/* One error-queue entry of a UDP socket. An ICMP error is translated for the internal
 * host (RFC 6951 5.5) if its quoted ports and tag name an association; a local EMSGSIZE
 * carries no packet and only reports the path MTU to *local_mtu (when its destination
 * is want). */
static void worker_on_udp_error(struct gw_worker *w, const struct udp_err *e,
				const struct gw_addr *want, uint32_t *local_mtu, uint64_t now)
{
	enum icmp_kind kind = icmp_classify(e->origin, e->type, e->code, e->errnum);
	uint8_t msg[ICMP_MAX_MSG];
	struct assoc *a;
	struct gw_addr to;
	char s1[GW_ADDRSTRLEN], s2[GW_ADDRSTRLEN];
	int n;

	if (kind == ICMP_KIND_LOCAL_TOO_BIG) {
		if (want && local_mtu && addr_equal(&e->dst, want))
			*local_mtu = e->info;
		return;
	}
	if (e->origin != SO_EE_ORIGIN_ICMP && e->origin != SO_EE_ORIGIN_ICMP6)
		return;
	n = icmp_translate(w->tab, kind, e->info, &e->dst, e->payload, e->len, msg, sizeof(msg), &a,
			   &to);
	if (n == ICMP_ERR_NO_ASSOC && w->group->n > 1 && worker_defer_foreign(w, e))
		return; /* counted by the worker that owns it */
	w->stats.icmp_received++;
	if (n < 0) {
		w->stats.drops[n == ICMP_ERR_KIND ? DROP_ICMP_IGNORED : DROP_ICMP_UNVERIFIED]++;
		if (ratelimit_ok(&w->rl_log.icmp, now, NULL))
			log_debug("ICMP type %u code %u from %s about a datagram to %s: not passed "
				  "on (%d)",
				  e->type, e->code, addr_format(&e->offender, s1, sizeof(s1)),
				  addr_format(&e->dst, s2, sizeof(s2)), n);
		return;
	}
	if (ratelimit_ok(&w->rl_log.icmp, now, NULL))
		log_debug("ICMP type %u code %u (info %u) from %s: association %u, told %s",
			  e->type, e->code, e->info, addr_format(&e->offender, s1, sizeof(s1)),
			  a->id, addr_format(&to, s2, sizeof(s2)));
	worker_icmp_to_host(w, &to, msg, (size_t)n, now);
}

/* Drain (boundedly) the error queue of a UDP socket. Returns the path MTU a local
 * EMSGSIZE reported for destination want (0: none seen). */
static uint32_t worker_udp_errors(struct gw_worker *w, int fd, const struct gw_addr *want,
				  uint64_t now)
{
	uint8_t buf[WORKER_ERRQ_QUOTE];
	struct udp_err e;
	uint32_t mtu = 0;

	for (int i = 0; i < WORKER_ERRQ_BATCH; i++) {
		int rc = udp_recv_error(fd, &e, buf, sizeof(buf));

		if (rc <= 0) {
			if (rc < 0 && ratelimit_ok(&w->rl_log.udp_recv, now, NULL))
				log_warnx("worker_udp_errors: error queue: %s", strerror(-rc));
			break;
		}
		worker_on_udp_error(w, &e, want, &mtu, now);
	}
	return mtu;
}

/* A packet its sender allows to travel in fragments: IPv4 without DF, or IPv6 its source
 * fragmented (reassembled here; IPv6 has no DF bit, and a whole IPv6 packet may only be
 * fragmented by its source, so it gets the tunnel MTU instead). */
static bool worker_inner_may_fragment(const struct worker_pending *p)
{
	if (p->iplen >= 20 && p->ip[0] >> 4 == 4)
		return !(p->ip[6] & 0x40);
	return p->fragmented;
}

/* A native packet whose datagram exceeded the path MTU. If the packet itself allowed
 * fragmentation, its datagram goes out fragmented, as IP-in-IP and GRE tunnels do
 * (RFC 4459 3): a host that retransmits without DF (usrsctp does, after a timeout) or
 * resends an IPv6 packet in fragments (Linux does, for chunks built before it learned
 * the MTU) gets through. Otherwise the gateway never fragments: the internal host is
 * told the MTU its packets must fit, as tunnels do. Returns 1 when the packet is
 * dropped, else the fragmenting send's 0 or -errno. */
static int worker_too_big(struct gw_worker *w, const struct worker_pending *p,
			  const struct udp_out *o, uint64_t now)
{
	int fd = o->dst.family == AF_INET ? w->udp.fd4 : w->udp.fd6;
	uint8_t msg[ICMP_MAX_MSG];
	char a[GW_ADDRSTRLEN];
	uint32_t mtu;
	int n;

	if (worker_inner_may_fragment(p)) {
		/* The refused send left an EMSGSIZE entry in the error queue: read it now
		 * rather than wake up for it, and learn the MTU for the log. */
		mtu = worker_udp_errors(w, fd, &o->dst, now);
		n = udp_send_frag(&w->udp, &o->dst, o->port, o->tos, o->data, o->len);
		if (!n && ratelimit_ok(&w->rl_log.pmtu, now, NULL))
			log_debug("association %u: %zu-byte packet %s over the path MTU %u to %s; "
				  "sent fragmented",
				  p->assoc->id, p->iplen,
				  p->fragmented ? "fragmented by its source" : "without DF", mtu,
				  addr_format(&o->dst, a, sizeof(a)));
		return n;
	}
	w->stats.drops[DROP_OUT_TOO_BIG]++;
	/* The kernel put the path MTU in the error queue (IP_RECVERR) as it refused. */
	mtu = worker_udp_errors(w, fd, &o->dst, now);
	if (!mtu) {
		n = udp_path_mtu(&o->dst, w->x.conf->mark);
		mtu = n > 0 ? (uint32_t)n : 0;
	}
	n = mtu ? icmp_too_big_reply(p->assoc, p->ip, p->iplen, mtu, msg, sizeof(msg))
		: ICMP_ERR_MTU;
	if (n < 0) {
		if (ratelimit_ok(&w->rl_log.pmtu, now, NULL))
			log_warnx("worker_too_big: no ICMP for a packet too big (path MTU %u): %d",
				  mtu, n);
		return 1;
	}
	if (ratelimit_ok(&w->rl_log.pmtu, now, NULL))
		log_debug("association %u: %zu-byte packet over the path MTU %u to %s; told the "
			  "host",
			  p->assoc->id, p->iplen, mtu, addr_format(&o->dst, a, sizeof(a)));
	worker_icmp_to_host(w, &p->inner, msg, (size_t)n, now);
	return 1;
}

/* A datagram's fate, once its send was tried. */
static void worker_sent(struct gw_worker *w, const struct worker_pending *p,
			const struct udp_out *o, uint64_t now)
{
	int err = o->err;

	if (err == -EMSGSIZE) {
		err = worker_too_big(w, p, o, now);
		if (err > 0)
			return; /* the host sends it again, smaller */
	}
	if (err) {
		w->stats.drops[DROP_OUT_SEND]++;
		if (ratelimit_ok(&w->rl_log.send, now, NULL)) {
			char a[GW_ADDRSTRLEN];

			log_warnx("worker: send to %s port %u: %s",
				  addr_format(&o->dst, a, sizeof(a)), o->port, strerror(-err));
		}
		return;
	}
	w->stats.out_pkts++;
	w->stats.out_bytes += o->len;
}

/* Send the waiting outbound datagrams, in one sendmmsg per address family. */
static void worker_flush_out(struct gw_worker *w, uint64_t now)
{
	if (!w->nout)
		return;
	udp_send_batch(&w->udp, w->outq, w->nout);
	for (unsigned i = 0; i < w->nout; i++)
		worker_sent(w, &w->pend[i], &w->outq[i], now);
	w->nout = 0;
}

/* Carry out xlate's answer for a queued native packet (ip, len): a datagram that waits
 * for the batch's sendmmsg. */
static void worker_encap(struct gw_worker *w, const uint8_t *ip, size_t len, bool fragmented,
			 const struct xlate_result *r, uint64_t now)
{
	if (r->verdict == XV_DROP) {
		log_drop(w, r, "outbound");
		return;
	}
	if (r->verdict != XV_ENCAP)
		return;
	if (w->nout == WORKER_OUT_BATCH)
		worker_flush_out(w, now);
	w->outq[w->nout] = (struct udp_out){ .dst = r->peer,
					     .port = r->udp_port,
					     .tos = r->tos,
					     .data = r->sctp,
					     .len = r->sctp_len };
	w->pend[w->nout] = (struct worker_pending){ .assoc = r->assoc,
						    .inner = r->inner,
						    .ip = ip,
						    .iplen = len,
						    .fragmented = fragmented };
	w->nout++;
}

/* An IPv6 packet that carries the mark the table's frag_mark chain put on its fragments. */
static bool worker_reassembled(const struct gw_worker *w, const uint8_t *ip, size_t len,
			       uint32_t mark)
{
	return len && ip[0] >> 4 == 6 && mark == CONF_FRAG_MARK(w->x.conf->mark);
}

/* One queued native packet: exactly one verdict is returned for it. The input hook
 * queues only SCTP to relay ports (relay-ingest queue); the prerouting and output hooks
 * queue SCTP from internal hosts and from this host. */
static unsigned worker_on_queued(struct nfqueue_packet *qp, void *arg)
{
	struct gw_worker *w = arg;
	struct xlate_result r;
	uint64_t now = now_monotonic_ms();

	if (qp->hook == NF_INET_LOCAL_IN)
		xlate_relay(&w->x, qp->data, qp->len, now, &r);
	else
		xlate_outbound(&w->x, qp->data, qp->len, now, &r);
	if (r.verdict == XV_ACCEPT)
		return NF_ACCEPT;
	worker_encap(w, qp->data, qp->len, worker_reassembled(w, qp->data, qp->len, qp->mark), &r,
		     now);
	return NF_DROP; /* sent as a datagram, or dropped */
}

static void worker_on_nfq(struct gw_worker *w)
{
	if (nfqueue_process(w->nfq, worker_on_queued, w) < 0) {
		log_err("worker %u: queue socket failed; stopping", w->id);
		w->fatal = true;
	}
	worker_flush_out(w, now_monotonic_ms());
}

/* Relay mode, raw ingest: native SCTP to this host. The kernel has no SCTP, so nothing
 * else answers these packets; what no relay rule claims is only counted. */
static void worker_on_ingest(struct gw_worker *w, int fd)
{
	uint64_t now = now_monotonic_ms();

	for (int i = 0; i < WORKER_RX_BATCH * 8; i++) {
		struct xlate_result r;
		uint32_t mark = 0;
		size_t len;
		int rc = ingest_recv(&w->ing, fd, w->ingbuf, WORKER_INGEST_CAP, &len, &mark);

		if (rc == 0)
			break;
		if (rc < 0) {
			w->stats.drops[DROP_RELAY_RECV_ERROR]++;
			if (ratelimit_ok(&w->rl_log.ingest, now, NULL))
				log_warnx("worker_on_ingest: raw SCTP socket: %s", strerror(-rc));
			if (rc != -EMSGSIZE && rc != -EPROTO)
				break;
			continue;
		}
		xlate_relay(&w->x, w->ingbuf, len, now, &r);
		/* One buffer: the datagram must leave before the next packet is read. */
		if (r.verdict == XV_ENCAP) {
			struct udp_out one = { .dst = r.peer,
					       .port = r.udp_port,
					       .tos = r.tos,
					       .data = r.sctp,
					       .len = r.sctp_len };

			struct worker_pending p = {
				.assoc = r.assoc,
				.inner = r.inner,
				.ip = w->ingbuf,
				.iplen = len,
				.fragmented = worker_reassembled(w, w->ingbuf, len, mark),
			};

			one.err = udp_send(&w->udp, &r.peer, r.udp_port, r.tos, r.sctp, r.sctp_len);
			worker_sent(w, &p, &one, now);
		} else if (r.verdict == XV_DROP) {
			log_drop(w, &r, "relay");
		}
	}
}

/* Inject the decapsulated packets of one recvmmsg batch, in one sendmmsg per family. */
static void worker_flush_inject(struct gw_worker *w, uint64_t now)
{
	if (!w->ninj)
		return;
	inject_send_batch(&w->inj, w->injq, w->ninj);
	for (unsigned i = 0; i < w->ninj; i++) {
		const struct inject_out *o = &w->injq[i];

		if (o->err) {
			w->stats.drops[DROP_IN_INJECT]++;
			if (ratelimit_ok(&w->rl_log.inject, now, NULL)) {
				char a[GW_ADDRSTRLEN];

				log_warnx("worker: inject to %s: %s",
					  addr_format(&o->dst, a, sizeof(a)), strerror(-o->err));
			}
			continue;
		}
		w->stats.in_pkts++;
		w->stats.in_bytes += o->len;
	}
	w->ninj = 0;
}

static void worker_handle_dgram(struct gw_worker *w, struct udp_dgram *d, uint64_t now)
{
	struct xlate_result r;

	if (d->len > WORKER_DGRAM_CAP) {
		w->stats.drops[DROP_IN_TOO_BIG]++;
		return;
	}
	xlate_inbound(&w->x, &d->src, d->src_port, d->tos, d->buf, d->len, now, &r);
	switch (r.verdict) {
	case XV_INJECT:
		/* Each datagram has its own slot with headroom: the batch's headers never
		 * overlap another packet. */
		w->injq[w->ninj++] = (struct inject_out){ .src = r.from,
							  .dst = r.inner,
							  .tos = r.tos,
							  .sctp = r.sctp,
							  .len = r.sctp_len };
		if (r.port_changed && ratelimit_ok(&w->rl_log.port_change, now, NULL)) {
			char a[GW_ADDRSTRLEN];

			log_info("association %u: remote %s now uses UDP port %u", r.assoc->id,
				 addr_format(&r.peer, a, sizeof(a)), r.udp_port);
		}
		break;
	case XV_REPLY_UDP:
		/* Out-of-the-blue answers are rate-limited: an INIT flood must not turn the
		 * gateway into an ABORT amplifier. */
		if (r.reply_len && ratelimit_ok(&w->rl_ootb_abort, now, NULL) &&
		    udp_send(&w->udp, &r.peer, r.udp_port, 0, r.reply, r.reply_len) == 0)
			w->stats.aborts_sent++;
		break;
	case XV_DROP:
		log_drop(w, &r, "inbound");
		break;
	case XV_ABSORBED: /* a keepalive's answer: counted by xlate */
	case XV_ACCEPT:
	case XV_ENCAP:
		break;
	}
}

static void worker_on_udp(struct gw_worker *w, int fd, uint32_t events)
{
	uint64_t now = now_monotonic_ms();

	if (events & EPOLLERR)
		worker_udp_errors(w, fd, NULL, now);
	/* Bounded work per wake-up so the queue gets its turn. */
	for (int round = 0; round < 8; round++) {
		int n;

		for (int i = 0; i < WORKER_RX_BATCH; i++)
			w->dg[i].buf = w->rxmem + (size_t)i * (WORKER_HEADROOM + WORKER_DGRAM_CAP) +
				       WORKER_HEADROOM;
		n = udp_recv_batch(fd, w->dg, WORKER_RX_BATCH, WORKER_DGRAM_CAP);
		if (n < 0) {
			if (ratelimit_ok(&w->rl_log.udp_recv, now, NULL))
				log_warnx("worker_on_udp: recvmmsg: %s", strerror(-n));
			return;
		}
		for (int i = 0; i < n; i++)
			worker_handle_dgram(w, &w->dg[i], now);
		worker_flush_inject(w, now);
		if (n < WORKER_RX_BATCH)
			return;
	}
}

static void worker_handle(struct gw_worker *w, uint32_t what, uint32_t events)
{
	switch ((enum worker_fd)what) {
	case WFD_NFQ:
		worker_on_nfq(w);
		break;
	case WFD_UDP4:
		worker_on_udp(w, w->udp.fd4, events);
		break;
	case WFD_UDP6:
		worker_on_udp(w, w->udp.fd6, events);
		break;
	case WFD_ING4:
		if (w->ing.fd4 >= 0)
			worker_on_ingest(w, w->ing.fd4);
		break;
	case WFD_ING6:
		if (w->ing.fd6 >= 0)
			worker_on_ingest(w, w->ing.fd6);
		break;
	case WFD_STOP:
		break;
	}
}

static uint64_t worker_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * busy-poll: after a wake-up the worker keeps polling (epoll_wait without a timeout) for
 * that long before it sleeps again. A sleeping thread's wake-up costs tens of
 * microseconds on a virtual machine; a single SCTP flow, bound by its round trip, pays
 * it twice per round trip (DATA out, SACK in). The price is CPU while traffic trickles.
 */
static void *worker_main(void *arg)
{
	struct gw_worker *w = arg;
	struct epoll_event ev[16];
	uint64_t spin_until = 0;
	uint32_t spin_us = 0;

	for (;;) {
		int n = epoll_wait(w->epfd, ev, 16, spin_until ? 0 : -1);
		bool stop = false;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("worker %u: epoll_wait", w->id);
			worker_group_request_stop(w->group);
			break;
		}
		if (n == 0) {
			if (spin_until && worker_now_us() >= spin_until)
				spin_until = 0;
			continue;
		}
		worker_lock(w);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == WFD_STOP)
				stop = true;
			else
				worker_handle(w, ev[i].data.u32, ev[i].events);
		}
		spin_us = w->x.conf->busy_poll_us; /* the configuration is swapped under the lock */
		worker_unlock(w);
		if (w->nforeign)
			worker_hand_over(w);
		spin_until = spin_us ? worker_now_us() + spin_us : 0;
		if (w->fatal)
			worker_group_request_stop(w->group);
		if (stop || w->fatal)
			break;
	}
	return NULL;
}

static int worker_watch(struct gw_worker *w, int fd, enum worker_fd what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = what };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The UDP sockets of several workers form one reuseport group (bound in worker order,
 * so socket i is worker i's); the steering program is attached once, on the last. */
static int worker_steer_udp(struct gw_worker *w, const struct gw_conf *c, char *err, size_t errlen)
{
	struct sock_filter code[STEER_MAX_INSNS];
	struct sock_fprog prog = { .filter = code };
	int fds[2] = { w->udp.fd4, w->udp.fd6 };

	prog.len = (unsigned short)steer_udp_prog(c, code);
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0 && setsockopt(fds[i], SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
					      sizeof(prog)) < 0) {
			snprintf(err, errlen, "SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The gateway's own packets are limited in total (100/s), each worker taking its share;
 * log lines per worker. */
static void worker_init_limits(struct gw_worker *w, unsigned workers)
{
	unsigned share = 100 / workers ? 100 / workers : 1;

	w->rl_ootb_abort = (struct ratelimit)RATELIMIT_INIT(1000, share);
	w->rl_icmp_to_host = (struct ratelimit)RATELIMIT_INIT(1000, share);
	w->rl_log.drop = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	w->rl_log.icmp = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	w->rl_log.pmtu = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	w->rl_log.port_change = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	w->rl_log.table_full = (struct ratelimit)RATELIMIT_INIT(10000, 1);
	w->rl_log.send = (struct ratelimit)RATELIMIT_INIT(1000, 5);
	w->rl_log.inject = (struct ratelimit)RATELIMIT_INIT(1000, 5);
	w->rl_log.udp_recv = (struct ratelimit)RATELIMIT_INIT(1000, 5);
	w->rl_log.ingest = (struct ratelimit)RATELIMIT_INIT(1000, 5);
	w->rl_log.keepalive = (struct ratelimit)RATELIMIT_INIT(1000, 5);
}

/* The worker's sockets and queue, watched by its epoll: the UDP socket of the shared
 * port (the last of several attaches the steering program), the raw sockets, and the
 * queue, fail-open when queue-bypass asks it. */
static int worker_open_io(struct gw_worker *w, const struct gw_conf *c, unsigned n, char *err,
			  size_t errlen)
{
	if (udp_open(&w->udp, c->udp_port, c->mark, n > 1, err, errlen) < 0 ||
	    inject_open(&w->inj, c->mark, err, errlen) < 0)
		return -1;
	if (n > 1 && w->id == n - 1 && worker_steer_udp(w, c, err, errlen) < 0)
		return -1;
	w->nfq = nfqueue_open((uint16_t)(c->queue_num + w->id), c->queue_length, err, errlen);
	if (!w->nfq)
		return -1;
	/* queue-bypass yes: fail open also when the queue is full (the nft rules' bypass
	 * flag covers the daemon being gone). */
	if (c->queue_bypass) {
		int e = nfqueue_set_fail_open(w->nfq, true);

		if (e < 0) {
			snprintf(err, errlen, "queue %u: fail-open: %s", c->queue_num + w->id,
				 strerror(-e));
			return -1;
		}
	}
	if (worker_watch(w, w->stopfd, WFD_STOP) < 0 ||
	    worker_watch(w, nfqueue_fd(w->nfq), WFD_NFQ) < 0 ||
	    worker_watch(w, w->udp.fd4, WFD_UDP4) < 0 ||
	    (w->udp.fd6 >= 0 && worker_watch(w, w->udp.fd6, WFD_UDP6) < 0)) {
		snprintf(err, errlen, "worker %u: epoll: %s", w->id, strerror(errno));
		return -1;
	}
	return 0;
}

int worker_init(struct gw_worker *w, struct worker_group *g, unsigned id, const struct gw_conf *c,
		char *err, size_t errlen)
{
	unsigned n = g->n;
	uint32_t cap = c->max_assoc / n ? c->max_assoc / n : 1;

	memset(w, 0, sizeof(*w));
	w->group = g;
	w->id = id;
	w->epfd = w->stopfd = -1;
	w->udp.fd4 = w->udp.fd6 = -1;
	w->inj.fd4 = w->inj.fd6 = w->inj.icmp4 = w->inj.icmp6 = -1;
	w->ing.fd4 = w->ing.fd6 = -1;
	pthread_mutex_init(&w->lock, NULL);
	worker_init_limits(w, n);

	w->tab = assoc_table_new(cap);
	w->rxmem = malloc((size_t)WORKER_RX_BATCH * (WORKER_HEADROOM + WORKER_DGRAM_CAP));
	w->ingbuf = malloc(WORKER_INGEST_CAP);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!w->tab || !w->rxmem || !w->ingbuf || w->epfd < 0 || w->stopfd < 0) {
		snprintf(err, errlen, "worker %u: cannot allocate %u associations: %s", id, cap,
			 strerror(errno));
		return -1;
	}
	assoc_table_set_ids(w->tab, steer_first_id(id), n);
	/* A secret seed: an attacker must not choose whose INIT budget it spends. */
	if (getrandom(&w->outside_inits.seed, sizeof(w->outside_inits.seed), 0) < 0)
		w->outside_inits.seed = (uint32_t)now_monotonic_ms() ^ id;
	w->x = (struct xlate_ctx){ .conf = c,
				   .tab = w->tab,
				   .st = &w->stats,
				   .outside_inits = &w->outside_inits,
				   .worker = id,
				   .share = n,
				   .ka_key = &g->ka_key };

	return worker_open_io(w, c, n, err, errlen);
}

void worker_free(struct gw_worker *w)
{
	if (w->nfq)
		nfqueue_close(w->nfq);
	udp_close(&w->udp);
	inject_close(&w->inj);
	ingest_close(&w->ing);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	if (w->tab)
		assoc_table_free(w->tab);
	free(w->rxmem);
	free(w->ingbuf);
	pthread_mutex_destroy(&w->lock);
	memset(w, 0, sizeof(*w));
}

/* Several workers: worker i runs on the i-th CPU the daemon may use (its systemd
 * CPUAffinity= or taskset), so the workers never share a core while one is free; with
 * fewer CPUs than workers they wrap around. One worker is left to the scheduler. */
static void worker_pin(struct gw_worker *w)
{
	unsigned n = w->group->n, k = 0, want;
	cpu_set_t allowed, one;

	if (n <= 1 || sched_getaffinity(0, sizeof(allowed), &allowed) < 0 ||
	    CPU_COUNT(&allowed) == 0)
		return;
	want = w->id % (unsigned)CPU_COUNT(&allowed);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed) || k++ != want)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (pthread_setaffinity_np(w->thread, sizeof(one), &one) == 0)
			w->cpu = cpu;
		else
			log_warnx("worker %u: cannot pin to CPU %d", w->id, cpu);
		return;
	}
}

int worker_start(struct gw_worker *w)
{
	int rc = pthread_create(&w->thread, NULL, worker_main, w);

	if (rc)
		return -rc;
	w->running = true;
	w->cpu = -1;
	worker_pin(w);
	return 0;
}

void worker_group_request_stop(struct worker_group *g)
{
	uint64_t one = 1;

	atomic_store(&g->failed, true);
	if (write(g->request_stop_fd, &one, sizeof(one)) < 0)
		log_warn("worker_group_request_stop: eventfd");
}

void worker_stop(struct gw_worker *w)
{
	uint64_t one = 1;

	if (!w->running)
		return;
	if (write(w->stopfd, &one, sizeof(one)) < 0)
		log_warn("worker_stop: eventfd");
	pthread_join(w->thread, NULL);
	w->running = false;
}

int worker_set_fail_open(struct gw_worker *w, bool on)
{
	return nfqueue_set_fail_open(w->nfq, on);
}

void worker_lock(struct gw_worker *w)
{
	pthread_mutex_lock(&w->lock);
}

void worker_unlock(struct gw_worker *w)
{
	pthread_mutex_unlock(&w->lock);
}

int worker_group_init(struct worker_group *g)
{
	return getrandom(&g->ka_key, sizeof(g->ka_key), 0) == (ssize_t)sizeof(g->ka_key) ? 0 : -1;
}

int worker_set_conf(struct gw_worker *w, const struct gw_conf *conf, char *err, size_t errlen)
{
	unsigned n = steer_workers(conf);

	w->x.conf = conf;
	/* Keepalive intervals follow the rules as they are now. */
	for (struct assoc *a = assoc_next(w->tab, NULL); a; a = assoc_next(w->tab, a))
		a->ka_interval_s = xlate_keepalive_of(conf, a);
	/* The steering program knows the forward rules: the group gets the new one. */
	if (n > 1 && w->id == n - 1)
		return worker_steer_udp(w, conf, err, errlen);
	return 0;
}

/* The raw socket filter of this worker: with several workers each takes only the relay
 * packets whose answers the reuseport program steers to it. */
static int worker_filter_ingest(struct gw_worker *w, const struct gw_conf *c, char *err,
				size_t errlen)
{
	struct sock_filter code[STEER_MAX_INSNS];
	struct sock_fprog prog = { .filter = code };
	int fds[2] = { w->ing.fd4, w->ing.fd6 };

	if (steer_workers(c) == 1)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		prog.len = (unsigned short)steer_raw_prog(c, w->id, i == 1, code);
		if (setsockopt(fds[i], SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
			snprintf(err, errlen, "SO_ATTACH_FILTER on the raw SCTP socket: %s",
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int worker_ingest_apply(struct gw_worker *w, bool raw, const struct gw_conf *conf, char *err,
			size_t errlen)
{
	bool have = w->ing.fd4 >= 0;

	if (raw && !have) {
		if (ingest_open(&w->ing, conf->mark, err, errlen) < 0)
			return -1;
		if (worker_filter_ingest(w, conf, err, errlen) < 0 ||
		    worker_watch(w, w->ing.fd4, WFD_ING4) < 0 ||
		    (w->ing.fd6 >= 0 && worker_watch(w, w->ing.fd6, WFD_ING6) < 0)) {
			if (!err[0])
				snprintf(err, errlen, "epoll: %s", strerror(errno));
			ingest_close(&w->ing); /* closing removes them from epoll */
			return -1;
		}
	} else if (raw) {
		return worker_filter_ingest(w, conf, err, errlen);
	} else if (have) {
		ingest_close(&w->ing);
	}
	return 0;
}

unsigned worker_expire(struct gw_worker *w, const struct assoc_timeouts *to, uint64_t now)
{
	unsigned n = assoc_expire(w->tab, to, now);

	w->stats.assoc_expired += n;
	return n;
}

#define WORKER_KA_BATCH 32

unsigned worker_send_keepalives(struct gw_worker *w, uint64_t now)
{
	struct ka_send ks[WORKER_KA_BATCH];
	struct udp_out o[WORKER_KA_BATCH];
	struct assoc *cursor = NULL;
	unsigned sent = 0;
	bool done;

	do {
		unsigned n =
			ka_collect(w->tab, w->x.ka_key, now, &cursor, &done, ks, WORKER_KA_BATCH);

		for (unsigned i = 0; i < n; i++)
			o[i] = (struct udp_out){ .dst = ks[i].path->addr,
						 .port = ks[i].path->udp_port,
						 .data = ks[i].pkt,
						 .len = ks[i].len };
		if (n)
			udp_send_batch(&w->udp, o, n);
		for (unsigned i = 0; i < n; i++) {
			if (!o[i].err) {
				sent++;
				continue;
			}
			ks[i].path->ka_sent--;
			w->stats.drops[DROP_OUT_SEND]++;
			if (ratelimit_ok(&w->rl_log.keepalive, now, NULL)) {
				char a[GW_ADDRSTRLEN];

				log_warnx("association %u: keepalive to %s: %s", ks[i].assoc->id,
					  addr_format(&o[i].dst, a, sizeof(a)),
					  strerror(-o[i].err));
			}
		}
	} while (!done);
	w->stats.keepalives_sent += sent;
	return sent;
}

void worker_refresh_queue_stats(struct gw_worker *w)
{
	struct nfqueue_kstats ks;
	struct nfqueue_vstats vs;

	w->stats.nfq_enobufs = nfqueue_enobufs(w->nfq);
	if (nfqueue_kstats(w->nfq, &ks) == 0) {
		w->stats.nfq_waiting = ks.queue_total;
		w->stats.nfq_queue_dropped = ks.queue_dropped;
		w->stats.nfq_user_dropped = ks.user_dropped;
	}
	nfqueue_verdict_stats(w->nfq, &vs);
	w->stats.nfq_batch_verdicts = vs.batch_msgs;
	w->stats.nfq_single_verdicts = vs.single_msgs;
}
