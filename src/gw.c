/* gw.c - the daemon's life: new, start, notify, loop, stop; the control thread's
 * signals and timer; reload; and what the control socket may read or change of the
 * daemon (its struct control_ops).
 *
 * Order matters. The control socket comes first (it refuses a second instance), then
 * the workers' UDP port (a clear error if it is busy), raw sockets and queues, and only
 * then the nftables rules, so no packet is queued before a socket reads the queue.
 * Privileges are dropped before the worker threads start (capabilities are per
 * thread). On the way out the rules go first, for the same reason.
 *
 * Threads: this one runs the event loop (loop.c: the control socket, signals, the timer
 * for expiry and the watchdog) and reloads; each worker (worker.c) runs its own data
 * path. Whatever the control thread reads or changes of a worker, it does with that
 * worker's lock held. */
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
#include "compiler.h"
#include "control.h"
#include "crc32c.h"
#include "ctlreply.h"
#include "gw.h"
#include "ingest.h"
#include "log.h"
#include "loop.h"
#include "nft.h"
#include "privs.h"
#include "steer.h"
#include "worker.h"

struct gw {
	struct gw_opts opts;
	struct gw_conf *conf;      /* the live configuration */
	struct worker_group group; /* one worker per queue; each with its table and counters */
	unsigned ninit;            /* workers set up so far: freed at the end */
	struct loop *loop;
	int sigfd, timerfd;
	enum nft_queue_kind queue_kind;
	uint8_t relay_ingest; /* in use: CONF_INGEST_RAW / _QUEUE; _AUTO: no relay rule */
	bool rules_installed; /* removed on the way out */
	bool running;         /* set up: the workers start (or started) */
	uint64_t started_ms;
	uint64_t watchdog_usec;
};

/* Worker i's table, with its lock held until gw_unlock_table. */
static struct assoc_table *gw_lock_table(void *ctx, unsigned i)
{
	struct gw *gw = ctx;

	worker_lock(&gw->group.workers[i]);
	return gw->group.workers[i].tab;
}

static void gw_unlock_table(void *ctx, unsigned i)
{
	struct gw *gw = ctx;

	worker_unlock(&gw->group.workers[i]);
}

static unsigned gw_ntables(void *ctx)
{
	const struct gw *gw = ctx;

	return gw->group.n;
}

/* The worker whose table hands out this association id. */
static unsigned gw_table_of(void *ctx, uint32_t assoc_id)
{
	const struct gw *gw = ctx;

	return steer_worker_of_id(gw->group.n, assoc_id);
}

/* Every worker's counters added up, and the associations in use and possible. */
static void gw_stats_total(struct gw *gw, struct gw_stats *out, uint32_t *count, uint32_t *capacity)
{
	memset(out, 0, sizeof(*out));
	*count = *capacity = 0;
	for (unsigned i = 0; i < gw->group.n; i++) {
		const struct gw_stats *s = &gw->group.workers[i].stats;
		const uint64_t *src = (const uint64_t *)s;
		uint64_t *dst = (uint64_t *)out;
		struct assoc_table *t = gw_lock_table(gw, i);

		/* every member is a uint64_t counter (or an array of them) */
		for (size_t k = 0; k < sizeof(*s) / sizeof(uint64_t); k++)
			dst[k] += src[k];
		*count += assoc_table_count(t);
		*capacity += assoc_table_capacity(t);
		gw_unlock_table(gw, i);
	}
}

static void gw_view(void *ctx, struct ctlreply_view *v)
{
	struct gw *gw = ctx;
	uint64_t now = now_monotonic_ms();
	uint32_t count, capacity;

	memset(v, 0, sizeof(*v));
	v->conf = gw->conf;
	gw_stats_total(gw, &v->stats, &count, &capacity);
	v->associations_active = count;
	v->associations_capacity = capacity;
	v->workers = gw->group.n;
	v->uptime_seconds = (now > gw->started_ms ? now - gw->started_ms : 0) / 1000;
	v->queue_mechanism = nft_queue_kind_name(gw->queue_kind);
	v->relay_ingest = gw->relay_ingest;
}

