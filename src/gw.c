/* gw.c - the daemon's life: set up, one epoll loop, reload, tear down.
 *
 * Order matters. The control socket comes first (it refuses a second instance), then
 * the UDP port (a clear error if it is busy), raw sockets and the queue, and only then
 * the nftables rules, so no packet is queued before someone reads the queue. On the
 * way out the rules go first, for the same reason. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/errqueue.h>
#include <linux/netfilter.h>
#include <systemd/sd-daemon.h>

#include "build-config.h"
#include "control.h"
#include "crc32c.h"
#include "gw.h"
#include "icmp.h"
#include "ingest.h"
#include "inject.h"
#include "log.h"
#include "nfq.h"
#include "pkt.h"
#include "privs.h"
#include "udp.h"
#include "xlate.h"

#define GW_MAX_WATCH 64
#define GW_UDP_BATCH 32
#define GW_HEADROOM 64 /* room to prepend an IPv4 / IPv6 header before the SCTP packet */
#define GW_DGRAM_CAP 65536
#define GW_QUEUE_MAXLEN 4096
#define GW_ERRQ_BATCH 64   /* error-queue entries read per wake-up */
#define GW_ERRQ_QUOTE 2048 /* more than any ICMP error quotes (1232 bytes for ICMPv6) */

struct gw_watch {
	int fd;
	gw_fd_cb cb;
	void *arg;
};

struct gw_priv {
	int epfd, sigfd, timerfd;
	struct nfqueue *nfq;
	struct udp_sock udp;
	struct inject_sock inj;
	struct ingest_sock ing; /* relay mode, raw ingest: fd4 -1 when not open */
	uint8_t *ingbuf;        /* GW_DGRAM_CAP + 40: one packet read from it */
	struct xlate_ctx x;
	struct xlate_ratelimit init_rl;
	struct gw_watch watch[GW_MAX_WATCH];
	uint64_t watchdog_usec;
	uint64_t last_watchdog_ms;
	struct ratelimit rl_drop, rl_send, rl_inject, rl_abort, rl_icmp;
	struct ratelimit rl_full; /* table full: a warning, not a debug line */
	uint8_t *rxmem; /* GW_UDP_BATCH * (GW_HEADROOM + GW_DGRAM_CAP) */
	struct udp_dgram dg[GW_UDP_BATCH];
};

int gw_watch(struct gw *gw, int fd, uint32_t events, gw_fd_cb cb, void *arg)
{
	struct gw_priv *p = gw->priv;
	struct epoll_event ev = { .events = events };

	for (int i = 0; i < GW_MAX_WATCH; i++) {
		if (p->watch[i].cb)
			continue;
		p->watch[i] = (struct gw_watch){ .fd = fd, .cb = cb, .arg = arg };
		ev.data.ptr = &p->watch[i];
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			p->watch[i].cb = NULL;
			return -1;
		}
		return 0;
	}
	errno = EMFILE;
	return -1;
}

void gw_unwatch(struct gw *gw, int fd)
{
	struct gw_priv *p = gw->priv;

	for (int i = 0; i < GW_MAX_WATCH; i++) {
		if (p->watch[i].cb && p->watch[i].fd == fd) {
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
			p->watch[i].cb = NULL;
			p->watch[i].fd = -1;
		}
	}
}

static void log_drop(struct gw *gw, const struct xlate_result *r, const char *dir)
{
	uint64_t supp = 0;
	char a[GW_ADDRSTRLEN];

	if (r->reason == DROP_OUT_TABLE_FULL || r->reason == DROP_IN_TABLE_FULL) {
		if (ratelimit_ok(&gw->priv->rl_full, now_monotonic_ms(), &supp))
			log_warnx("association table full (%u of %u, none evictable): new "
				  "association refused%s; raise max-associations?",
				  assoc_table_count(gw->tab), assoc_table_capacity(gw->tab),
				  supp ? " (and earlier ones suppressed)" : "");
		return;
	}
	if (!ratelimit_ok(&gw->priv->rl_drop, now_monotonic_ms(), &supp))
		return;
	log_debug("%s: dropped (%s%s%s) peer %s%s", dir, stats_drop_name(r->reason),
		  r->pkt_err ? ": " : "", r->pkt_err ? pkt_strerror(r->pkt_err) : "",
		  addr_format(&r->peer, a, sizeof(a)), supp ? " (and earlier ones suppressed)" : "");
}

