/* control.c - the daemon side of the control socket (protocol in ctlproto.h).
 *
 * Everything is non-blocking and driven by the daemon's epoll loop: a client that is
 * slow to send its request or to read its reply costs a slot, never loop time. Each
 * client has a deadline (2 s to send the request, 5 s without progress while we write),
 * enforced by one timerfd armed for the earliest deadline. Large replies (one record per
 * association) are produced in slices as the socket drains, so memory stays bounded.
 *
 * Who may do what: the socket's mode (0660) decides who can connect; anyone who can may
 * read (show ...). Changing something (reload, flush, set) also takes root, the daemon's
 * own user or membership of the socket's group, judged from the credentials the kernel
 * recorded at connect(): access granted otherwise (an ACL, CAP_DAC_OVERRIDE) stays
 * read-only. */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "compiler.h"
#include "control.h"
#include "ctlcheck.h"
#include "ctlproto.h"
#include "ctlreply.h"
#include "log.h"
#include "loop.h"
#include "privs.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define CTL_MAX_CLIENTS 16
#define CTL_BACKLOG 16
#define CTL_REQUEST_TIMEOUT_MS 2000
#define CTL_WRITE_STALL_MS 5000
/* Association records are generated until this much is waiting to be sent. */
#define CTL_OUT_LOW_WATER 65536

struct ctl_client {
	int fd;
	bool writing;
	bool may_change; /* root, our user or the socket's group when it connected */
	struct ucred cred;
	uint64_t deadline_ms;
	size_t inlen;
	union {
		struct ctl_hdr hdr;
		uint8_t bytes[sizeof(struct ctl_hdr) + CTLCHECK_MAX_REQUEST];
	} in;
	uint8_t *out;
	size_t outlen, outoff, outcap;
	/* SHOW_ASSOC for all: cursor into the table, records sent so far */
	bool streaming;
	struct assoc *cursor;
	unsigned cursor_worker;
	uint32_t nsent;
};

/* The daemon has one control socket; its state lives here, the daemon's behind ops. */
static struct ctl_state {
	struct loop *loop;
	struct control_ops ops;
	const struct privs_target *privs;
	int lfd, tfd;
	bool bound;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t gid; /* the socket's group: may change things */
	char group[PRIVS_NAME_LEN];
	uint64_t refused; /* state-changing requests refused */
	struct ratelimit rl_refused;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
} ctl = { .lfd = -1, .tfd = -1, .rl_refused = RATELIMIT_INIT(10000, 5) };

static void ctl_arm_timer(void)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint64_t next = 0;

	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = ctl.clients[i];

		if (c && (!next || c->deadline_ms < next))
			next = c->deadline_ms;
	}
	if (next) {
		/* now_monotonic_ms() reads CLOCK_MONOTONIC, so an absolute time works. */
		its.it_value.tv_sec = (time_t)(next / 1000);
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000L;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(ctl.tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_warn("ctl_arm_timer: timerfd_settime");
}

static void ctl_drop(struct ctl_client *c)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (ctl.clients[i] == c)
			ctl.clients[i] = NULL;
	}
	loop_unwatch(ctl.loop, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Room for n more bytes in the output buffer. */
static void *ctl_out_reserve(struct ctl_client *c, size_t n)
{
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outcap - c->outlen < n) {
		size_t cap = c->outcap ? c->outcap : 4096;
		uint8_t *p;

		while (cap - c->outlen < n)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return NULL;
		c->out = p;
		c->outcap = cap;
	}
	return c->out + c->outlen;
}

static int ctl_put(struct ctl_client *c, uint16_t type, int32_t status, const void *payload,
		   size_t len)
{
	struct ctl_hdr h = {
		.magic = CTL_MAGIC,
		.version = CTL_VERSION,
		.type = type,
		.len = (uint32_t)len,
		.status = status,
	};
	uint8_t *p = ctl_out_reserve(c, sizeof(h) + len);

	if (!p)
		return -ENOMEM;
	memcpy(p, &h, sizeof(h));
	if (len)
		memcpy(p + sizeof(h), payload, len);
	c->outlen += sizeof(h) + len;
	return 0;
}