static const struct gw_conf *gw_conf(void *ctx)
{
	const struct gw *gw = ctx;

	return gw->conf;
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

	if (gw->group.n > 1)
		snprintf(workers, sizeof(workers), "; %u workers", gw->group.n);
	gw_stats_total(gw, &s, &count, &cap);
	sd_notifyf(0, "STATUS=%u associations; out %llu pkts, in %llu pkts; queue via %s%s", count,
		   (unsigned long long)s.out_pkts, (unsigned long long)s.in_pkts,
		   nft_queue_kind_name(gw->queue_kind), workers);
}

static void gw_on_timer(int fd, uint32_t events GW_UNUSED, void *arg)
{
	struct gw *gw = arg;
	struct assoc_timeouts to = gw_timeouts(gw->conf);
	uint64_t ticks, now = now_monotonic_ms();
	unsigned n = 0;

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("gw_on_timer: read");
	for (unsigned i = 0; i < gw->group.n; i++) {
		struct gw_worker *w = &gw->group.workers[i];

		worker_lock(w);
		n += worker_expire(w, &to, now);
		worker_send_keepalives(w, now);
		worker_refresh_queue_stats(w);
		worker_unlock(w);
	}
	if (n)
		log_debug("expired %u associations", n);
	gw_status(gw);
	if (gw->watchdog_usec)
		sd_notify(0, "WATCHDOG=1");
}

static int gw_reload(struct gw *gw, char *err, size_t errlen);

static void gw_on_signal(int fd, uint32_t events GW_UNUSED, void *arg)
{
	struct gw *gw = arg;
	struct signalfd_siginfo si;
	bool reload = false;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: stopping", si.ssi_signo);
			loop_quit(gw->loop);
			break;
		case SIGHUP:
			reload = true; /* once for however many arrived */
			break;
		}
	}
	if (reload) {
		char err[CONF_ERR_LEN + 64];

		gw_reload(gw, err, sizeof(err));
	}
}

/* A worker's queue failed (worker_group_request_stop). */
static void gw_on_stop_request(int fd, uint32_t events GW_UNUSED, void *arg)
{
	struct gw *gw = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		loop_quit(gw->loop);
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
			 "socket: %s",
			 c->nrelay, why);
	else if (mode == CONF_INGEST_QUEUE)
		log_info("relay: %u rule(s); native SCTP to the relay ports is taken in the input "
			 "hook: %s",
			 c->nrelay, why);
}

/* Open or close every worker's raw ingest sockets so that they are open exactly in raw
 * mode, filtered for conf. */
static int gw_ingest_apply(struct gw *gw, enum conf_relay_ingest mode, const struct gw_conf *conf,
			   char *err, size_t errlen)
{
	int rc = 0;

	for (unsigned i = 0; i < gw->group.n && !rc; i++) {
		struct gw_worker *w = &gw->group.workers[i];

		worker_lock(w);
		rc = worker_ingest_apply(w, mode == CONF_INGEST_RAW, conf, err, errlen);
		worker_unlock(w);
	}
	return rc;
}

/* Changes that need sockets or memory re-created; refused on reload for now. */
static const char *gw_reload_blocker(const struct gw_conf *old, const struct gw_conf *next)
{
	if (old->udp_port != next->udp_port)
		return "udp-port";
	if (old->queue_num != next->queue_num || old->queue_count != next->queue_count)
		return "queue";
	if (old->queue_length != next->queue_length)
		return "queue-length";
	if (old->mark != next->mark)
		return "mark";
	if (old->max_assoc != next->max_assoc)
		return "max-associations";
	return NULL;
}

/* Hand every worker the next configuration; returns the associations they keep. */
static uint32_t gw_workers_set_conf(struct gw *gw, const struct gw_conf *next, char *err,
				    size_t errlen)
{
	uint32_t count = 0;

	for (unsigned i = 0; i < gw->group.n; i++) {
		struct gw_worker *w = &gw->group.workers[i];

		worker_lock(w);
		if (worker_set_conf(w, next, err, errlen) < 0)
			log_warnx("reload: worker %u: %s", i, err);
		if (next->queue_bypass != gw->conf->queue_bypass &&
		    worker_set_fail_open(w, next->queue_bypass) < 0)
			log_warnx("reload: worker %u: queue fail-open not changed", i);
		memset(&w->stats.rule_hits, 0, sizeof(w->stats.rule_hits));
		count += assoc_table_count(w->tab);
		worker_unlock(w);
	}
	return count;
}