/* An ICMP error for an internal host, within a global rate limit (RFC 4443 2.4 f asks
 * it of ICMPv6; a gateway relaying errors must not amplify a flood either). */
static void gw_icmp_to_host(struct gw *gw, const struct gw_addr *to, const uint8_t *msg,
			    size_t len, uint64_t now)
{
	struct gw_priv *p = gw->priv;
	int err;

	if (!ratelimit_ok(&p->rl_icmp, now, NULL)) {
		gw->stats.drops[DROP_ICMP_RATE]++;
		return;
	}
	err = inject_icmp(&p->inj, to, msg, len);
	if (err) {
		gw->stats.drops[DROP_ICMP_SEND]++;
		if (ratelimit_ok(&p->rl_inject, now, NULL)) {
			char a[GW_ADDRSTRLEN];

			log_warnx("gw_icmp_to_host: ICMP to %s: %s", addr_format(to, a, sizeof(a)),
				  strerror(-err));
		}
		return;
	}
	gw->stats.icmp_sent++;
}

/* One error-queue entry of a UDP socket. An ICMP error is translated for the internal
 * host (RFC 6951 5.5) if its quoted ports and tag name an association; a local EMSGSIZE
 * carries no packet and only reports the path MTU to *local_mtu (when its destination
 * is want). */
static void gw_on_udp_error(struct gw *gw, const struct udp_err *e, const struct gw_addr *want,
			    uint32_t *local_mtu, uint64_t now)
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
	gw->stats.icmp_received++;
	n = icmp_translate(gw->tab, kind, e->info, &e->dst, e->payload, e->len, msg, sizeof(msg),
			   &a, &to);
	if (n < 0) {
		gw->stats.drops[n == ICMP_ERR_KIND ? DROP_ICMP_IGNORED : DROP_ICMP_UNVERIFIED]++;
		if (ratelimit_ok(&gw->priv->rl_drop, now, NULL))
			log_debug("ICMP type %u code %u from %s about a datagram to %s: not passed "
				  "on (%d)", e->type, e->code,
				  addr_format(&e->offender, s1, sizeof(s1)),
				  addr_format(&e->dst, s2, sizeof(s2)), n);
		return;
	}
	if (ratelimit_ok(&gw->priv->rl_drop, now, NULL))
		log_debug("ICMP type %u code %u (info %u) from %s: association %u, told %s",
			  e->type, e->code, e->info, addr_format(&e->offender, s1, sizeof(s1)),
			  a->id, addr_format(&to, s2, sizeof(s2)));
	gw_icmp_to_host(gw, &to, msg, (size_t)n, now);
}

/* Drain (boundedly) the error queue of a UDP socket. Returns the path MTU a local
 * EMSGSIZE reported for destination want (0: none seen). */
static uint32_t gw_udp_errors(struct gw *gw, int fd, const struct gw_addr *want, uint64_t now)
{
	uint8_t buf[GW_ERRQ_QUOTE];
	struct udp_err e;
	uint32_t mtu = 0;

	for (int i = 0; i < GW_ERRQ_BATCH; i++) {
		int rc = udp_recv_error(fd, &e, buf, sizeof(buf));

		if (rc <= 0) {
			if (rc < 0 && ratelimit_ok(&gw->priv->rl_inject, now, NULL))
				log_warnx("gw_udp_errors: error queue: %s", strerror(-rc));
			break;
		}
		gw_on_udp_error(gw, &e, want, &mtu, now);
	}
	return mtu;
}

/* An IPv4 packet without DF: its sender allows routers to fragment it. IPv6 has no such
 * bit (only the source fragments), so an IPv6 packet never qualifies. */
static bool gw_inner_may_fragment(const uint8_t *ip, size_t len)
{
	return len >= 20 && ip[0] >> 4 == 4 && !(ip[6] & 0x40);
}

