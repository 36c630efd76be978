/* gw.c - the daemon's life: set up, the control thread's epoll loop, reload, tear down.
 *
 * Order matters. The control socket comes first (it refuses a second instance), then
 * the workers' UDP port (a clear error if it is busy), raw sockets and queues, and only
 * then the nftables rules, so no packet is queued before a socket reads the queue.
 * Privileges are dropped before the worker threads start (capabilities are per
 * thread). On the way out the rules go first, for the same reason.
 *
 * Threads: this one runs the control socket, signals, the timer (expiry, watchdog) and
 * reloads; each worker (worker.c) runs its own data path. Whatever the control thread
 * reads or changes of a worker, it does with that worker's lock held. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "build-config.h"
#include "control.h"
#include "crc32c.h"
#include "gw.h"
#include "ingest.h"
#include "log.h"
#include "privs.h"
#include "steer.h"
#include "worker.h"

#define GW_MAX_WATCH 64

struct gw_watch {
	int fd;
	gw_fd_cb cb;
	void *arg;
};

struct gw_priv {
	int epfd, sigfd, timerfd, wakefd;
	struct gw_watch watch[GW_MAX_WATCH];
	uint64_t watchdog_usec;
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

void gw_request_stop(struct gw *gw)
{
	uint64_t one = 1;

	atomic_store(&gw->failed, true);
	if (write(gw->priv->wakefd, &one, sizeof(one)) < 0)
		log_warn("gw_request_stop: eventfd");
}

static void gw_on_wake(struct gw *gw, int fd, uint32_t events, void *arg)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		gw->quit = true;
}

struct assoc_table *gw_lock_worker(struct gw *gw, unsigned i)
{
	worker_lock(&gw->workers[i]);
	return gw->workers[i].tab;
}

void gw_unlock_worker(struct gw *gw, unsigned i)
{
	worker_unlock(&gw->workers[i]);
}

unsigned gw_worker_of(const struct gw *gw, uint32_t assoc_id)
{
	return steer_worker_of_id(gw->nworkers, assoc_id);
}

void gw_stats_total(struct gw *gw, struct gw_stats *out, uint32_t *count, uint32_t *capacity)
{
	memset(out, 0, sizeof(*out));
	*count = *capacity = 0;
	for (unsigned i = 0; i < gw->nworkers; i++) {
		const struct gw_stats *s = &gw->workers[i].stats;
		const uint64_t *src = (const uint64_t *)s;
		uint64_t *dst = (uint64_t *)out;

		worker_lock(&gw->workers[i]);
		/* every member is a uint64_t counter (or an array of them) */
		for (size_t k = 0; k < sizeof(*s) / sizeof(uint64_t); k++)
			dst[k] += src[k];
		*count += assoc_table_count(gw->workers[i].tab);
		*capacity += assoc_table_capacity(gw->workers[i].tab);
		worker_unlock(&gw->workers[i]);
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
	struct gw_stats s;
	uint32_t count, cap;
	char workers[32] = "";

	if (gw->nworkers > 1)
		snprintf(workers, sizeof(workers), "; %u workers", gw->nworkers);
	gw_stats_total(gw, &s, &count, &cap);
	sd_notifyf(0, "STATUS=%u associations; out %llu pkts, in %llu pkts; queue via %s%s", count,
		   (unsigned long long)s.out_pkts, (unsigned long long)s.in_pkts,
		   nft_queue_kind_name(gw->queue_kind), workers);
}

