/* worker.h - one data-path worker: its queue, its UDP, raw and ingest sockets, its own
 * association table and counters, and a thread running its epoll loop.
 *
 * With several workers (queue N-M) every association lives on exactly one of them:
 * outbound packets reach it through the nftables dispatch rules, inbound datagrams
 * through the reuseport steering program, both keyed by the SCTP ports (steer.h). A
 * worker holds its lock while it handles a wake-up (a batch of packets, never one
 * packet at a time); the control thread takes it to read or change the table. */
#ifndef SCTPGW_WORKER_H
#define SCTPGW_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "assoc.h"
#include "conf.h"
#include "ingest.h"
#include "inject.h"
#include "keepalive.h"
#include "log.h"
#include "stats.h"
#include "udp.h"
#include "xlate.h"

#define WORKER_RX_BATCH 32  /* datagrams per recvmmsg */
#define WORKER_OUT_BATCH 64 /* outbound datagrams per sendmmsg */
#define WORKER_HEADROOM 64  /* room to prepend an IPv4 / IPv6 header */
#define WORKER_DGRAM_CAP 65536

struct nfqueue;
struct gw_worker;

/* The workers of the daemon, as each of them sees its siblings; the control thread
 * watches request_stop_fd (an eventfd) for a worker asking the daemon to stop. */
struct worker_group {
	struct gw_worker *workers;
	unsigned n;
	int request_stop_fd;
	atomic_bool failed;   /* a worker asked to stop because its queue failed */
	struct ka_key ka_key; /* the keepalives' MAC secret, drawn at start (worker_group_init) */
};

/* Draw the group's secrets. 0, or -1 with errno when the kernel has no randomness. */
int worker_group_init(struct worker_group *g);

/* From a worker thread: the daemon must stop (its queue failed). */
void worker_group_request_stop(struct worker_group *g);

/* One outbound packet waiting for the batch's sendmmsg: its datagram, and what a
 * refused send (path MTU) needs to tell the internal host. */
struct worker_pending {
	struct assoc *assoc;
	struct gw_addr inner;
	const uint8_t *ip; /* the native packet, in the queue's buffer until the flush */
	size_t iplen;
	bool fragmented; /* an IPv6 packet reassembled from its source's fragments */
};

/* An ICMP error that reached this worker's socket for another worker's association
 * (the kernel picks a reuseport socket for errors by hash, without the steering
 * program): handed over after this worker's lock is released. */
#define WORKER_FOREIGN_MAX 8
#define WORKER_FOREIGN_QUOTE 1280
struct worker_foreign {
	unsigned owner;
	struct udp_err e;
	uint8_t quote[WORKER_FOREIGN_QUOTE];
};

struct gw_worker {
	struct worker_group *group;
	unsigned id;
	pthread_t thread;
	bool running;
	int cpu; /* pinned to this CPU; -1: not pinned */
	pthread_mutex_t lock;
	int epfd, stopfd;
	struct nfqueue *nfq;
	struct udp_sock udp;
	struct inject_sock inj;
	struct ingest_sock ing; /* relay mode, raw ingest: fd4 -1 when not open */
	struct assoc_table *tab;
	struct gw_stats stats;
	struct xlate_ctx x;
	struct xlate_outside_init_limit outside_inits;
	/* Packets the gateway sends of its own accord: ABORTs for out-of-the-blue packets
	 * and ICMP errors for internal hosts. */
	struct ratelimit rl_ootb_abort, rl_icmp_to_host;
	/* Log lines, one limit per kind, so one flood does not silence another. */
	struct {
		struct ratelimit drop;        /* a dropped packet (debug) */
		struct ratelimit icmp;        /* an ICMP error translated or not (debug) */
		struct ratelimit pmtu;        /* a datagram over the path MTU */
		struct ratelimit port_change; /* a peer's learned UDP port moved */
		struct ratelimit table_full;
		struct ratelimit send;      /* sending a datagram failed */
		struct ratelimit inject;    /* injecting a packet or an ICMP error failed */
		struct ratelimit udp_recv;  /* reading a UDP socket or its error queue failed */
		struct ratelimit ingest;    /* reading the raw SCTP socket failed */
		struct ratelimit keepalive; /* sending a keepalive failed */
	} rl_log;
	bool fatal; /* the queue socket failed: the daemon must stop */
	/* buffers, allocated once */
	uint8_t *rxmem; /* WORKER_RX_BATCH * (HEADROOM + DGRAM_CAP) */
	struct udp_dgram dg[WORKER_RX_BATCH];
	struct inject_out injq[WORKER_RX_BATCH];
	unsigned ninj;
	struct udp_out outq[WORKER_OUT_BATCH];
	struct worker_pending pend[WORKER_OUT_BATCH];
	unsigned nout;
	uint8_t *ingbuf; /* one packet from the raw ingest socket */
	unsigned nforeign;
	struct worker_foreign foreign[WORKER_FOREIGN_MAX];
};

/* Allocate and open everything of worker id of group g (queue conf->queue_num + id; the
 * UDP port shared through SO_REUSEPORT when there are several). 0, or -1 with err set. */
int worker_init(struct gw_worker *w, struct worker_group *g, unsigned id,
		const struct gw_conf *conf, char *err, size_t errlen);
void worker_free(struct gw_worker *w);
int worker_start(struct gw_worker *w);
void worker_stop(struct gw_worker *w);

/* Control-thread side, with the worker's lock held by the caller where noted. */
void worker_lock(struct gw_worker *w);
void worker_unlock(struct gw_worker *w);
/* Use conf from now on (lock held): xlate's view, and the UDP steering program (which
 * knows the forward rules). 0, or -1 with err set when the program could not be
 * replaced (the old one stays). */
int worker_set_conf(struct gw_worker *w, const struct gw_conf *conf, char *err, size_t errlen);
/* Open or close the raw ingest sockets (relay-ingest raw) and set their steering filter
 * for conf; 0 or -1 with err set. Lock held. */
int worker_ingest_apply(struct gw_worker *w, bool raw, const struct gw_conf *conf, char *err,
			size_t errlen);
/* NFQUEUE fail-open on or off (queue-bypass), lock held; 0 or -errno. */
int worker_set_fail_open(struct gw_worker *w, bool on);
/* Expire idle associations (lock held); returns how many. */
unsigned worker_expire(struct gw_worker *w, const struct assoc_timeouts *to, uint64_t now);
/* Send the keepalive HEARTBEATs now due on this worker's paths (lock held); returns how
 * many were sent. */
unsigned worker_send_keepalives(struct gw_worker *w, uint64_t now);
/* Copy the queue's counters, the kernel's and the socket's, into the worker's stats
 * (lock held; the control thread's timer does it once a second). */
void worker_refresh_queue_stats(struct gw_worker *w);

#endif