/* A queued packet whose datagram exceeded the path MTU. If the packet itself allowed
 * fragmentation, its datagram goes out fragmented, as IP-in-IP and GRE tunnels do
 * (RFC 4459 3): a host that retransmits without DF (usrsctp does, after a timeout)
 * gets through. With DF the gateway never fragments: the internal host is told the MTU
 * its packets must fit, as tunnels do. Returns 1 when the packet is dropped, else the
 * fragmenting send's 0 or -errno. */
static int gw_too_big(struct gw *gw, const uint8_t *ip, size_t len,
		      const struct xlate_result *r, uint64_t now)
{
	struct gw_priv *p = gw->priv;
	int fd = r->peer.family == AF_INET ? p->udp.fd4 : p->udp.fd6;
	uint8_t msg[ICMP_MAX_MSG];
	uint32_t mtu;
	int n;

	if (gw_inner_may_fragment(ip, len)) {
		/* The refused send left an EMSGSIZE entry in the error queue: read it now
		 * rather than wake up for it, and learn the MTU for the log. */
		mtu = gw_udp_errors(gw, fd, &r->peer, now);
		n = udp_send_frag(&p->udp, &r->peer, r->udp_port, r->tos, r->sctp, r->sctp_len);
		if (!n && ratelimit_ok(&p->rl_drop, now, NULL)) {
			char a[GW_ADDRSTRLEN];

			log_debug("association %u: %zu-byte packet without DF over the path MTU "
				  "%u to %s; sent fragmented", r->assoc->id, len, mtu,
				  addr_format(&r->peer, a, sizeof(a)));
		}
		return n;
	}
	gw->stats.drops[DROP_OUT_TOO_BIG]++;
	/* The kernel put the path MTU in the error queue (IP_RECVERR) as it refused. */
	mtu = gw_udp_errors(gw, fd, &r->peer, now);
	if (!mtu) {
		n = udp_path_mtu(&r->peer, gw->conf->mark);
		mtu = n > 0 ? (uint32_t)n : 0;
	}
	n = mtu ? icmp_too_big_reply(r->assoc, ip, len, mtu, msg, sizeof(msg))
		: ICMP_ERR_MTU;
	if (n < 0) {
		if (ratelimit_ok(&p->rl_send, now, NULL))
			log_warnx("gw_too_big: no ICMP for a packet too big (path MTU %u): %d",
				  mtu, n);
		return 1;
	}
	if (ratelimit_ok(&p->rl_drop, now, NULL)) {
		char a[GW_ADDRSTRLEN];

		log_debug("association %u: %zu-byte packet over the path MTU %u to %s; told the "
			  "host", r->assoc->id, len, mtu, addr_format(&r->peer, a, sizeof(a)));
	}
	gw_icmp_to_host(gw, &r->inner, msg, (size_t)n, now);
	return 1;
}

/* Carry out xlate's answer for a native packet (ip, len) from inside: send its datagram,
 * or count and log why not. Nothing here keeps the packet: a queued one gets DROP. */
static void gw_encap(struct gw *gw, const uint8_t *ip, size_t len, const struct xlate_result *r,
		     uint64_t now)
{
	struct gw_priv *p = gw->priv;
	int err;

	if (r->verdict == XV_DROP) {
		log_drop(gw, r, "outbound");
		return;
	}
	if (r->verdict != XV_ENCAP)
		return;
	err = udp_send(&p->udp, &r->peer, r->udp_port, r->tos, r->sctp, r->sctp_len);
	if (err == -EMSGSIZE) {
		err = gw_too_big(gw, ip, len, r, now);
		if (err > 0)
			return; /* the host sends it again, smaller */
	}
	if (err) {
		gw->stats.drops[DROP_OUT_SEND]++;
		if (ratelimit_ok(&p->rl_send, now, NULL)) {
			char a[GW_ADDRSTRLEN];

			log_warnx("gw_encap: send to %s port %u: %s",
				  addr_format(&r->peer, a, sizeof(a)), r->udp_port,
				  strerror(-err));
		}
		return;
	}
	gw->stats.out_pkts++;
	gw->stats.out_bytes += r->sctp_len;
}