static int ctl_put_done(struct ctl_client *c, uint32_t count)
{
	struct ctl_done d = { .count = count };

	return ctl_put(c, CTL_REP_DONE, 0, &d, sizeof(d));
}

static int ctl_put_error(struct ctl_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ctl_put_error(struct ctl_client *c, int err, const char *fmt, ...)
{
	char msg[CONF_ERR_LEN + 256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	return ctl_put(c, CTL_REP_ERROR, -err, msg, (size_t)n);
}

static int ctl_put_assoc(struct ctl_client *c, const struct assoc *a, uint64_t now)
{
	struct ctl_assoc_rec r;

	ctlreply_assoc(&r, a, now);
	return ctl_put(c, CTL_REP_ASSOC, 0, &r, sizeof(r));
}

/* Append association records until enough is buffered or the table is done; the final
 * DONE goes out with the last slice. The cursor is a slot pointer, which stays valid
 * across loop iterations even if its association is removed meanwhile. */
static int ctl_stream_assoc(struct ctl_client *c)
{
	uint64_t now = now_monotonic_ms();
	int err = 0;

	while (c->cursor_worker < ctl.ops.ntables(ctl.ops.ctx)) {
		struct assoc_table *t = ctl.ops.lock_table(ctl.ops.ctx, c->cursor_worker);

		while (c->outlen - c->outoff < CTL_OUT_LOW_WATER) {
			struct assoc *a = assoc_next(t, c->cursor);

			if (!a)
				break;
			err = ctl_put_assoc(c, a, now);
			if (err)
				break;
			c->cursor = a;
			c->nsent++;
		}
		ctl.ops.unlock_table(ctl.ops.ctx, c->cursor_worker);
		if (err || c->outlen - c->outoff >= CTL_OUT_LOW_WATER)
			return err; /* more when the client has read this slice */
		c->cursor_worker++;
		c->cursor = NULL;
	}
	c->streaming = false;
	return ctl_put_done(c, c->nsent);
}

/* SHOW_ASSOC: one association, or all of them in slices (ctl_stream_assoc). */
static int ctl_show_assoc(struct ctl_client *c, const struct ctl_assoc_filter *f)
{
	struct assoc *a;
	unsigned t;
	int err = 0;

	if (!f->id) {
		c->streaming = true;
		c->cursor = NULL;
		c->cursor_worker = 0;
		return ctl_stream_assoc(c);
	}
	t = ctl.ops.table_of(ctl.ops.ctx, f->id);
	a = assoc_by_id(ctl.ops.lock_table(ctl.ops.ctx, t), f->id);
	if (a)
		err = ctl_put_assoc(c, a, now_monotonic_ms());
	ctl.ops.unlock_table(ctl.ops.ctx, t);
	if (!a)
		return ctl_put_error(c, ENOENT, "no association %u", f->id);
	return err ? err : ctl_put_done(c, 1);
}

static int ctl_show_stats(struct ctl_client *c)
{
	struct ctlreply_view v;
	struct ctl_stat_rec recs[CTLREPLY_NSTATS];
	size_t n;
	int err = 0;

	ctl.ops.view(ctl.ops.ctx, &v);
	v.control_refused = ctl.refused;
	n = ctlreply_stats(&v, recs);
	for (size_t i = 0; i < n && !err; i++)
		err = ctl_put(c, CTL_REP_STAT, 0, &recs[i], sizeof(recs[i]));
	return err ? err : ctl_put_done(c, (uint32_t)n);
}

static int ctl_show_config(struct ctl_client *c)
{
	size_t len;
	char *text = ctlreply_config(ctl.ops.conf(ctl.ops.ctx), &len);
	int err = 0;

	if (!text)
		return -ENOMEM;
	/* A configuration may exceed one message: the client concatenates. */
	for (size_t off = 0; off < len && !err; off += CTL_MAX_PAYLOAD) {
		size_t n = len - off < CTL_MAX_PAYLOAD ? len - off : CTL_MAX_PAYLOAD;

		err = ctl_put(c, CTL_REP_CONFIG, 0, text + off, n);
	}
	free(text);
	return err ? err : ctl_put_done(c, 0);
}

/* What the daemon applies: the queueing mechanism, then every rule with the
 * associations created through it. */
static int ctl_show_rules(struct ctl_client *c)
{
	struct ctlreply_view v;
	struct ctl_rules_hdr h;
	struct ctl_rule_rec r;
	uint32_t n = 0;
	int err;

	ctl.ops.view(ctl.ops.ctx, &v);
	ctlreply_rules_hdr(&v, &h);
	err = ctl_put(c, CTL_REP_RULES_HDR, 0, &h, sizeof(h));
	for (; !err && ctlreply_rule(&v, n, &r); n++)
		err = ctl_put(c, CTL_REP_RULE, 0, &r, sizeof(r));
	return err ? err : ctl_put_done(c, n);
}

static int ctl_set_port(struct ctl_client *c, const struct ctl_set_port *sp)
{
	struct gw_addr addr;
	char abuf[GW_ADDRSTRLEN];
	int n;

	/* ctlcheck_request() vouched for the family and the port. */
	ctl_addr_to_gw_addr(&addr, &sp->addr);
	n = ctl.ops.set_remote_port(ctl.ops.ctx, sp->assoc_id, &addr, sp->udp_port);
	if (n == -ENOENT)
		return ctl_put_error(c, ENOENT, "no association %u", sp->assoc_id);
	if (n > 0)
		return ctl_put_done(c, (uint32_t)n);
	addr_format(&addr, abuf, sizeof(abuf));
	if (sp->assoc_id)
		return ctl_put_error(c, ENOENT, "association %u has no remote address %s",
				     sp->assoc_id, abuf);
	return ctl_put_error(c, ENOENT, "no association has remote address %s", abuf);
}

/* A state-changing request from a client that may not: counted, logged within a rate
 * limit, answered EPERM. */
static int ctl_refuse_change(struct ctl_client *c, uint16_t type)
{
	uint64_t supp = 0;

	ctl.refused++;
	if (ratelimit_ok(&ctl.rl_refused, now_monotonic_ms(), &supp))
		log_warnx("control: %s refused to uid %u gid %u (pid %d): not root, the daemon's "
			  "user or group %s (%llu refused so far%s)",
			  ctlcheck_request_name(type), (unsigned)c->cred.uid, (unsigned)c->cred.gid,
			  (int)c->cred.pid, ctl.group, (unsigned long long)ctl.refused,
			  supp ? ", some not logged" : "");
	return ctl_put_error(c, EPERM, "permission denied: %s needs root or group %s",
			     ctlcheck_request_name(type), ctl.group);
}

static int ctl_dispatch(struct ctl_client *c)
{
	const struct ctl_hdr *h = &c->in.hdr;
	const uint8_t *payload = c->in.bytes + sizeof(*h);
	char err[CONF_ERR_LEN + 128];

	if (!ctlcheck_read_only(h->type) && !c->may_change)
		return ctl_refuse_change(c, h->type);
	switch (h->type) {
	case CTL_REQ_SHOW_ASSOC: {
		struct ctl_assoc_filter f = { 0 };

		if (h->len)
			memcpy(&f, payload, sizeof(f));
		return ctl_show_assoc(c, &f);
	}
	case CTL_REQ_SHOW_STATS:
		return ctl_show_stats(c);
	case CTL_REQ_SHOW_CONFIG:
		return ctl_show_config(c);
	case CTL_REQ_SHOW_RULES:
		return ctl_show_rules(c);
	case CTL_REQ_RELOAD:
		log_info("reload requested over the control socket");
		if (ctl.ops.reload(ctl.ops.ctx, err, sizeof(err)) < 0)
			return ctl_put_error(c, EINVAL, "%s", err);
		return ctl_put_done(c, 0);
	case CTL_REQ_FLUSH:
		return ctl_put_done(c, ctl.ops.flush(ctl.ops.ctx));
	case CTL_REQ_SET_PORT: {
		struct ctl_set_port sp;

		memcpy(&sp, payload, sizeof(sp));
		return ctl_set_port(c, &sp);
	}
	}
	return ctl_put_error(c, EOPNOTSUPP, "unknown request type %u", h->type);
}

static void ctl_on_client(int fd GW_UNUSED, uint32_t events GW_UNUSED, void *arg);

/* Switch a client from reading to writing: watch for EPOLLOUT and try at once, since
 * small replies usually fit the socket buffer. */
static void ctl_start_reply(struct ctl_client *c)
{
	c->writing = true;
	c->deadline_ms = now_monotonic_ms() + CTL_WRITE_STALL_MS;
	loop_unwatch(ctl.loop, c->fd);
	if (loop_watch(ctl.loop, c->fd, EPOLLOUT, ctl_on_client, c) < 0) {
		log_warn("control: cannot watch client");
		ctl_drop(c);
		return;
	}
	ctl_on_client(c->fd, EPOLLOUT, c);
}

/* Discard what the client sent beyond its request: closing a unix socket with unread
 * data makes the peer's next read fail with ECONNRESET. Bounded, non-blocking. */
static void ctl_finish(struct ctl_client *c)
{
	uint8_t junk[4096];

	shutdown(c->fd, SHUT_WR);
	for (int i = 0; i < 4 && recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
		;
	ctl_drop(c);
}

static void ctl_write(struct ctl_client *c)
{
	for (;;) {
		ssize_t n;

		if (c->outoff == c->outlen) {
			if (!c->streaming) {
				ctl_finish(c);
				return;
			}
			if (ctl_stream_assoc(c) < 0) {
				log_warnx("control: out of memory while answering; client dropped");
				ctl_drop(c);
				return;
			}
			continue;
		}
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("control: client went away: %s", strerror(errno));
				ctl_drop(c);
			}
			return;
		}
		c->outoff += (size_t)n;
		c->deadline_ms = now_monotonic_ms() + CTL_WRITE_STALL_MS;
	}
}

/* Read what is there of the request; dispatch once it is complete. */
static void ctl_read(struct ctl_client *c)
{
	const struct ctl_hdr *h = &c->in.hdr;
	size_t want = sizeof(*h);
	char msg[128];
	long plen;
	int err;

	for (;;) {
		ssize_t n;

		if (c->inlen >= sizeof(*h)) {
			plen = ctlcheck_request_hdr(h, msg, sizeof(msg));
			if (plen < 0) {
				err = ctl_put_error(c, (int)-plen, "%s", msg);
				goto reply;
			}
			want = sizeof(*h) + (size_t)plen;
			if (c->inlen >= want) {
				err = ctlcheck_request(h, c->in.bytes + sizeof(*h), (size_t)plen,
						       msg, sizeof(msg));
				if (err < 0)
					err = ctl_put_error(c, -err, "%s", msg);
				else
					err = ctl_dispatch(c);
				goto reply;
			}
		}
		n = recv(c->fd, c->in.bytes + c->inlen, want - c->inlen, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("control: read from client: %s", strerror(errno));
				ctl_drop(c);
			}
			return;
		}
		if (n == 0) {
			log_debug("control: client closed before sending a whole request");
			ctl_drop(c);
			return;
		}
		c->inlen += (size_t)n;
	}
reply:
	if (err < 0) {
		log_warnx("control: out of memory while answering; client dropped");
		ctl_drop(c);
		return;
	}
	ctl_start_reply(c);
}

