/* assoc.h - the association table: a fixed pool with two hash indexes, no allocation
 * after assoc_table_new(). Pure: the caller passes the time in. */
#ifndef SCTPGW_ASSOC_H
#define SCTPGW_ASSOC_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define ASSOC_MAX_PATHS 4
#define ASSOC_MAX_IADDRS 4 /* internal host addresses kept per association */

enum assoc_state {
	ASSOC_CLOSED = 0,  /* ABORT or SHUTDOWN-COMPLETE seen; kept briefly for stragglers */
	ASSOC_INIT,        /* INIT seen */
	ASSOC_COOKIE,      /* INIT-ACK / COOKIE-ECHO seen */
	ASSOC_ESTABLISHED, /* COOKIE-ACK seen */
	ASSOC_SHUTDOWN,    /* SHUTDOWN / SHUTDOWN-ACK seen */
	ASSOC_STATE_COUNT
};
const char *assoc_state_name(enum assoc_state s); /* "init", "established", ... */

enum assoc_origin { ASSOC_FROM_INSIDE = 0, ASSOC_FROM_OUTSIDE = 1 };

/* One remote address of the peer and the UDP port its packets come from. */
struct assoc_path {
	struct gw_addr addr;
	uint16_t udp_port;
	uint64_t last_seen_ms; /* last valid packet from it (0: never, only sent to) */
	uint64_t last_out_ms;  /* last datagram sent to it (0: never) */
	uint64_t pkts_in, pkts_out;
	/* The gateway's own keepalive HEARTBEATs on this path (keepalive.h); 32 bits are
	 * thousands of years of them. */
	uint64_t ka_answered_sent_ms; /* send time of the newest answer taken (replays older) */
	uint32_t ka_sent, ka_answered;
	uint32_t ka_rtt_ms; /* round trip of the newest answer */
};

/* One address of the internal host: listed in its INIT / INIT-ACK, or its source. */
struct assoc_iaddr {
	struct gw_addr addr;
	uint32_t last_s; /* when it last sent (seconds + 1; 0: only listed): orders them */
};

struct assoc {
	uint32_t id;    /* unique for the daemon's life, never 0 */
	uint8_t state;  /* enum assoc_state */
	uint8_t origin; /* enum assoc_origin */
	uint8_t npaths;
	uint8_t in_use;
	uint8_t niaddrs;
	/* The internal host: the address it sends from now (inbound packets go there), and
	 * every address it may send from (iaddrs[0] is the first source). */
	struct gw_addr iaddr;
	struct assoc_iaddr iaddrs[ASSOC_MAX_IADDRS];
	uint16_t iport;         /* internal host's SCTP port */
	uint16_t seen_port;     /* the port the peer sees for it (== iport unless translated) */
	uint16_t rport;         /* the remote peer's SCTP port */
	uint16_t ka_interval_s; /* keepalive: HEARTBEAT a path idle outward this long; 0 off */
	uint32_t itag; /* tag chosen by the internal host: inbound packets carry it (0: not yet) */
	uint32_t rtag; /* tag chosen by the remote peer: outbound packets carry it (0: not yet) */
	/* Relay associations (opened by the internal host to the gateway itself): the
	 * gateway address and SCTP port the host addressed, which it must keep seeing as
	 * its peer. relay_port 0: not a relay association. */
	struct gw_addr relay_addr;
	uint16_t relay_port;
	uint64_t created_ms, last_ms;
	uint64_t pkts_out, bytes_out, pkts_in, bytes_in;
	struct assoc_path paths[ASSOC_MAX_PATHS];
	/* private: hash chains (slot index + 1, 0 ends) per index and tag role */
	uint32_t next_local[2], next_remote[2];
	uint32_t next_pair; /* chain of the (seen_port, rport) index */
};

struct assoc_timeouts {
	uint32_t init_ms, established_ms, shutdown_ms, closed_ms;
};

struct assoc_table;

/* max: capacity (>= 1). Returns NULL on allocation failure. */
struct assoc_table *assoc_table_new(uint32_t max);
void assoc_table_free(struct assoc_table *t);
/* Ids first, first + step, ... (default 1, 1): tables of several workers hand out ids
 * that never meet (worker w of n: first w + 1, step n). */
void assoc_table_set_ids(struct assoc_table *t, uint32_t first, uint32_t step);
uint32_t assoc_table_count(const struct assoc_table *t);
uint32_t assoc_table_capacity(const struct assoc_table *t);