/* One queued native packet: exactly one verdict is returned for it. The input hook
 * queues only SCTP to relay ports (relay-ingest queue); the forward and output hooks
 * queue SCTP from internal hosts and from this host. */
static unsigned gw_on_queued(struct nfqueue_packet *qp, void *arg)
{
	struct gw *gw = arg;
	struct gw_priv *p = gw->priv;
	struct xlate_result r;
	uint64_t now = now_monotonic_ms();

	if (qp->hook == NF_INET_LOCAL_IN)
		xlate_relay(&p->x, qp->data, qp->len, now, &r);
	else
		xlate_outbound(&p->x, qp->data, qp->len, now, &r);
	if (r.verdict == XV_ACCEPT)
		return NF_ACCEPT;
	gw_encap(gw, qp->data, qp->len, &r, now);
	return NF_DROP; /* sent as a datagram, or dropped */
}

/* Relay mode, raw ingest: native SCTP to this host. The kernel has no SCTP, so nothing
 * else answers these packets; what no relay rule claims is only counted. */
static void gw_on_ingest(struct gw *gw, int fd, uint32_t events, void *arg)
{
	struct gw_priv *p = gw->priv;
	uint64_t now = now_monotonic_ms();

	for (int i = 0; i < GW_UDP_BATCH * 8; i++) {
		struct xlate_result r;
		size_t len;
		int rc = ingest_recv(&p->ing, fd, p->ingbuf, GW_DGRAM_CAP + 40, &len);

		if (rc == 0)
			return;
		if (rc < 0) {
			gw->stats.drops[DROP_OUT_MALFORMED]++;
			if (ratelimit_ok(&p->rl_inject, now, NULL))
				log_warnx("gw_on_ingest: raw SCTP socket: %s", strerror(-rc));
			if (rc != -EMSGSIZE && rc != -EPROTO)
				return;
			continue;
		}
		xlate_relay(&p->x, p->ingbuf, len, now, &r);
		gw_encap(gw, p->ingbuf, len, &r, now);
	}
}

static void gw_on_nfq(struct gw *gw, int fd, uint32_t events, void *arg)
{
	if (nfqueue_process(gw->priv->nfq, gw_on_queued, gw) < 0) {
		log_err("gw_on_nfq: queue socket failed; stopping");
		gw->quit = true;
	}
}

static void gw_handle_dgram(struct gw *gw, struct udp_dgram *d, uint64_t now)
{
	struct gw_priv *p = gw->priv;
	struct xlate_result r;
	int err;

	if (d->len > GW_DGRAM_CAP) {
		gw->stats.drops[DROP_IN_MALFORMED]++;
		return;
	}
	xlate_inbound(&p->x, &d->src, d->src_port, d->tos, d->buf, d->len, now, &r);
	switch (r.verdict) {
	case XV_INJECT:
		err = inject_send(&p->inj, &r.from, &r.inner, r.tos, r.sctp, r.sctp_len);
		if (err) {
			gw->stats.drops[DROP_IN_INJECT]++;
			if (ratelimit_ok(&p->rl_inject, now, NULL)) {
				char a[GW_ADDRSTRLEN];

				log_warnx("gw_handle_dgram: inject to %s: %s",
					  addr_format(&r.inner, a, sizeof(a)), strerror(-err));
			}
			return;
		}
		gw->stats.in_pkts++;
		gw->stats.in_bytes += r.sctp_len;
		if (r.port_changed && ratelimit_ok(&p->rl_drop, now, NULL)) {
			char a[GW_ADDRSTRLEN];

			log_info("association %u: remote %s now uses UDP port %u", r.assoc->id,
				 addr_format(&r.peer, a, sizeof(a)), r.udp_port);
		}
		break;
	case XV_REPLY_UDP:
		/* Out-of-the-blue answers are rate-limited: an INIT flood must not turn the
		 * gateway into an ABORT amplifier. */
		if (r.reply_len && ratelimit_ok(&p->rl_abort, now, NULL) &&
		    udp_send(&p->udp, &r.peer, r.udp_port, 0, r.reply, r.reply_len) == 0)
			gw->stats.aborts_sent++;
		break;
	case XV_DROP:
		log_drop(gw, &r, "inbound");
		break;
	case XV_ACCEPT:
	case XV_ENCAP:
		break;
	}
}

