/* conf.h - the configuration: a pure, line-oriented parser into struct gw_conf.
 *
 * Usage (what fuzzers and tests do): conf_read_init(), conf_read_line() for each line,
 * conf_read_finish(). conf_load_file() is the thin shell that reads a file. */
#ifndef SCTPGW_CONF_H
#define SCTPGW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

#define CONF_DEFAULT_PATH "/etc/sctp-udp-gw/sctp-udp-gw.conf"
#define CONF_MAX_INTERNAL 64
#define CONF_MAX_ENCAP 256
#define CONF_MAX_FORWARD 256
#define CONF_MAX_RELAY 256
#define CONF_ERR_LEN 512

#define CONF_DEFAULT_UDP_PORT 9899
#define CONF_DEFAULT_QUEUE 0
#define CONF_DEFAULT_QUEUE_LENGTH 4096
#define CONF_MAX_WORKERS 8
#define CONF_DEFAULT_TIMEOUT_INIT 3
#define CONF_DEFAULT_TIMEOUT_ESTABLISHED 210
#define CONF_DEFAULT_TIMEOUT_SHUTDOWN 3
#define CONF_DEFAULT_MAX_ASSOC 65536
#define CONF_DEFAULT_MARK 0x5c7b0000u
/* The mark the daemon's table puts on IPv6 SCTP fragments before reassembly: a packet
 * reassembled from them reaches the daemon with it, so the daemon knows its source
 * fragmented it (IPv6 has no DF bit to say so). */
#define CONF_FRAG_MARK(mark) ((mark) ^ 1u)
#define CONF_DEFAULT_INIT_RATE 1000
#define CONF_DEFAULT_INIT_RATE_SOURCE 50
/* keepalive: RFC 8085 3.5's shortest keepalive interval; it keeps open the UDP mapping
 * of any NAT that holds one for 20 s or more, at one 52-byte datagram each way per idle
 * path every 15 s. */
#define CONF_DEFAULT_KEEPALIVE 15
#define CONF_MAX_KEEPALIVE 3600
#define CONF_KEEPALIVE_UNSET 0xffff /* a rule without "keepalive": the global value */

struct conf_prefix {
	struct gw_addr addr; /* host bits cleared */
	uint8_t len;
};

/* encapsulate to PREFIX|any [port P] [remote-udp-port U] [keepalive S] */
struct conf_encap {
	struct conf_prefix dst;
	bool any;                 /* "any": every destination (both families) */
	uint16_t port;            /* SCTP destination port; 0 = any port */
	uint16_t remote_udp_port; /* default remote encapsulation port */
	uint16_t keepalive;       /* seconds, 0 off; CONF_KEEPALIVE_UNSET: the global value */
	unsigned line;
};

/* forward port P to ADDR [port Q] [keepalive S] */
struct conf_forward {
	uint16_t port; /* SCTP port the remote peer targets */
	struct gw_addr to;
	uint16_t to_port; /* SCTP port of the internal host (== port when not given) */
	uint16_t keepalive;
	unsigned line;
};

/* relay port P to ADDR [port Q] [remote-udp-port U] [keepalive S]: an association an
 * internal host opens to this gateway's own address, port P, is carried to ADDR port Q
 * over UDP. */
struct conf_relay {
	uint16_t port;            /* SCTP port on the gateway the internal host addresses */
	struct gw_addr to;        /* the remote peer */
	uint16_t to_port;         /* its SCTP port (== port when not given) */
	uint16_t remote_udp_port; /* its encapsulation port (default 9899) */
	uint16_t keepalive;
	unsigned line;
};

/* relay-ingest: how native SCTP addressed to the gateway itself reaches the daemon. */
enum conf_relay_ingest {
	CONF_INGEST_AUTO = 0, /* raw socket when the kernel has no SCTP, else the input hook */
	CONF_INGEST_RAW,      /* a raw IPPROTO_SCTP socket */
	CONF_INGEST_QUEUE,    /* an input-hook chain queueing the relay ports */
};
const char *conf_relay_ingest_name(enum conf_relay_ingest i);