/* Parse the config file again; swap it in only if valid, keeping associations.
 * 0, or -1 with err set ("file:line: message"). */
static int gw_reload(struct gw *gw, char *err, size_t errlen)
{
	struct gw_conf *next = malloc(sizeof(*next));
	enum conf_relay_ingest mode, old_mode = (enum conf_relay_ingest)gw->relay_ingest;
	enum nft_queue_kind kind;
	const char *blocker, *why;
	uint32_t count;

	if (!next) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	err[0] = '\0';
	sd_notify(0, "RELOADING=1");
	if (conf_load_file(gw->opts.conf_path, next, err, errlen) < 0)
		goto fail;
	blocker = gw_reload_blocker(gw->conf, next);
	if (blocker) {
		snprintf(err, errlen, "%s: changing \"%s\" needs a restart; configuration kept",
			 gw->opts.conf_path, blocker);
		goto fail;
	}
	mode = gw_ingest_mode(next, &why);
	/* Raw sockets open before the input chain goes, close only after it is there: no
	 * moment without one or the other, when a kernel SCTP stack could answer. */
	if (mode == CONF_INGEST_RAW && gw_ingest_apply(gw, mode, next, err, errlen) < 0)
		goto fail_ingest;
	if (nft_install(next, mode == CONF_INGEST_QUEUE, &kind, err, errlen) < 0)
		goto fail_ingest;
	if (mode != CONF_INGEST_RAW && gw_ingest_apply(gw, mode, next, err, errlen) < 0)
		log_warnx("reload: closing the raw SCTP sockets: %s", err);
	if (mode != old_mode || next->host_mode != gw->conf->host_mode)
		gw_log_modes(next, mode, why);
	gw->relay_ingest = (uint8_t)mode;
	gw->queue_kind = kind;
	count = gw_workers_set_conf(gw, next, err, errlen);
	free(gw->conf);
	gw->conf = next;
	log_info("configuration reloaded from %s; %u associations kept", gw->opts.conf_path, count);
	sd_notify(0, "READY=1");
	return 0;
fail_ingest : {
	char err2[256] = "";

	if (gw_ingest_apply(gw, old_mode, gw->conf, err2, sizeof(err2)) < 0)
		log_warnx("reload: %s", err2);
}
fail:
	log_warnx("reload failed, keeping the running configuration: %s", err);
	sd_notify(0, "READY=1");
	free(next);
	return -1;
}

static int gw_ctl_reload(void *ctx, char *err, size_t errlen)
{
	return gw_reload(ctx, err, errlen);
}

/* Remove every association. Returns how many. */
static unsigned gw_flush(void *ctx)
{
	struct gw *gw = ctx;
	unsigned n = 0;

	for (unsigned i = 0; i < gw->group.n; i++) {
		struct assoc_table *t = gw_lock_table(gw, i);
		struct assoc *a;

		while ((a = assoc_next(t, NULL)) != NULL) {
			assoc_remove(t, a);
			n++;
		}
		gw_unlock_table(gw, i);
	}
	log_info("flushed %u associations", n);
	return n;
}

static int gw_set_remote_port(void *ctx, uint32_t assoc_id, const struct gw_addr *addr,
			      uint16_t udp_port)
{
	struct gw *gw = ctx;
	char abuf[GW_ADDRSTRLEN];
	bool found = !assoc_id;
	int n = 0;

	addr_format(addr, abuf, sizeof(abuf));
	for (unsigned w = 0; w < gw->group.n; w++) {
		struct assoc_table *t;

		if (assoc_id && w != gw_table_of(gw, assoc_id))
			continue;
		t = gw_lock_table(gw, w);
		for (struct assoc *a = assoc_next(t, NULL); a; a = assoc_next(t, a)) {
			struct assoc_path *p;

			if (assoc_id && a->id != assoc_id)
				continue;
			found = true;
			p = assoc_path_find(a, addr);
			if (!p)
				continue;
			log_info("association %u: remote %s UDP port set to %u (was %u) by control "
				 "request",
				 a->id, abuf, udp_port, p->udp_port);
			p->udp_port = udp_port;
			n++;
		}
		gw_unlock_table(gw, w);
	}
	return found ? n : -ENOENT;
}