static void gw_on_udp(struct gw *gw, int fd, uint32_t events, void *arg)
{
	struct gw_priv *p = gw->priv;
	uint64_t now = now_monotonic_ms();

	if (events & EPOLLERR)
		gw_udp_errors(gw, fd, NULL, now);
	/* Bounded work per wake-up so the queue and control socket get their turn. */
	for (int round = 0; round < 8; round++) {
		int n;

		for (int i = 0; i < GW_UDP_BATCH; i++)
			p->dg[i].buf = p->rxmem + (size_t)i * (GW_HEADROOM + GW_DGRAM_CAP) + GW_HEADROOM;
		n = udp_recv_batch(fd, p->dg, GW_UDP_BATCH, GW_DGRAM_CAP);
		if (n < 0) {
			if (ratelimit_ok(&p->rl_inject, now, NULL))
				log_warnx("gw_on_udp: recvmmsg: %s", strerror(-n));
			return;
		}
		for (int i = 0; i < n; i++)
			gw_handle_dgram(gw, &p->dg[i], now);
		if (n < GW_UDP_BATCH)
			return;
	}
}

static struct assoc_timeouts gw_timeouts(const struct gw_conf *c)
{
	return (struct assoc_timeouts){
		.init_ms = c->timeout_init * 1000u,
		.established_ms = c->timeout_established * 1000u,
		.shutdown_ms = c->timeout_shutdown * 1000u,
		.closed_ms = c->timeout_shutdown * 1000u,
	};
}

static void gw_status(struct gw *gw)
{
	sd_notifyf(0, "STATUS=%u associations; out %llu pkts, in %llu pkts; queue via %s",
		   assoc_table_count(gw->tab), (unsigned long long)gw->stats.out_pkts,
		   (unsigned long long)gw->stats.in_pkts, nft_queue_kind_name(gw->queue_kind));
}

static void gw_on_timer(struct gw *gw, int fd, uint32_t events, void *arg)
{
	struct assoc_timeouts to = gw_timeouts(gw->conf);
	uint64_t ticks, now = now_monotonic_ms();
	unsigned n;

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("gw_on_timer: read");
	n = assoc_expire(gw->tab, &to, now);
	gw->stats.assoc_expired += n;
	if (n)
		log_debug("expired %u associations", n);
	gw->stats.nfq_enobufs = nfqueue_enobufs(gw->priv->nfq);
	gw_status(gw);
	if (gw->priv->watchdog_usec)
		sd_notify(0, "WATCHDOG=1");
}

static void gw_on_signal(struct gw *gw, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: stopping", si.ssi_signo);
			gw->quit = true;
			break;
		case SIGHUP:
			gw->reload_pending = true;
			break;
		}
	}
}

/* How native SCTP to relay ports reaches the daemon: CONF_INGEST_RAW or _QUEUE, or
 * CONF_INGEST_AUTO when c has no relay rule. *why says why, for the log. */
static enum conf_relay_ingest gw_ingest_mode(const struct gw_conf *c, const char **why)
{
	*why = "";
	if (!c->nrelay)
		return CONF_INGEST_AUTO;
	if (c->relay_ingest != CONF_INGEST_AUTO) {
		*why = "relay-ingest in the configuration";
		return (enum conf_relay_ingest)c->relay_ingest;
	}
	if (ingest_kernel_has_sctp()) {
		*why = "the kernel has SCTP (/proc/net/sctp), whose stack must never see them";
		return CONF_INGEST_QUEUE;
	}
	*why = "the kernel has no SCTP (no /proc/net/sctp), so nothing else answers them";
	return CONF_INGEST_RAW;
}