static void ctl_on_client(int fd GW_UNUSED, uint32_t events GW_UNUSED, void *arg)
{
	struct ctl_client *c = arg;

	/* Events are only hints: recv()/send() report errors and hang-ups themselves,
	 * after any data still queued has been read. */
	if (c->writing)
		ctl_write(c);
	else
		ctl_read(c);
	ctl_arm_timer();
}

/* Whether the peer had gid among its supplementary groups at connect(). The kernel
 * recorded them then (SO_PEERGROUPS, Linux 4.13): no race with /proc/PID reuse. */
static bool ctl_peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		if (errno != ERANGE || !(g = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
			goto out;
	}
	for (size_t i = 0; i < len / sizeof(*g) && !found; i++)
		found = g[i] == gid;
out:
	if (g != small)
		free(g);
	return found;
}

/* Who the client is, and whether it may change things; no credentials, no changes. */
static void ctl_identify(struct ctl_client *c)
{
	socklen_t len = sizeof(c->cred);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		log_warn("control: SO_PEERCRED");
		c->cred.uid = (uid_t)-1;
		c->cred.gid = (gid_t)-1;
		return;
	}
	c->may_change = c->cred.uid == 0 || c->cred.uid == geteuid() || c->cred.gid == ctl.gid ||
			ctl_peer_in_group(c->fd, ctl.gid);
	log_debug("control: client pid %d uid %u gid %u%s", (int)c->cred.pid, (unsigned)c->cred.uid,
		  (unsigned)c->cred.gid, c->may_change ? "" : ", read-only");
}