struct gw_conf {
	uint16_t udp_port;            /* udp-port N: local encapsulation port */
	uint16_t queue_num;           /* queue N[-M]: the first queue */
	uint16_t queue_count;         /* how many queues (M - N + 1): one worker each; 1, 2, 4, 8 */
	uint32_t queue_length;        /* queue-length N: packets each queue may hold */
	uint32_t busy_poll_us;        /* busy-poll USEC: how long a worker polls before sleeping */
	uint32_t mark;                /* mark M: packets the daemon injects carry it */
	uint32_t timeout_init;        /* timeout init S */
	uint32_t timeout_established; /* timeout established S */
	uint32_t timeout_shutdown;    /* timeout shutdown S */
	uint32_t max_assoc;           /* max-associations N */
	uint32_t init_rate;           /* init-rate N: new associations from outside per second */
	uint32_t init_rate_source;    /* init-rate-per-source N: the same per remote address */
	uint16_t keepalive;   /* keepalive S: HEARTBEAT an idle path after S seconds; 0 off */
	bool queue_bypass;    /* queue-bypass yes|no: accept, not drop, with no daemon */
	bool host_mode;       /* host-mode yes|no: take this host's own SCTP (output hook) */
	uint8_t relay_ingest; /* relay-ingest auto|raw|queue (enum conf_relay_ingest) */
	unsigned ninternal;
	struct conf_prefix internal[CONF_MAX_INTERNAL];
	unsigned nencap;
	struct conf_encap encap[CONF_MAX_ENCAP];
	unsigned nforward;
	struct conf_forward forward[CONF_MAX_FORWARD];
	unsigned nrelay;
	struct conf_relay relay[CONF_MAX_RELAY];
};

struct conf_reader {
	struct gw_conf *conf;
	const char *file;
	unsigned line;
	unsigned seen;          /* bit per single-valued statement already seen */
	unsigned seen_line[16]; /* where each of them was set, for "already set on line N" */
	char err[CONF_ERR_LEN]; /* "file:line: message" after an error */
};

void conf_defaults(struct gw_conf *c);
void conf_read_init(struct conf_reader *r, struct gw_conf *c, const char *file);
/* One line (without or with its trailing newline). 0 on success, -1 with r->err set. */
int conf_read_line(struct conf_reader *r, const char *line);
/* Whole-file checks (something to do: internal networks, host mode or relay rules;
 * encapsulate rules for the first two; forward targets inside an internal network
 * unless in host mode, ...). 0 or -1 with r->err set. */
int conf_read_finish(struct conf_reader *r);
/* Read a whole file; 0, or -1 with err ("file:line: message" or "file: strerror"). */
int conf_load_file(const char *path, struct gw_conf *c, char *err, size_t errlen);

/* Write the configuration in the file syntax, one statement per line, in a fixed
 * order; reading the output back gives an equal struct. */
void conf_dump(const struct gw_conf *c, FILE *out);

/* First encapsulate rule matching dst / SCTP dst port, or NULL. */
const struct conf_encap *conf_match_encap(const struct gw_conf *c, const struct gw_addr *dst,
					  uint16_t dport);
/* Forward rule for an SCTP destination port, or NULL. */
const struct conf_forward *conf_match_forward(const struct gw_conf *c, uint16_t port);
/* Relay rule for the SCTP port an internal host addressed on the gateway, or NULL. */
const struct conf_relay *conf_match_relay(const struct gw_conf *c, uint16_t port);
bool conf_is_internal(const struct gw_conf *c, const struct gw_addr *a);

/* A rule's keepalive interval: its own, or the global one. */
static inline uint16_t conf_keepalive(const struct gw_conf *c, uint16_t rule_keepalive)
{
	return rule_keepalive == CONF_KEEPALIVE_UNSET ? c->keepalive : rule_keepalive;
}

#endif