static void gw_log_modes(const struct gw_conf *c, enum conf_relay_ingest mode, const char *why)
{
	if (c->host_mode)
		log_info("host mode: SCTP this host sends is taken in the output hook, and its "
			 "associations' packets are delivered to the local stack");
	if (mode == CONF_INGEST_RAW)
		log_info("relay: %u rule(s); native SCTP to this host is read from a raw SCTP "
			 "socket: %s", c->nrelay, why);
	else if (mode == CONF_INGEST_QUEUE)
		log_info("relay: %u rule(s); native SCTP to the relay ports is taken in the input "
			 "hook: %s", c->nrelay, why);
}

/* Open or close the raw ingest sockets so that they are open exactly in raw mode. */
static int gw_ingest_apply(struct gw *gw, enum conf_relay_ingest mode, uint32_t mark,
			   char *err, size_t errlen)
{
	struct gw_priv *p = gw->priv;
	bool have = p->ing.fd4 >= 0;

	if (mode == CONF_INGEST_RAW && !have) {
		if (ingest_open(&p->ing, mark, err, errlen) < 0)
			return -1;
		if (gw_watch(gw, p->ing.fd4, EPOLLIN, gw_on_ingest, NULL) < 0 ||
		    (p->ing.fd6 >= 0 && gw_watch(gw, p->ing.fd6, EPOLLIN, gw_on_ingest, NULL) < 0)) {
			snprintf(err, errlen, "epoll: %s", strerror(errno));
			gw_unwatch(gw, p->ing.fd4);
			ingest_close(&p->ing);
			return -1;
		}
	} else if (mode != CONF_INGEST_RAW && have) {
		gw_unwatch(gw, p->ing.fd4);
		if (p->ing.fd6 >= 0)
			gw_unwatch(gw, p->ing.fd6);
		ingest_close(&p->ing);
	}
	return 0;
}

/* Changes that need sockets or memory re-created; refused on reload for now. */
static const char *gw_reload_blocker(const struct gw_conf *old, const struct gw_conf *neu)
{
	if (old->udp_port != neu->udp_port)
		return "udp-port";
	if (old->queue_num != neu->queue_num || old->queue_count != neu->queue_count)
		return "queue";
	if (old->queue_length != neu->queue_length)
		return "queue-length";
	if (old->mark != neu->mark)
		return "mark";
	if (old->max_assoc != neu->max_assoc)
		return "max-associations";
	return NULL;
}

int gw_reload(struct gw *gw, char *err, size_t errlen)
{
	struct gw_conf *neu = malloc(sizeof(*neu));
	enum conf_relay_ingest mode, old_mode = (enum conf_relay_ingest)gw->relay_ingest;
	enum nft_queue_kind kind;
	const char *blocker, *why;

	if (!neu) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sd_notify(0, "RELOADING=1");
	if (conf_load_file(gw->opts.conf_path, neu, err, errlen) < 0)
		goto fail;
	blocker = gw_reload_blocker(gw->conf, neu);
	if (blocker) {
		snprintf(err, errlen, "%s: changing \"%s\" needs a restart; configuration kept",
			 gw->opts.conf_path, blocker);
		goto fail;
	}
	mode = gw_ingest_mode(neu, &why);
	if (gw_ingest_apply(gw, mode, neu->mark, err, errlen) < 0)
		goto fail;
	if (nft_install(neu, mode == CONF_INGEST_QUEUE, &kind, err, errlen) < 0) {
		char err2[256];

		if (gw_ingest_apply(gw, old_mode, gw->conf->mark, err2, sizeof(err2)) < 0)
			log_warnx("reload: %s", err2);
		goto fail;
	}
	if (mode != old_mode || neu->host_mode != gw->conf->host_mode)
		gw_log_modes(neu, mode, why);
	gw->relay_ingest = (uint8_t)mode;
	free(gw->conf);
	gw->conf = neu;
	gw->priv->x.conf = neu;
	gw->queue_kind = kind;
	memset(&gw->stats.rule_hits, 0, sizeof(gw->stats.rule_hits));
	log_info("configuration reloaded from %s; %u associations kept", gw->opts.conf_path,
		 assoc_table_count(gw->tab));
	sd_notify(0, "READY=1");
	return 0;
fail:
	log_warnx("reload failed, keeping the running configuration: %s", err);
	sd_notify(0, "READY=1");
	free(neu);
	return -1;
}