/* Tell a client we cannot serve why, rather than a bare close; a fresh socket's buffer
 * takes the few bytes without blocking. */
static void ctl_refuse(int fd, const char *why)
{
	struct {
		struct ctl_hdr h;
		char msg[64];
	} m = { .h = { .magic = CTL_MAGIC,
		       .version = CTL_VERSION,
		       .type = CTL_REP_ERROR,
		       .status = -EBUSY } };
	int n = snprintf(m.msg, sizeof(m.msg), "%s", why);

	m.h.len = (uint32_t)n;
	log_debug("control: %s; connection refused", why);
	if (send(fd, &m, sizeof(m.h) + (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control: refusing a client: %s", strerror(errno));
	close(fd);
}

static void ctl_on_listen(int fd, uint32_t events GW_UNUSED, void *arg GW_UNUSED)
{
	for (int round = 0; round < CTL_MAX_CLIENTS; round++) {
		struct ctl_client *c;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int slot = -1;

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("control: accept");
			break;
		}
		for (int i = 0; i < CTL_MAX_CLIENTS && slot < 0; i++) {
			if (!ctl.clients[i])
				slot = i;
		}
		c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			ctl_refuse(cfd, slot < 0 ? "too many control connections; try again"
						 : "out of memory");
			continue;
		}
		c->fd = cfd;
		ctl_identify(c);
		c->deadline_ms = now_monotonic_ms() + CTL_REQUEST_TIMEOUT_MS;
		if (loop_watch(ctl.loop, cfd, EPOLLIN, ctl_on_client, c) < 0) {
			log_warn("control: cannot watch client");
			close(cfd);
			free(c);
			continue;
		}
		ctl.clients[slot] = c;
	}
	ctl_arm_timer();
}

static void ctl_on_timer(int fd, uint32_t events GW_UNUSED, void *arg GW_UNUSED)
{
	uint64_t ticks, now = now_monotonic_ms();

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("control: timerfd read");
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = ctl.clients[i];

		if (c && c->deadline_ms <= now) {
			log_debug("control: client %s; dropped",
				  c->writing ? "stopped reading its reply"
					     : "sent no request in time");
			ctl_drop(c);
		}
	}
	ctl_arm_timer();
}