/* The control thread's signals, its timer and the workers' stop requests. */
static int gw_setup_fds(struct gw *gw, char *err, size_t errlen)
{
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
	gw->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	gw->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (gw->sigfd < 0 || gw->timerfd < 0 || timerfd_settime(gw->timerfd, 0, &its, NULL) < 0) {
		snprintf(err, errlen, "signalfd/timerfd: %s", strerror(errno));
		return -1;
	}
	if (loop_watch(gw->loop, gw->sigfd, EPOLLIN, gw_on_signal, gw) < 0 ||
	    loop_watch(gw->loop, gw->timerfd, EPOLLIN, gw_on_timer, gw) < 0 ||
	    loop_watch(gw->loop, gw->group.request_stop_fd, EPOLLIN, gw_on_stop_request, gw) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
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

static void gw_free(struct gw *gw);

/* The daemon's memory, configuration and event loop; nothing opened to the outside.
 * NULL (logged) on failure. */
static struct gw *gw_new(const struct gw_opts *opts)
{
	struct gw *gw = calloc(1, sizeof(*gw));
	char err[CONF_ERR_LEN + 128];

	if (!gw) {
		log_err("out of memory");
		return NULL;
	}
	gw->opts = *opts;
	gw->sigfd = gw->timerfd = gw->group.request_stop_fd = -1;
	gw->started_ms = now_monotonic_ms();
	gw->conf = malloc(sizeof(*gw->conf));
	if (!gw->conf || conf_load_file(opts->conf_path, gw->conf, err, sizeof(err)) < 0) {
		log_err("%s", gw->conf ? err : "out of memory");
		goto fail;
	}
	gw->group.n = steer_workers(gw->conf);
	gw->group.workers = calloc(gw->group.n, sizeof(*gw->group.workers));
	gw->group.request_stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	gw->loop = loop_new();
	if (!gw->group.workers || gw->group.request_stop_fd < 0 || !gw->loop ||
	    worker_group_init(&gw->group) < 0) {
		log_err("gw_new: %s", strerror(errno));
		goto fail;
	}
	return gw;
fail:
	gw_free(gw);
	return NULL;
}

static void gw_log_started(const struct gw *gw)
{
	const struct gw_conf *c = gw->conf;
	char cpus[64] = "";
	size_t off = 0;

	if (gw->group.n == 1) {
		log_info("sctp-udp-gw %s started: UDP port %u, queue %u (%s), CRC32c %s, "
			 "up to %u associations",
			 PACKAGE_VERSION, c->udp_port, c->queue_num,
			 nft_queue_kind_name(gw->queue_kind), crc32c_impl_name(), c->max_assoc);
		return;
	}
	for (unsigned i = 0; i < gw->group.n && off < sizeof(cpus); i++)
		off += (size_t)snprintf(cpus + off, sizeof(cpus) - off, "%s%d", i ? "," : "",
					gw->group.workers[i].cpu);
	log_info("sctp-udp-gw %s started: UDP port %u, queues %u-%u (%s), %u workers "
		 "(on CPUs %s), CRC32c %s, up to %u associations",
		 PACKAGE_VERSION, c->udp_port, c->queue_num, c->queue_num + gw->group.n - 1,
		 nft_queue_kind_name(gw->queue_kind), gw->group.n, cpus, crc32c_impl_name(),
		 c->max_assoc);
}

static int gw_start_workers(struct gw *gw)
{
	gw->running = true;
	for (unsigned i = 0; i < gw->group.n; i++) {
		int e = worker_start(&gw->group.workers[i]);

		if (e) {
			log_err("worker %u: pthread_create: %s", i, strerror(-e));
			return -1;
		}
	}
	return 0;
}

/* Open everything in the order the top of this file gives, then start the workers.
 * 0, or -1 (logged); gw_stop and gw_free undo what was done. */
static int gw_start(struct gw *gw)
{
	const struct control_ops ops = {
		.ctx = gw,
		.reload = gw_ctl_reload,
		.flush = gw_flush,
		.set_remote_port = gw_set_remote_port,
		.conf = gw_conf,
		.view = gw_view,
		.ntables = gw_ntables,
		.lock_table = gw_lock_table,
		.unlock_table = gw_unlock_table,
		.table_of = gw_table_of,
	};
	char err[CONF_ERR_LEN + 128];
	enum conf_relay_ingest mode;
	const char *why;

	if (control_open(gw->loop, &ops, gw->opts.ctl_path, gw->opts.privs) < 0)
		return -1;
	for (; gw->ninit < gw->group.n; gw->ninit++) {
		err[0] = '\0';
		if (worker_init(&gw->group.workers[gw->ninit], &gw->group, gw->ninit, gw->conf, err,
				sizeof(err)) < 0) {
			gw->ninit++; /* partly set up: freed by gw_free */
			goto fail;
		}
	}
	if (gw_setup_fds(gw, err, sizeof(err)) < 0)
		goto fail;
	mode = gw_ingest_mode(gw->conf, &why);
	gw->relay_ingest = (uint8_t)mode;
	if (gw_ingest_apply(gw, mode, gw->conf, err, sizeof(err)) < 0 ||
	    nft_install(gw->conf, mode == CONF_INGEST_QUEUE, &gw->queue_kind, err, sizeof(err)) < 0)
		goto fail;
	gw->rules_installed = true;
	if (gw->opts.privs && gw_drop_privileges(gw, err, sizeof(err)) < 0)
		goto fail;
	if (gw_start_workers(gw) < 0)
		return -1;
	gw_log_started(gw);
	gw_log_modes(gw->conf, mode, why);
	return 0;
fail:
	log_err("%s", err);
	return -1;
}

/* Really ready: every worker reads its queue and the rules are in. */
static void gw_notify_ready(struct gw *gw)
{
	if (sd_watchdog_enabled(0, &gw->watchdog_usec) <= 0)
		gw->watchdog_usec = 0;
	sd_notify(0, "READY=1");
	gw_status(gw);
}

/* Rules first: nothing more is queued to workers that are about to stop. 0, or -1 when
 * the rules could not be removed. */
static int gw_stop(struct gw *gw)
{
	char err[CONF_ERR_LEN + 128];
	int rc = 0;

	if (gw->rules_installed && nft_remove(err, sizeof(err)) < 0) {
		log_err("%s", err);
		rc = -1;
	}
	gw->rules_installed = false;
	for (unsigned i = 0; i < gw->group.n; i++)
		worker_stop(&gw->group.workers[i]);
	if (gw->running) {
		struct gw_stats s;
		uint32_t count, cap;

		gw_stats_total(gw, &s, &count, &cap);
		log_info("stopped: %llu packets out, %llu in, %u associations dropped",
			 (unsigned long long)s.out_pkts, (unsigned long long)s.in_pkts, count);
	}
	return rc;
}

static void gw_free(struct gw *gw)
{
	control_close();
	for (unsigned i = 0; i < gw->ninit; i++)
		worker_free(&gw->group.workers[i]);
	free(gw->group.workers);
	if (gw->sigfd >= 0)
		close(gw->sigfd);
	if (gw->timerfd >= 0)
		close(gw->timerfd);
	if (gw->group.request_stop_fd >= 0)
		close(gw->group.request_stop_fd);
	loop_free(gw->loop);
	free(gw->conf);
	free(gw);
}

int gw_main(const struct gw_opts *opts)
{
	struct gw *gw = gw_new(opts);
	int rc = 1;

	if (!gw)
		return 1;
	if (gw_start(gw) == 0) {
		gw_notify_ready(gw);
		/* A worker's queue failed, or the loop did: exit 1 so systemd may restart us. */
		rc = loop_run(gw->loop) < 0 || atomic_load(&gw->group.failed) ? 1 : 0;
		sd_notify(0, "STOPPING=1");
	}
	if (gw_stop(gw) < 0)
		rc = 1;
	gw_free(gw);
	return rc;
}