unsigned gw_flush(struct gw *gw)
{
	unsigned n = 0;
	struct assoc *a;

	while ((a = assoc_next(gw->tab, NULL)) != NULL) {
		assoc_remove(gw->tab, a);
		n++;
	}
	log_info("flushed %u associations", n);
	return n;
}

static int gw_setup_fds(struct gw *gw, char *err, size_t errlen)
{
	struct gw_priv *p = gw->priv;
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	p->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	p->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->sigfd < 0 || p->timerfd < 0 || timerfd_settime(p->timerfd, 0, &its, NULL) < 0) {
		snprintf(err, errlen, "signalfd/timerfd: %s", strerror(errno));
		return -1;
	}
	if (gw_watch(gw, p->sigfd, EPOLLIN, gw_on_signal, NULL) < 0 ||
	    gw_watch(gw, p->timerfd, EPOLLIN, gw_on_timer, NULL) < 0 ||
	    gw_watch(gw, nfqueue_fd(p->nfq), EPOLLIN, gw_on_nfq, NULL) < 0 ||
	    gw_watch(gw, p->udp.fd4, EPOLLIN, gw_on_udp, NULL) < 0 ||
	    (p->udp.fd6 >= 0 && gw_watch(gw, p->udp.fd6, EPOLLIN, gw_on_udp, NULL) < 0)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void gw_loop(struct gw *gw)
{
	struct epoll_event ev[32];

	while (!gw->quit) {
		int n = epoll_wait(gw->priv->epfd, ev, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("gw_loop: epoll_wait");
			break;
		}
		for (int i = 0; i < n && !gw->quit; i++) {
			struct gw_watch *w = ev[i].data.ptr;

			if (w->cb)
				w->cb(gw, w->fd, ev[i].events, w->arg);
		}
		if (gw->reload_pending) {
			char err[CONF_ERR_LEN + 64];

			gw->reload_pending = false;
			gw_reload(gw, err, sizeof(err));
		}
	}
}

/* -u: everything that needs root is done; keep only what reloads, the queue and the
 * exit need (CAP_NET_ADMIN, CAP_NET_RAW). */
static int gw_drop_privileges(const struct gw *gw, char *err, size_t errlen)
{
	const struct privs_target *t = gw->opts.privs;

	if (privs_drop(t, err, errlen) < 0)
		return -1;
	log_info("running as %s (group %s) with CAP_NET_ADMIN, CAP_NET_RAW", t->user, t->group);
	if (access(gw->opts.conf_path, R_OK) < 0)
		log_warn("%s is not readable by %s: reloads will fail", gw->opts.conf_path,
			 t->user);
	return 0;
}

int gw_main(const struct gw_opts *opts)
{
	struct gw gw = { .opts = *opts };
	struct gw_priv *p = calloc(1, sizeof(*p));
	char err[CONF_ERR_LEN + 128];
	enum conf_relay_ingest mode;
	const char *why;
	int rc = 1;

	if (!p) {
		log_err("out of memory");
		return 1;
	}
	gw.priv = p;
	p->epfd = p->sigfd = p->timerfd = -1;
	p->udp.fd4 = p->udp.fd6 = -1;
	p->inj.fd4 = p->inj.fd6 = p->inj.icmp4 = p->inj.icmp6 = -1;
	p->ing.fd4 = p->ing.fd6 = -1;
	p->rl_drop = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	p->rl_send = (struct ratelimit)RATELIMIT_INIT(1000, 5);
	p->rl_inject = (struct ratelimit)RATELIMIT_INIT(1000, 5);
	p->rl_abort = (struct ratelimit)RATELIMIT_INIT(1000, 100);
	p->rl_full = (struct ratelimit)RATELIMIT_INIT(10000, 1);
	p->rl_icmp = (struct ratelimit)RATELIMIT_INIT(1000, 100);
	gw.started_ms = now_monotonic_ms();

	gw.conf = malloc(sizeof(*gw.conf));
	if (!gw.conf || conf_load_file(opts->conf_path, gw.conf, err, sizeof(err)) < 0) {
		log_err("%s", gw.conf ? err : "out of memory");
		goto out;
	}
	if (gw.conf->queue_count > 1) {
		log_err("%s: queue ranges (several workers) are not supported by this build",
			opts->conf_path);
		goto out;
	}
	gw.tab = assoc_table_new(gw.conf->max_assoc);
	p->rxmem = malloc((size_t)GW_UDP_BATCH * (GW_HEADROOM + GW_DGRAM_CAP));
	p->ingbuf = malloc(GW_DGRAM_CAP + 40);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!gw.tab || !p->rxmem || !p->ingbuf || p->epfd < 0) {
		log_err("gw_main: cannot allocate %u associations: %s", gw.conf->max_assoc,
			strerror(errno));
		goto out;
	}
	/* A secret seed: an attacker must not choose whose INIT budget it spends. */
	if (getrandom(&p->init_rl.seed, sizeof(p->init_rl.seed), 0) < 0)
		p->init_rl.seed = (uint32_t)gw.started_ms;
	p->x = (struct xlate_ctx){ .conf = gw.conf, .tab = gw.tab, .st = &gw.stats,
				   .rl = &p->init_rl };

	if (control_open(&gw, opts->ctl_path) < 0)
		goto out;
	if (udp_open(&p->udp, gw.conf->udp_port, gw.conf->mark, err, sizeof(err)) < 0 ||
	    inject_open(&p->inj, gw.conf->mark, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out_ctl;
	}
	p->nfq = nfqueue_open(gw.conf->queue_num, gw.conf->queue_length, err, sizeof(err));
	if (!p->nfq) {
		log_err("%s", err);
		goto out_ctl;
	}
	if (gw_setup_fds(&gw, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out_ctl;
	}
	mode = gw_ingest_mode(gw.conf, &why);
	gw.relay_ingest = (uint8_t)mode;
	if (gw_ingest_apply(&gw, mode, gw.conf->mark, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out_ctl;
	}
	if (nft_install(gw.conf, mode == CONF_INGEST_QUEUE, &gw.queue_kind, err,
			sizeof(err)) < 0) {
		log_err("%s", err);
		goto out_ctl;
	}
	if (opts->privs && gw_drop_privileges(&gw, err, sizeof(err)) < 0) {
		log_err("%s", err);
		if (nft_remove(err, sizeof(err)) < 0)
			log_err("%s", err);
		goto out_ctl;
	}
	log_info("sctp-udp-gw %s started: UDP port %u, queue %u (%s), CRC32c %s, "
		 "up to %u associations", PACKAGE_VERSION, gw.conf->udp_port, gw.conf->queue_num,
		 nft_queue_kind_name(gw.queue_kind), crc32c_impl_name(), gw.conf->max_assoc);
	gw_log_modes(gw.conf, mode, why);
	if (sd_watchdog_enabled(0, &p->watchdog_usec) <= 0)
		p->watchdog_usec = 0;
	sd_notify(0, "READY=1");
	gw_status(&gw);

	gw_loop(&gw);
	rc = 0;

	sd_notify(0, "STOPPING=1");
	if (nft_remove(err, sizeof(err)) < 0) {
		log_err("%s", err);
		rc = 1;
	}
	log_info("stopped: %llu packets out, %llu in, %u associations dropped",
		 (unsigned long long)gw.stats.out_pkts, (unsigned long long)gw.stats.in_pkts,
		 assoc_table_count(gw.tab));
out_ctl:
	control_close(&gw);
out:
	if (p->nfq)
		nfqueue_close(p->nfq);
	udp_close(&p->udp);
	inject_close(&p->inj);
	ingest_close(&p->ing);
	if (p->sigfd >= 0)
		close(p->sigfd);
	if (p->timerfd >= 0)
		close(p->timerfd);
	if (p->epfd >= 0)
		close(p->epfd);
	if (gw.tab)
		assoc_table_free(gw.tab);
	free(p->rxmem);
	free(p->ingbuf);
	free(gw.conf);
	free(p);
	return rc;
}