/* mkdir -p for the socket's directory; the last component gets mode 0750. *created says
 * whether that last one is new, hence ours to hand over. */
static int ctl_make_dir(const char *path, bool *created)
{
	char dir[sizeof(ctl.path)];
	char *slash;

	*created = false;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(dir, 0750) == 0)
		*created = true;
	else if (errno != EEXIST)
		goto fail;
	return 0;
fail:
	log_warn("control_open: cannot create directory %s", dir);
	return -1;
}

/* Remove a socket left by a daemon that died, but never one a live daemon answers on. */
static int ctl_clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("control_open: %s", sun->sun_path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control_open: %s exists and is not a socket", sun->sun_path);
		return -1;
	}
	/* Non-blocking: a live daemon with a full backlog answers EAGAIN, not a hang. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("control_open: socket");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (rc < 0 && errno == ECONNREFUSED) {
		close(fd);
		if (unlink(sun->sun_path) < 0 && errno != ENOENT) {
			log_warn("control_open: cannot remove stale socket %s", sun->sun_path);
			return -1;
		}
		log_info("removed stale control socket %s", sun->sun_path);
		return 0;
	}
	close(fd);
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		log_err("control socket %s is in use by another running instance", sun->sun_path);
		return -1;
	}
	log_warn("control_open: cannot probe %s", sun->sun_path);
	return -1;
}

/* With -u the socket, and its directory if we made it, belong to the daemon's user and
 * group: members reach it, and the daemon can still remove it at exit. A directory made
 * by someone else is left alone, only checked. The socket's group is the one allowed to
 * change things. */