static void gw_on_timer(struct gw *gw, int fd, uint32_t events, void *arg)
{
	struct assoc_timeouts to = gw_timeouts(gw->conf);
	uint64_t ticks, now = now_monotonic_ms();
	unsigned n = 0;

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("gw_on_timer: read");
	for (unsigned i = 0; i < gw->nworkers; i++) {
		worker_lock(&gw->workers[i]);
		n += worker_expire(&gw->workers[i], &to, now);
		worker_refresh_queue_stats(&gw->workers[i]);
		worker_unlock(&gw->workers[i]);
	}
	if (n)
		log_debug("expired %u associations", n);
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

/* Open or close every worker's raw ingest sockets so that they are open exactly in raw
 * mode, filtered for conf. */
static int gw_ingest_apply(struct gw *gw, enum conf_relay_ingest mode, const struct gw_conf *conf,
			   char *err, size_t errlen)
{
	int rc = 0;

	for (unsigned i = 0; i < gw->nworkers && !rc; i++) {
		worker_lock(&gw->workers[i]);
		rc = worker_ingest_apply(&gw->workers[i], mode == CONF_INGEST_RAW, conf, err,
					 errlen);
		worker_unlock(&gw->workers[i]);
	}
	return rc;
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
	struct gw_conf *neu = malloc(sizeof(*neu)), *old = gw->conf;
	enum conf_relay_ingest mode, old_mode = (enum conf_relay_ingest)gw->relay_ingest;
	enum nft_queue_kind kind;
	const char *blocker, *why;
	uint32_t count = 0;

	if (!neu) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	err[0] = '\0';
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
	/* Raw sockets open before the input chain goes, close only after it is there: no
	 * moment without one or the other, when a kernel SCTP stack could answer. */
	if (mode == CONF_INGEST_RAW && gw_ingest_apply(gw, mode, neu, err, errlen) < 0)
		goto fail_ingest;
	if (nft_install(neu, mode == CONF_INGEST_QUEUE, &kind, err, errlen) < 0)
		goto fail_ingest;
	if (mode != CONF_INGEST_RAW && gw_ingest_apply(gw, mode, neu, err, errlen) < 0)
		log_warnx("reload: closing the raw SCTP sockets: %s", err);
	if (mode != old_mode || neu->host_mode != gw->conf->host_mode)
		gw_log_modes(neu, mode, why);
	gw->relay_ingest = (uint8_t)mode;
	gw->queue_kind = kind;
	for (unsigned i = 0; i < gw->nworkers; i++) {
		struct gw_worker *w = &gw->workers[i];

		worker_lock(w);
		if (worker_set_conf(w, neu, err, errlen) < 0)
			log_warnx("reload: worker %u: %s", i, err);
		if (neu->queue_bypass != old->queue_bypass &&
		    worker_set_fail_open(w, neu->queue_bypass) < 0)
			log_warnx("reload: worker %u: queue fail-open not changed", i);
		memset(&w->stats.rule_hits, 0, sizeof(w->stats.rule_hits));
		count += assoc_table_count(w->tab);
		worker_unlock(w);
	}
	gw->conf = neu;
	free(old);
	log_info("configuration reloaded from %s; %u associations kept", gw->opts.conf_path,
		 count);
	sd_notify(0, "READY=1");
	return 0;
fail_ingest:
	{
		char err2[256] = "";

		if (gw_ingest_apply(gw, old_mode, gw->conf, err2, sizeof(err2)) < 0)
			log_warnx("reload: %s", err2);
	}
fail:
	log_warnx("reload failed, keeping the running configuration: %s", err);
	sd_notify(0, "READY=1");
	free(neu);
	return -1;
}

unsigned gw_flush(struct gw *gw)
{
	unsigned n = 0;

	for (unsigned i = 0; i < gw->nworkers; i++) {
		struct assoc_table *t = gw_lock_worker(gw, i);
		struct assoc *a;

		while ((a = assoc_next(t, NULL)) != NULL) {
			assoc_remove(t, a);
			n++;
		}
		gw_unlock_worker(gw, i);
	}
	log_info("flushed %u associations", n);
	return n;
}

static int gw_setup_fds(struct gw *gw, char *err, size_t errlen)
{
	struct gw_priv *p = gw->priv;
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t mask;

	/* Blocked here, before any worker thread exists: they inherit the mask, and the
	 * signals all reach the signalfd of this thread. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	p->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	p->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->sigfd < 0 || p->timerfd < 0 || p->wakefd < 0 ||
	    timerfd_settime(p->timerfd, 0, &its, NULL) < 0) {
		snprintf(err, errlen, "signalfd/timerfd/eventfd: %s", strerror(errno));
		return -1;
	}
	if (gw_watch(gw, p->sigfd, EPOLLIN, gw_on_signal, NULL) < 0 ||
	    gw_watch(gw, p->timerfd, EPOLLIN, gw_on_timer, NULL) < 0 ||
	    gw_watch(gw, p->wakefd, EPOLLIN, gw_on_wake, NULL) < 0) {
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
	unsigned ninit = 0;
	int rc = 1;

	if (!p) {
		log_err("out of memory");
		return 1;
	}
	gw.priv = p;
	p->epfd = p->sigfd = p->timerfd = p->wakefd = -1;
	gw.started_ms = now_monotonic_ms();

	gw.conf = malloc(sizeof(*gw.conf));
	if (!gw.conf || conf_load_file(opts->conf_path, gw.conf, err, sizeof(err)) < 0) {
		log_err("%s", gw.conf ? err : "out of memory");
		goto out;
	}
	gw.nworkers = steer_workers(gw.conf);
	gw.workers = calloc(gw.nworkers, sizeof(*gw.workers));
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!gw.workers || p->epfd < 0) {
		log_err("gw_main: %s", strerror(errno));
		goto out;
	}
	if (control_open(&gw, opts->ctl_path) < 0)
		goto out;
	for (; ninit < gw.nworkers; ninit++) {
		err[0] = '\0';
		if (worker_init(&gw.workers[ninit], &gw, ninit, err, sizeof(err)) < 0) {
			ninit++; /* partly set up: freed below */
			log_err("%s", err);
			goto out_ctl;
		}
	}
	if (gw_setup_fds(&gw, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out_ctl;
	}
	mode = gw_ingest_mode(gw.conf, &why);
	gw.relay_ingest = (uint8_t)mode;
	if (gw_ingest_apply(&gw, mode, gw.conf, err, sizeof(err)) < 0) {
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
		goto out_nft;
	}
	for (unsigned i = 0; i < gw.nworkers; i++) {
		int e = worker_start(&gw.workers[i]);

		if (e) {
			log_err("worker %u: pthread_create: %s", i, strerror(-e));
			goto out_workers;
		}
	}
	if (gw.nworkers > 1) {
		char cpus[64] = "";
		size_t off = 0;

		for (unsigned i = 0; i < gw.nworkers && off < sizeof(cpus); i++)
			off += (size_t)snprintf(cpus + off, sizeof(cpus) - off, "%s%d",
						i ? "," : "", gw.workers[i].cpu);
		log_info("sctp-udp-gw %s started: UDP port %u, queues %u-%u (%s), %u workers "
			 "(on CPUs %s), CRC32c %s, up to %u associations", PACKAGE_VERSION,
			 gw.conf->udp_port, gw.conf->queue_num,
			 gw.conf->queue_num + gw.nworkers - 1, nft_queue_kind_name(gw.queue_kind),
			 gw.nworkers, cpus, crc32c_impl_name(), gw.conf->max_assoc);
	}
	else
		log_info("sctp-udp-gw %s started: UDP port %u, queue %u (%s), CRC32c %s, "
			 "up to %u associations", PACKAGE_VERSION, gw.conf->udp_port,
			 gw.conf->queue_num, nft_queue_kind_name(gw.queue_kind),
			 crc32c_impl_name(), gw.conf->max_assoc);
	gw_log_modes(gw.conf, mode, why);
	if (sd_watchdog_enabled(0, &p->watchdog_usec) <= 0)
		p->watchdog_usec = 0;
	sd_notify(0, "READY=1");
	gw_status(&gw);

	gw_loop(&gw);
	rc = atomic_load(&gw.failed) ? 1 : 0; /* a worker's queue failed: systemd may restart us */

	sd_notify(0, "STOPPING=1");
out_workers:
	/* Rules first: nothing more is queued to workers that are about to stop. */
	if (nft_remove(err, sizeof(err)) < 0) {
		log_err("%s", err);
		rc = 1;
	}
	for (unsigned i = 0; i < gw.nworkers; i++)
		worker_stop(&gw.workers[i]);
	{
		struct gw_stats s;
		uint32_t count, cap;

		gw_stats_total(&gw, &s, &count, &cap);
		log_info("stopped: %llu packets out, %llu in, %u associations dropped",
			 (unsigned long long)s.out_pkts, (unsigned long long)s.in_pkts, count);
	}
	goto out_ctl;
out_nft:
	if (nft_remove(err, sizeof(err)) < 0)
		log_err("%s", err);
out_ctl:
	control_close(&gw);
out:
	for (unsigned i = 0; i < ninit; i++)
		worker_free(&gw.workers[i]);
	free(gw.workers);
	if (p->sigfd >= 0)
		close(p->sigfd);
	if (p->timerfd >= 0)
		close(p->timerfd);
	if (p->wakefd >= 0)
		close(p->wakefd);
	if (p->epfd >= 0)
		close(p->epfd);
	free(gw.conf);
	free(p);
	return rc;
}
