/* keepalive.c - the gateway's own HEARTBEATs and the check of their answers. */
#include <string.h>

#include "bytes.h"
#include "keepalive.h"
#include "pkt.h"

#define KA_PARAM_HB_INFO 1 /* Heartbeat Info (RFC 9260 3.3.5) */
#define KA_CHUNK_LEN (4 + 4 + KA_INFO_LEN)
#define KA_MAC_OFF 24 /* magic 8, address hash 4, zero 4, sent time 8, MAC 8 */

static const uint8_t ka_magic[8] = { 's', 'c', 't', 'p', 'g', 'w', 'K', 'A' };

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t get64le(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = rotl(v1, 13); \
		v1 ^= v0;          \
		v0 = rotl(v0, 32); \
		v2 += v3;          \
		v3 = rotl(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = rotl(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = rotl(v1, 17); \
		v1 ^= v2;          \
		v2 = rotl(v2, 32); \
	} while (0)

uint64_t ka_siphash(const struct ka_key *key, const uint8_t *data, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0, v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0, v3 = 0x7465646279746573ULL ^ key->k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = get64le(data + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)data[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The MAC over the information's first KA_MAC_OFF bytes and the binding. */
static uint64_t ka_mac(const struct ka_key *key, const uint8_t *info, const struct ka_binding *b)
{
	uint8_t m[KA_MAC_OFF + 12];

	memcpy(m, info, KA_MAC_OFF);
	put32(m + KA_MAC_OFF, b->assoc_id);
	put16(m + KA_MAC_OFF + 4, b->src_port);
	put16(m + KA_MAC_OFF + 6, b->dst_port);
	put32(m + KA_MAC_OFF + 8, b->vtag);
	return ka_siphash(key, m, sizeof(m));
}

size_t ka_build_heartbeat(uint8_t *buf, size_t cap, const struct ka_key *key,
			  const struct ka_binding *b, const struct gw_addr *to, uint64_t now_ms)
{
	uint8_t *c = buf + SCTP_COMMON_HDR_LEN, *info = c + 8;

	if (cap < KA_HEARTBEAT_LEN)
		return 0;
	memset(buf, 0, KA_HEARTBEAT_LEN);
	put16(buf, b->src_port);
	put16(buf + 2, b->dst_port);
	put32(buf + 4, b->vtag);
	c[0] = SCTP_CT_HEARTBEAT;
	put16(c + 2, KA_CHUNK_LEN);
	put16(c + 4, KA_PARAM_HB_INFO);
	put16(c + 6, 4 + KA_INFO_LEN);
	memcpy(info, ka_magic, sizeof(ka_magic));
	put32(info + 8, addr_hash(to, 0));
	put64(info + 16, now_ms);
	put64(info + KA_MAC_OFF, ka_mac(key, info, b));
	pkt_sctp_set_checksum(buf, KA_HEARTBEAT_LEN);
	return KA_HEARTBEAT_LEN;
}

/* Whether the chunk at c (clen bytes, inside the packet) claims to answer one of our
 * HEARTBEATs: a HEARTBEAT-ACK whose information starts with our magic. */
static bool ka_is_ours(const uint8_t *c, size_t clen)
{
	return c[0] == SCTP_CT_HEARTBEAT_ACK && clen >= 8 + sizeof(ka_magic) &&
	       !memcmp(c + 8, ka_magic, sizeof(ka_magic));
}

/* Exactly the shape ka_build_heartbeat gives: else no MAC is even looked at. */
static bool ka_well_formed(const uint8_t *c, size_t clen)
{
	return clen == KA_CHUNK_LEN && get16(c + 4) == KA_PARAM_HB_INFO &&
	       get16(c + 6) == 4 + KA_INFO_LEN;
}

static void ka_judge(const uint8_t *info, const struct ka_key *key, const struct ka_binding *b,
		     uint64_t now_ms, uint64_t max_age_ms, struct ka_ack *out)
{
	out->addr_hash = get32(info + 8);
	out->sent_ms = get64(info + 16);
	if (get64(info + KA_MAC_OFF) != ka_mac(key, info, b))
		out->result = KA_ACK_FORGED;
	else if (out->sent_ms > now_ms || now_ms - out->sent_ms > max_age_ms)
		out->result = KA_ACK_STALE;
	else
		out->result = KA_ACK_VALID;
}

unsigned ka_absorb_acks(uint8_t *buf, size_t *len, const struct ka_key *key,
			const struct ka_binding *b, uint64_t now_ms, uint64_t max_age_ms,
			struct ka_ack *acks, unsigned max, unsigned *left)
{
	size_t off = SCTP_COMMON_HDR_LEN, n = *len;
	unsigned removed = 0, kept = 0;

	while (off + 4 <= n) {
		uint8_t *c = buf + off;
		size_t clen = get16(c + 2), step = (clen + 3) & ~(size_t)3;

		if (clen < 4 || clen > n - off)
			break; /* not a valid packet: leave the rest as it is */
		if (step > n - off)
			step = n - off;
		if (!ka_is_ours(c, clen)) {
			kept++;
			off += step;
			continue;
		}
		/* One that claims to be ours but is malformed is forged: it must not reach
		 * the host either (a kernel aborts on a malformed HEARTBEAT-ACK). */
		if (removed < max && ka_well_formed(c, clen))
			ka_judge(c + 8, key, b, now_ms, max_age_ms, &acks[removed]);
		else if (removed < max)
			acks[removed] = (struct ka_ack){ .result = KA_ACK_FORGED };
		removed++;
		memmove(c, c + step, n - off - step);
		n -= step;
	}
	/* Anything after a malformed chunk stays, counted as one chunk. */
	if (off < n)
		kept++;
	*len = n;
	*left = kept;
	return removed;
}

static bool ka_due(const struct assoc *a, const struct assoc_path *p, uint64_t now_ms)
{
	uint64_t since = p->last_out_ms ? p->last_out_ms : a->created_ms;

	return now_ms >= since && now_ms - since >= (uint64_t)a->ka_interval_s * 1000;
}

static bool ka_wanted(const struct assoc *a)
{
	return a->state == ASSOC_ESTABLISHED && a->ka_interval_s && a->rtag;
}

static unsigned ka_paths_due(const struct assoc *a, uint64_t now_ms)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->npaths && i < ASSOC_MAX_PATHS; i++)
		n += ka_due(a, &a->paths[i], now_ms);
	return n;
}

unsigned ka_collect(struct assoc_table *t, const struct ka_key *key, uint64_t now_ms,
		    struct assoc **cursor, bool *done, struct ka_send *out, unsigned max)
{
	struct assoc *a = *cursor, *next;
	unsigned n = 0;

	while ((next = assoc_next(t, a)) != NULL) {
		struct ka_binding b = { next->id, next->seen_port, next->rport, next->rtag };

		if (ka_wanted(next)) {
			/* An association's paths go in one call: resume with it next time. */
			if (ka_paths_due(next, now_ms) > max - n)
				break;
			for (unsigned i = 0; i < next->npaths && i < ASSOC_MAX_PATHS; i++) {
				struct assoc_path *p = &next->paths[i];
				struct ka_send *o;

				if (!ka_due(next, p, now_ms))
					continue;
				o = &out[n++];
				o->assoc = next;
				o->path = p;
				o->len = ka_build_heartbeat(o->pkt, sizeof(o->pkt), key, &b,
							    &p->addr, now_ms);
				p->last_out_ms = now_ms;
				p->ka_sent++;
			}
		}
		a = next;
	}
	*cursor = a;
	*done = next == NULL;
	return n;
}

struct assoc_path *ka_answer_path(struct assoc *a, uint32_t hash)
{
	for (unsigned i = 0; i < a->npaths && i < ASSOC_MAX_PATHS; i++)
		if (addr_hash(&a->paths[i].addr, 0) == hash)
			return &a->paths[i];
	return NULL;
}