static int ctl_set_owner(const char *path, bool dir_created)
{
	const struct privs_target *t = ctl.privs;
	char dir[sizeof(ctl.path)];
	const struct group *gr;
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (t && chown(path, t->uid, t->gid) < 0) {
		log_warn("control_open: chown %s", path);
		return -1;
	}
	if (t && slash && slash != dir) {
		if (dir_created && chown(dir, t->uid, t->gid) < 0) {
			log_warn("control_open: chown %s", dir);
			return -1;
		}
		if (!dir_created && stat(dir, &st) == 0 && st.st_uid != t->uid &&
		    !(st.st_mode & S_IXOTH) && !(st.st_gid == t->gid && (st.st_mode & S_IXGRP)))
			log_warnx("control_open: %s, made by someone else, does not let group %s "
				  "reach the control socket",
				  dir, t->group);
	}
	if (stat(path, &st) < 0) {
		log_warn("control_open: stat %s", path);
		return -1;
	}
	ctl.gid = st.st_gid;
	gr = getgrgid(ctl.gid);
	if (gr)
		snprintf(ctl.group, sizeof(ctl.group), "%s", gr->gr_name);
	else
		snprintf(ctl.group, sizeof(ctl.group), "%u", (unsigned)ctl.gid);
	return 0;
}

int control_open(struct loop *loop, const struct control_ops *ops, const char *path,
		 const struct privs_target *privs)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	bool dir_created;

	ctl.loop = loop;
	ctl.ops = *ops;
	ctl.privs = privs;
	if (len == 0 || len >= sizeof(sun.sun_path)) {
		log_err("control socket path %s is %s (at most %zu bytes)", path,
			len ? "too long" : "empty", sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, len + 1);
	if (ctl_make_dir(path, &dir_created) < 0 || ctl_clear_stale(&sun) < 0)
		return -1;

	ctl.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl.lfd < 0) {
		log_warn("control_open: socket");
		goto fail;
	}
	if (bind(ctl.lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_warn("control_open: bind %s", path);
		goto fail;
	}
	memcpy(ctl.path, path, len + 1);
	ctl.bound = true;
	if (chmod(path, 0660) < 0) {
		log_warn("control_open: chmod %s", path);
		goto fail;
	}
	if (ctl_set_owner(path, dir_created) < 0)
		goto fail;
	if (listen(ctl.lfd, CTL_BACKLOG) < 0) {
		log_warn("control_open: listen");
		goto fail;
	}
	ctl.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl.tfd < 0) {
		log_warn("control_open: timerfd_create");
		goto fail;
	}
	if (loop_watch(loop, ctl.lfd, EPOLLIN, ctl_on_listen, NULL) < 0 ||
	    loop_watch(loop, ctl.tfd, EPOLLIN, ctl_on_timer, NULL) < 0) {
		log_warn("control_open: epoll");
		goto fail;
	}
	log_debug("control socket %s ready", path);
	return 0;
fail:
	control_close();
	return -1;
}

void control_close(void)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (ctl.clients[i])
			ctl_drop(ctl.clients[i]);
	}
	if (ctl.tfd >= 0) {
		loop_unwatch(ctl.loop, ctl.tfd);
		close(ctl.tfd);
		ctl.tfd = -1;
	}
	if (ctl.lfd >= 0) {
		loop_unwatch(ctl.loop, ctl.lfd);
		close(ctl.lfd);
		ctl.lfd = -1;
	}
	/* Only a path we bound ourselves: never the socket of another instance. After -u
	 * a directory that is not ours may refuse; the next start clears the stale socket. */
	if (ctl.bound) {
		if (unlink(ctl.path) < 0 && errno != ENOENT)
			log_warn("control_close: cannot remove %s", ctl.path);
		ctl.bound = false;
	}
}
