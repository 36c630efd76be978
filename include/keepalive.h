/* keepalive.h - the gateway's own HEARTBEATs, which keep a legacy NAT's UDP mapping of an
 * idle path open, and the check of the HEARTBEAT-ACKs that answer them.
 *
 * The heartbeat information the peer echoes (RFC 9260 8.3) is the gateway's own: a
 * magic, the association id, a hash of the remote address, the send time and a SipHash
 * MAC over those and the packet's ports and tag, keyed by a secret drawn at start. An
 * answer is taken only if its MAC verifies, it is not older than the caller allows and
 * it is newer than the last one taken for that path (no replays). Pure: no sockets,
 * clocks or logging; the worker sends and keeps the per-path state. */
#ifndef SCTPGW_KEEPALIVE_H
#define SCTPGW_KEEPALIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "assoc.h"

/* SCTP common header + HEARTBEAT chunk header + Heartbeat Info parameter. */
#define KA_INFO_LEN 32
#define KA_HEARTBEAT_LEN (12 + 4 + 4 + KA_INFO_LEN)

struct ka_key {
	uint64_t k0, k1;
};

/* SipHash-2-4 of len bytes (the keyed MAC; also usable as a keyed hash). */
uint64_t ka_siphash(const struct ka_key *key, const uint8_t *data, size_t len);

/* What the MAC binds an answer to: the association as the peer sees it. */
struct ka_binding {
	uint32_t assoc_id;
	uint16_t src_port; /* our side: the association's seen port */
	uint16_t dst_port; /* the peer's SCTP port */
	uint32_t vtag;     /* the peer's tag, which the HEARTBEAT carries */
};

/* Build a HEARTBEAT packet (CRC32c filled in) to remote address to. Returns its length
 * (KA_HEARTBEAT_LEN), or 0 when cap is too small. */
size_t ka_build_heartbeat(uint8_t *buf, size_t cap, const struct ka_key *key,
			  const struct ka_binding *b, const struct gw_addr *to, uint64_t now_ms);

enum ka_ack_result {
	KA_ACK_VALID,  /* ours, MAC good, fresh */
	KA_ACK_FORGED, /* our magic and length, but the MAC does not verify */
	KA_ACK_STALE,  /* MAC good, but older than max_age_ms or from the future */
};

struct ka_ack {
	enum ka_ack_result result;
	uint32_t addr_hash; /* which remote address the HEARTBEAT went to */
	uint64_t sent_ms;   /* when */
};

/*
 * Remove the HEARTBEAT-ACK chunks that answer the gateway's own HEARTBEATs from an
 * SCTP packet (buf, *len: common header first, already parsed as valid), in place;
 * *len shrinks and the caller recomputes the CRC32c if anything remains. A chunk is
 * ours when its information starts with the gateway's magic (one of another shape is
 * judged forged); others (the internal host's heartbeats) are left alone. Each removed
 * chunk is judged into acks[] (the first max of them; the caller counts any beyond as
 * forged: one packet answers one HEARTBEAT). Returns how many chunks were removed; *left
 * says how many chunks remain.
 */
unsigned ka_absorb_acks(uint8_t *buf, size_t *len, const struct ka_key *key,
			const struct ka_binding *b, uint64_t now_ms, uint64_t max_age_ms,
			struct ka_ack *acks, unsigned max, unsigned *left);

/* One HEARTBEAT due: the packet, where it goes, and for whom. */
struct ka_send {
	struct assoc *assoc;
	struct assoc_path *path;
	size_t len;
	uint8_t pkt[KA_HEARTBEAT_LEN];
};

/*
 * The HEARTBEATs due now, from *cursor on (NULL: the table's start): one for every path
 * of an established association with a keepalive interval (a->ka_interval_s) that has
 * carried nothing outward for that long (since the association was created, for a path
 * never sent to). Up to max (at least ASSOC_MAX_PATHS) into out; marks each path as
 * sent (last_out_ms, ka_sent). Returns how many; *cursor is where to go on (the table
 * must not change in between), *done true when the table is done.
 */
unsigned ka_collect(struct assoc_table *t, const struct ka_key *key, uint64_t now_ms,
		    struct assoc **cursor, bool *done, struct ka_send *out, unsigned max);

/* The path of a whose address hashes to addr_hash (an answer's), or NULL. */
struct assoc_path *ka_answer_path(struct assoc *a, uint32_t addr_hash);

#endif
