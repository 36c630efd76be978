/* ctlproto.h - the control protocol between sctp-udp-gw and sctpgwctl, shared by both.
 *
 * A unix stream socket. Every message is a struct ctl_hdr followed by len payload bytes.
 * The client sends one request; the daemon answers with zero or more data messages and
 * then exactly one CTL_REP_DONE or CTL_REP_ERROR. The daemon sends data, never text
 * formatted for people; the CLI formats. */
#ifndef SCTPGW_CTLPROTO_H
#define SCTPGW_CTLPROTO_H

#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "assoc.h"

#define CTL_DEFAULT_SOCKET "/run/sctp-udp-gw/control.sock"
#define CTL_MAGIC 0x53475743u /* "SGWC" */
#define CTL_VERSION 2         /* 2: internal addresses and keepalives in association records */
#define CTL_MAX_PAYLOAD 65536

struct ctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;  /* enum ctl_type */
	uint32_t len;   /* payload bytes after the header */
	int32_t status; /* 0, or -errno on CTL_REP_ERROR */
};

enum ctl_type {
	CTL_REQ_SHOW_ASSOC = 1,  /* payload: none, or struct ctl_assoc_filter */
	CTL_REQ_SHOW_STATS = 2,  /* payload: none */
	CTL_REQ_RELOAD = 3,      /* payload: none */
	CTL_REQ_SET_PORT = 4,    /* payload: struct ctl_set_port */
	CTL_REQ_FLUSH = 5,       /* payload: none */
	CTL_REQ_SHOW_CONFIG = 6, /* payload: none */
	CTL_REQ_SHOW_RULES = 7,  /* payload: none */

	CTL_REP_ASSOC = 101,  /* payload: struct ctl_assoc_rec */
	CTL_REP_STAT = 102,   /* payload: struct ctl_stat_rec */
	CTL_REP_CONFIG = 103, /* payload: the configuration in file syntax (not NUL-terminated) */
	CTL_REP_RULES_HDR = 104, /* payload: struct ctl_rules_hdr, once, before the rules */
	CTL_REP_RULE = 105,      /* payload: struct ctl_rule_rec, one per rule, in file order */
	CTL_REP_DONE = 199,      /* payload: none, or struct ctl_done */
	CTL_REP_ERROR = 200,     /* payload: message text (not NUL-terminated), status = -errno */
};

struct ctl_addr {
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t pad[3];
	uint8_t bytes[16];
};

_Static_assert(sizeof(((struct ctl_addr *)0)->bytes) == sizeof(((struct gw_addr *)0)->bytes),
	       "struct ctl_addr and struct gw_addr hold addresses of different sizes");

/* The one conversion between the wire's address and the daemon's, both ways. */
static inline void ctl_addr_from_gw_addr(struct ctl_addr *out, const struct gw_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family;
	memcpy(out->bytes, a->bytes, sizeof(out->bytes));
}

/* The family is the caller's to check (ctlcheck_request() does for requests). */
static inline void ctl_addr_to_gw_addr(struct gw_addr *out, const struct ctl_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family;
	memcpy(out->bytes, a->bytes, sizeof(out->bytes));
}

/* Equal addresses (an IPv4 address compares its four bytes only). */
static inline bool ctl_addr_equal(const struct ctl_addr *a, const struct ctl_addr *b)
{
	return a->family == b->family &&
	       !memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : sizeof(a->bytes));
}

struct ctl_path_rec {
	struct ctl_addr addr;
	uint16_t udp_port;
	uint16_t pad[3];
	uint64_t idle_ms; /* since the last valid packet from it; UINT64_MAX: never seen */
	uint64_t pkts_in, pkts_out;
	uint64_t ka_sent, ka_answered; /* the gateway's keepalives on this path */
	uint32_t ka_rtt_ms;            /* round trip of the newest answer (0: none yet) */
	uint32_t pad2;
};

struct ctl_assoc_rec {
	uint32_t id;
	uint8_t state;  /* enum assoc_state */
	uint8_t origin; /* enum assoc_origin */
	uint8_t npaths;
	uint8_t pad;
	struct ctl_addr iaddr;
	uint16_t iport, seen_port, rport, pad2;
	uint32_t itag, rtag;
	uint64_t age_ms, idle_ms;
	uint64_t pkts_out, bytes_out, pkts_in, bytes_in;
	struct ctl_path_rec paths[ASSOC_MAX_PATHS];
	struct ctl_addr relay_addr; /* relay associations: the gateway address the host used */
	uint16_t relay_port;        /* ... and its SCTP port; 0: not a relay association */
	uint16_t keepalive_s;       /* keepalive interval, 0: off */
	uint8_t niaddrs;            /* the internal host's addresses (iaddr is the one in use) */
	uint8_t pad3[3];
	struct ctl_addr iaddrs[ASSOC_MAX_IADDRS];
};

struct ctl_assoc_filter {
	uint32_t id; /* 0: all */
};

#define CTL_STAT_NAME_LEN 48
struct ctl_stat_rec {
	char name[CTL_STAT_NAME_LEN]; /* snake_case, NUL-terminated */
	uint64_t value;
};

/* show rules: how the daemon queues outbound SCTP. */
#define CTL_QUEUE_MECH_LEN 48
struct ctl_rules_hdr {
	char queue_mechanism[CTL_QUEUE_MECH_LEN]; /* nft_queue_kind_name(), NUL-terminated */
	uint16_t queue_num;
	uint8_t host_mode;    /* host-mode yes */
	uint8_t relay_ingest; /* enum conf_relay_ingest in use; 0 (auto): no relay rule */
	uint32_t mark;
	uint16_t queue_count; /* queues (workers) from queue_num on */
	uint16_t pad[3];
};

enum ctl_rule_kind {
	CTL_RULE_INTERNAL = 1,    /* internal PREFIX: addr, prefix_len */
	CTL_RULE_ENCAPSULATE = 2, /* encapsulate to PREFIX|any [port] [remote-udp-port] */
	CTL_RULE_FORWARD = 3,     /* forward port P to ADDR [port Q]: addr is ADDR */
	CTL_RULE_RELAY = 4,       /* relay port P to ADDR [port Q] [remote-udp-port U] */
};

struct ctl_rule_rec {
	uint8_t kind;       /* enum ctl_rule_kind */
	uint8_t any;        /* encapsulate to any (addr unused) */
	uint8_t prefix_len; /* internal, encapsulate */
	uint8_t pad;
	struct ctl_addr addr;     /* internal, encapsulate: the prefix; forward: ADDR */
	uint16_t port;            /* encapsulate: SCTP destination port, 0 = any; forward,
				   * relay: P */
	uint16_t remote_udp_port; /* encapsulate, relay */
	uint16_t to_port;         /* forward, relay: Q */
	uint16_t pad2;
	uint32_t line; /* in the configuration file; 0 for internal */
	uint32_t pad3;
	uint64_t hits; /* associations created through it since start or reload */
};

struct ctl_set_port {
	struct ctl_addr addr;
	uint16_t udp_port;
	uint16_t pad;
	uint32_t assoc_id; /* 0: every association with a path to addr */
};

struct ctl_done {
	uint32_t count; /* records sent / associations changed */
};

#endif