/* Outbound lookup: the packet's internal source address (any the association's host
 * has, see assoc_has_iaddr) / port, the remote port, and the tag it carries. tag_is_itag selects the role (true for INIT retransmits and T-bit
 * packets that carry the sender's own tag). */
struct assoc *assoc_lookup_local(struct assoc_table *t, const struct gw_addr *iaddr, uint16_t iport,
				 uint16_t rport, uint32_t tag, bool tag_is_itag);
/* Inbound lookup: the port the peer targets (seen port), the peer's port, the tag, and
 * its role (tag_is_itag false for T-bit packets and INIT retransmits from outside). */
struct assoc *assoc_lookup_remote(struct assoc_table *t, uint16_t seen_port, uint16_t rport,
				  uint32_t tag, bool tag_is_itag);

/* A new association with the given keys (either tag may be 0 = unknown yet). When the
 * table is full the oldest closed entry is evicted, else the oldest half-open one (INIT /
 * COOKIE); established and shutting-down entries never are. NULL when nothing could be
 * evicted. Key fields (ports, tags) must not be changed after creation (tags only through
 * set_*tag); iaddr only through assoc_iaddr_used. */
struct assoc *assoc_create(struct assoc_table *t, const struct gw_addr *iaddr, uint16_t iport,
			   uint16_t seen_port, uint16_t rport, uint32_t itag, uint32_t rtag,
			   enum assoc_origin origin, uint64_t now_ms);
/* Set a tag that was 0 (or change it), keeping the indexes right. */
void assoc_set_itag(struct assoc_table *t, struct assoc *a, uint32_t itag);
void assoc_set_rtag(struct assoc_table *t, struct assoc *a, uint32_t rtag);
void assoc_remove(struct assoc_table *t, struct assoc *a);

/* True when another live association already uses (seen_port, rport, tag) as its
 * inbound key in the given role: adding it would make inbound lookups ambiguous. */
bool assoc_remote_key_taken(struct assoc_table *t, uint16_t seen_port, uint16_t rport, uint32_t tag,
			    bool tag_is_itag);

/* True when a live (not closed) association of another internal endpoint than
 * (iaddr, iport) is seen by the peer with the same ports (seen_port, rport) and has a path
 * to raddr: a second one would look like the same association to that peer (the port
 * collision of draft-ietf-tsvwg-natsupp). */
bool assoc_port_pair_conflict(struct assoc_table *t, uint16_t seen_port, uint16_t rport,
			      const struct gw_addr *raddr, const struct gw_addr *iaddr,
			      uint16_t iport);

/* Iterate the live associations the peer sees with ports (seen_port, rport): pass NULL
 * first. For re-learning associations whose tags the table lost (daemon restart). */
struct assoc *assoc_pair_next(struct assoc_table *t, uint16_t seen_port, uint16_t rport,
			      struct assoc *prev);

/* The internal host's addresses. Add the ones its INIT / INIT-ACK lists (after the
 * first source; the table's lookups find the association from any of them). */
void assoc_add_iaddrs(struct assoc *a, const struct gw_addr *list, unsigned n);
struct assoc_iaddr *assoc_iaddr_find(struct assoc *a, const struct gw_addr *addr);
static inline bool assoc_has_iaddr(const struct assoc *a, const struct gw_addr *addr)
{
	return assoc_iaddr_find((struct assoc *)a, addr) != NULL;
}
/* A packet from addr (one of the host's) at now: it is the address in use from now on. */
void assoc_iaddr_used(struct assoc *a, struct assoc_iaddr *ia, uint64_t now_ms);
/* Where to inject a packet from a peer address of this family: the address in use if
 * it is of that family, else the most recently used (then the first listed) one that
 * is; NULL when the host has none. */
const struct gw_addr *assoc_inject_addr(const struct assoc *a, uint8_t family);

/* Paths (remote addresses). */
struct assoc_path *assoc_path_find(struct assoc *a, const struct gw_addr *addr);
/* Find or add; when the path array is full the least recently seen one is replaced. */
struct assoc_path *assoc_path_get(struct assoc *a, const struct gw_addr *addr,
				  uint16_t default_udp_port);

/* Remove associations idle longer than their state's timeout; returns how many. */
unsigned assoc_expire(struct assoc_table *t, const struct assoc_timeouts *to, uint64_t now_ms);

/* Iterate live associations: pass NULL first. */
struct assoc *assoc_next(struct assoc_table *t, struct assoc *prev);
struct assoc *assoc_by_id(struct assoc_table *t, uint32_t id);

#endif
