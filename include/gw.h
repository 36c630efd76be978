/* gw.h - the daemon: its state and the event loop services the modules share. */
#ifndef SCTPGW_GW_H
#define SCTPGW_GW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "assoc.h"
#include "conf.h"
#include "nft.h"
#include "stats.h"

struct gw;
struct privs_target;
typedef void (*gw_fd_cb)(struct gw *gw, int fd, uint32_t events, void *arg);

struct gw_opts {
	const char *conf_path;
	const char *ctl_path;
	bool foreground;
	bool debug;
	const struct privs_target *privs; /* -u / -g: who to become after setup; NULL: stay */
};

struct gw_worker;

struct gw {
	struct gw_opts opts;
	struct gw_conf *conf;       /* the live configuration */
	struct gw_worker *workers;  /* one per queue; each with its table and counters */
	unsigned nworkers;
	enum nft_queue_kind queue_kind;
	uint8_t relay_ingest;       /* in use: CONF_INGEST_RAW / _QUEUE; _AUTO: no relay rule */
	uint64_t started_ms;
	bool quit;
	atomic_bool failed;         /* a worker asked to stop because its queue failed */
	bool reload_pending;
	struct gw_priv *priv;       /* sockets, epoll, timers: private to gw.c */
};

/* Run the daemon until SIGTERM / SIGINT; returns the exit status. */
int gw_main(const struct gw_opts *opts);

/* Watch fd for events (EPOLLIN...) and call cb. 0 or -1 with errno. */
int gw_watch(struct gw *gw, int fd, uint32_t events, gw_fd_cb cb, void *arg);
void gw_unwatch(struct gw *gw, int fd);
/* Parse the config file again; swap it in only if valid, keeping associations.
 * 0, or -1 with err set ("file:line: message"). */
int gw_reload(struct gw *gw, char *err, size_t errlen);
/* Remove every association. Returns how many. */
unsigned gw_flush(struct gw *gw);

/* From a worker thread: the daemon must stop (its queue failed). */
void gw_request_stop(struct gw *gw);
/* Worker i's table, with its lock held until gw_unlock_worker. */
struct assoc_table *gw_lock_worker(struct gw *gw, unsigned i);
void gw_unlock_worker(struct gw *gw, unsigned i);
/* The worker whose table hands out this association id. */
unsigned gw_worker_of(const struct gw *gw, uint32_t assoc_id);
/* Every worker's counters added up, and the associations in use and possible. */
void gw_stats_total(struct gw *gw, struct gw_stats *out, uint32_t *count, uint32_t *capacity);

#endif
