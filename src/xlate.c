/* xlate.c - what to do with a native packet from inside or a UDP payload from outside.
 *
 * Associations are keyed natsupp-style by ports and verification tags. The internal
 * host's tag (itag) is carried by inbound packets, the remote peer's tag (rtag) by
 * outbound ones; T-bit packets (ABORT, SHUTDOWN-COMPLETE) carry the sender's own tag.
 * State is learned only from packets whose CRC32c verified (RFC 9653 zero checksums
 * are passed on for known associations but teach nothing). */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "pkt.h"
#include "steer.h"
#include "xlate.h"

static void set_drop(struct xlate_ctx *x, struct xlate_result *res, enum gw_drop why, int err)
{
	res->verdict = XV_DROP;
	res->reason = why;
	res->pkt_err = err;
	x->st->drops[why]++;
}

/* Advance the association's state from the chunks of a packet whose tag matched. */
static void track_state(struct xlate_ctx *x, struct assoc *a, const struct pkt_sctp *s)
{
	uint8_t old = a->state;

	if (pkt_has_chunk(s, SCTP_CT_ABORT) || pkt_has_chunk(s, SCTP_CT_SHUTDOWN_COMPLETE))
		a->state = ASSOC_CLOSED;
	else if (pkt_has_chunk(s, SCTP_CT_SHUTDOWN) || pkt_has_chunk(s, SCTP_CT_SHUTDOWN_ACK))
		a->state = ASSOC_SHUTDOWN;
	else if (pkt_has_chunk(s, SCTP_CT_COOKIE_ACK))
		a->state = ASSOC_ESTABLISHED;
	else if ((pkt_has_chunk(s, SCTP_CT_INIT_ACK) || pkt_has_chunk(s, SCTP_CT_COOKIE_ECHO)) &&
		 (a->state == ASSOC_INIT || a->state == ASSOC_CLOSED))
		a->state = ASSOC_COOKIE;
	else if (a->state == ASSOC_COOKIE && !pkt_has_chunk(s, SCTP_CT_INIT) &&
		 (pkt_has_chunk(s, SCTP_CT_DATA) || pkt_has_chunk(s, SCTP_CT_SACK) ||
		  pkt_has_chunk(s, SCTP_CT_HEARTBEAT)))
		/* COOKIE-ACK lost or bundled away: data both ways means it is up. */
		a->state = ASSOC_ESTABLISHED;

	if (a->state == ASSOC_CLOSED && old != ASSOC_CLOSED)
		x->st->assoc_closed++;
}

/* The remote UDP port for a new remote address: the encapsulate rule's, else 9899. */
static uint16_t default_udp_port(const struct gw_conf *c, const struct gw_addr *dst, uint16_t dport)
{
	const struct conf_encap *e = conf_match_encap(c, dst, dport);

	return e ? e->remote_udp_port : CONF_DEFAULT_UDP_PORT;
}

/* Would the peer's packets for ports (seen, rport) reach this worker? */
static bool steers_here(const struct xlate_ctx *x, uint16_t seen, uint16_t rport)
{
	return steer_worker_of(x->conf, seen, rport) == x->worker;
}

/* The source port the peer will see for a new association from iaddr:iport to
 * dst:rport: iport itself unless that would collide with another internal host's
 * association to the same peer (same ports and address, or same ports and tag), then a
 * free port from the dynamic range, probed from a point that depends on the endpoint so
 * that its retransmitted INITs choose the same one. With several workers only ports
 * whose inbound packets are steered to this worker qualify. 0 when none is free. */
static uint16_t choose_seen_port(struct xlate_ctx *x, const struct gw_addr *iaddr, uint16_t iport,
				 const struct gw_addr *dst, uint16_t rport, uint32_t itag)
{
	uint32_t start;

	if (steers_here(x, iport, rport) &&
	    !assoc_port_pair_conflict(x->tab, iport, rport, dst, iaddr, iport) &&
	    !assoc_remote_key_taken(x->tab, iport, rport, itag, true))
		return iport;
	start = addr_hash(iaddr, iport) ^ itag;
	for (uint32_t i = 0; i < 1024; i++) {
		uint16_t cand = (uint16_t)(49152 + (start + i) % 16384);

		if (cand != iport && steers_here(x, cand, rport) &&
		    !assoc_port_pair_conflict(x->tab, cand, rport, dst, iaddr, iport) &&
		    !assoc_remote_key_taken(x->tab, cand, rport, itag, true))
			return cand;
	}
	return 0;
}

/* Take one token from a bucket refilled at rate per second up to rate (1 s of burst). */
static bool bucket_take(struct xlate_bucket *b, uint32_t rate, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)rate * 1000;

	if (b->last_ms == 0 || now_ms < b->last_ms) {
		b->milli = cap;
	} else {
		b->milli += (now_ms - b->last_ms) * rate;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last_ms = now_ms ? now_ms : 1;
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

/* A worker's part of a rate (at least 1 per second). */
static uint32_t share_of(const struct xlate_ctx *x, uint32_t rate)
{
	uint32_t n = x->share > 1 ? x->share : 1;

	return rate / n ? rate / n : 1;
}

/* May a new association from outside be created for this peer now? Both the per-source
 * and the total budget must allow it; a refused INIT takes from neither. */
static bool outside_init_allowed(struct xlate_ctx *x, const struct gw_addr *peer, uint64_t now_ms)
{
	struct xlate_outside_init_limit *rl = x->outside_inits;
	struct xlate_bucket *src, saved;

	if (!rl)
		return true;
	src = &rl->src[addr_hash(peer, rl->seed) % XLATE_SRC_BUCKETS];
	saved = *src;
	if (!bucket_take(src, share_of(x, x->conf->init_rate_source), now_ms))
		return false;
	if (!bucket_take(&rl->total, share_of(x, x->conf->init_rate), now_ms)) {
		*src = saved;
		return false;
	}
	return true;
}

/*
 * Re-learning. After a restart (or a flush) the table has lost associations whose
 * endpoints still talk. A verified mid-association packet lets the gateway rebuild the
 * entry from its ports and the one tag it carries; the other direction's first verified
 * packet then fills in the other tag (an entry with one tag unknown, same ports, and
 * the same internal host or remote address). Nothing is re-learned from a packet that a
 * configured rule does not cover, so this opens no path that an INIT would not.
 */
static struct assoc *relearn_outbound(struct xlate_ctx *x, const struct pkt_ip *iph,
				      const struct pkt_sctp *s, uint64_t now_ms, bool *unlisted)
{
	const struct conf_forward *f;
	const struct conf_encap *e;
	struct assoc *a = NULL;

	/* The other half of an entry re-learned from outside: the remote tag is missing. */
	while ((a = assoc_pair_next(x->tab, s->src_port, s->dst_port, a)) != NULL) {
		if (a->rtag == 0 && a->iport == s->src_port && assoc_has_iaddr(a, &iph->src)) {
			assoc_set_rtag(x->tab, a, s->vtag);
			return a;
		}
	}
	/* A forward rule's target answering a peer: seen port and internal port differ. */
	for (unsigned i = 0; i < x->conf->nforward; i++) {
		f = &x->conf->forward[i];
		if (f->to_port != s->src_port || !addr_equal(&f->to, &iph->src))
			continue;
		while ((a = assoc_pair_next(x->tab, f->port, s->dst_port, a)) != NULL) {
			if (a->rtag == 0 && assoc_has_iaddr(a, &iph->src)) {
				assoc_set_rtag(x->tab, a, s->vtag);
				return a;
			}
		}
	}
	e = conf_match_encap(x->conf, &iph->dst, s->dst_port);
	if (!e)
		return NULL;
	/* The same endpoints with a live association and another tag: a stale or forged
	 * packet, not a lost association. The same tag from an address the association's
	 * host never listed: not its packet (its own addresses found it above). */
	while ((a = assoc_pair_next(x->tab, s->src_port, s->dst_port, a)) != NULL) {
		if (a->iport != s->src_port)
			continue;
		if (a->rtag == s->vtag && !assoc_has_iaddr(a, &iph->src)) {
			*unlisted = true;
			return NULL;
		}
		if (assoc_has_iaddr(a, &iph->src))
			return NULL;
	}
	a = assoc_create(x->tab, &iph->src, s->src_port, s->src_port, s->dst_port, 0, s->vtag,
			 ASSOC_FROM_INSIDE, now_ms);
	if (a) {
		a->state = ASSOC_ESTABLISHED;
		a->ka_interval_s = conf_keepalive(x->conf, e->keepalive);
		x->st->assoc_relearned++;
		x->st->rule_hits.encap[e - x->conf->encap]++;
	}
	return a;
}

static struct assoc *relearn_inbound(struct xlate_ctx *x, const struct gw_addr *peer,
				     const struct pkt_sctp *s, uint64_t now_ms)
{
	const struct conf_forward *f;
	struct assoc *a = NULL;

	while ((a = assoc_pair_next(x->tab, s->dst_port, s->src_port, a)) != NULL) {
		if (!assoc_path_find(a, peer))
			continue;
		if (a->itag != 0)
			return NULL; /* a live association of these endpoints: a forged tag */
		assoc_set_itag(x->tab, a, s->vtag);
		return a;
	}
	f = conf_match_forward(x->conf, s->dst_port);
	if (!f || f->to.family != peer->family || !outside_init_allowed(x, peer, now_ms))
		return NULL;
	a = assoc_create(x->tab, &f->to, f->to_port, s->dst_port, s->src_port, s->vtag, 0,
			 ASSOC_FROM_OUTSIDE, now_ms);
	if (a) {
		a->state = ASSOC_ESTABLISHED;
		a->ka_interval_s = conf_keepalive(x->conf, f->keepalive);
		x->st->assoc_relearned++;
		x->st->rule_hits.forward[f - x->conf->forward]++;
	}
	return a;
}

/* Remove the IPv4 / IPv6 address parameters of an INIT or INIT-ACK in place, shortening
 * *sl; true when any were (the CRC32c must then be computed again). */
static bool strip_addr_params(struct xlate_ctx *x, uint8_t *sp, size_t *sl)
{
	unsigned removed = 0;
	int nl = pkt_sctp_strip_addr_params(sp, *sl, &removed);

	if (nl <= 0 || !removed)
		return false;
	*sl = (size_t)nl;
	x->st->addr_params_removed += removed;
	return true;
}

/* Parse a native packet (IP header first) down to its SCTP packet. 0 with the parts set;
 * 1 when it is not SCTP; -1 when malformed (dropped and counted). */
static int parse_native(struct xlate_ctx *x, uint8_t *ip, size_t len, struct xlate_result *res,
			struct pkt_ip *iph, struct pkt_sctp *s, uint8_t **sp, size_t *sl)
{
	int err;

	memset(res, 0, sizeof(*res));
	err = pkt_parse_ip(ip, len, iph);
	if (err) {
		set_drop(x, res, DROP_OUT_MALFORMED, err);
		return -1;
	}
	if (iph->proto != IPPROTO_SCTP_NUM)
		return 1;
	*sp = ip + iph->hdr_len;
	*sl = (size_t)iph->total_len - iph->hdr_len;
	err = pkt_parse_sctp(*sp, *sl, s);
	if (err) {
		set_drop(x, res, DROP_OUT_MALFORMED, err);
		return -1;
	}
	return 0;
}

/* A new association for an INIT from inside toward dst, SCTP port rport; NULL when
 * refused (dropped and counted). */
static struct assoc *create_from_inside(struct xlate_ctx *x, const struct pkt_ip *iph,
					const struct pkt_sctp *s, const struct gw_addr *dst,
					uint16_t rport, bool verified, uint64_t now_ms,
					struct xlate_result *res)
{
	struct assoc *a;
	uint16_t seen;

	if (!verified) {
		set_drop(x, res, DROP_OUT_UNVERIFIED, 0);
		return NULL;
	}
	seen = choose_seen_port(x, &iph->src, s->src_port, dst, rport, s->init_tag);
	if (!seen) {
		set_drop(x, res, DROP_OUT_NO_PORT, 0);
		return NULL;
	}
	a = assoc_create(x->tab, &iph->src, s->src_port, seen, rport, s->init_tag, 0,
			 ASSOC_FROM_INSIDE, now_ms);
	if (!a) {
		set_drop(x, res, DROP_OUT_TABLE_FULL, 0);
		return NULL;
	}
	x->st->assoc_created++;
	if (seen != s->src_port)
		x->st->ports_translated++;
	res->created = true;
	return a;
}

static void encap_finish(struct xlate_ctx *x, struct assoc *a, struct assoc_path *path,
			 const struct pkt_ip *iph, const struct pkt_sctp *s, uint8_t *sp, size_t sl,
			 bool verified, uint64_t now_ms, struct xlate_result *res);

/* A multi-homed host lists its addresses in its INIT or INIT-ACK (which the gateway then
 * strips): keep those inside the internal networks, so that its packets from any of
 * them find the association. */
static void learn_internal_addrs(struct xlate_ctx *x, struct assoc *a, const uint8_t *sp,
				 const struct pkt_sctp *s)
{
	struct gw_addr listed[ASSOC_MAX_IADDRS], keep[ASSOC_MAX_IADDRS];
	unsigned n = pkt_sctp_init_addrs(sp, s, listed, ASSOC_MAX_IADDRS), k = 0;

	for (unsigned i = 0; i < n; i++)
		if (!x->conf->ninternal || conf_is_internal(x->conf, &listed[i]))
			keep[k++] = listed[i];
	assoc_add_iaddrs(a, keep, k);
}

/* Not a packet the gateway carries: it goes on unchanged. */
static void accept_unchanged(struct xlate_ctx *x, struct xlate_result *res)
{
	res->verdict = XV_ACCEPT;
	x->st->out_accepted++;
}

/* The INIT of a queued packet: its association (a retransmission carries the same
 * initiate tag), else a new one if an encapsulate rule covers it. NULL when accepted
 * or dropped (res says which). */
static struct assoc *outbound_init(struct xlate_ctx *x, const struct pkt_ip *iph,
				   const struct pkt_sctp *s, bool verified, uint64_t now_ms,
				   struct xlate_result *res)
{
	const struct conf_encap *e;
	struct assoc *a =
		assoc_lookup_local(x->tab, &iph->src, s->src_port, s->dst_port, s->init_tag, true);

	/* The same keys as a relay association of this host: it is that one's. */
	if (a && a->relay_port) {
		set_drop(x, res, DROP_OUT_NO_ASSOC, 0);
		return NULL;
	}
	if (a)
		return a;
	e = conf_match_encap(x->conf, &iph->dst, s->dst_port);
	if (!e) {
		accept_unchanged(x, res);
		return NULL;
	}
	a = create_from_inside(x, iph, s, &iph->dst, s->dst_port, verified, now_ms, res);
	if (a) {
		a->ka_interval_s = conf_keepalive(x->conf, e->keepalive);
		x->st->rule_hits.encap[e - x->conf->encap]++;
	}
	return a;
}

/* Every other queued packet: the association its ports and tag name, else one
 * re-learned from it. NULL when accepted or dropped (res says which). */
static struct assoc *outbound_lookup(struct xlate_ctx *x, const struct pkt_ip *iph,
				     const struct pkt_sctp *s, bool verified, uint64_t now_ms,
				     struct xlate_result *res)
{
	struct assoc *a =
		assoc_lookup_local(x->tab, &iph->src, s->src_port, s->dst_port, s->vtag, s->t_bit);
	bool unlisted = false;

	if (a && a->relay_port) {
		set_drop(x, res, DROP_OUT_NO_ASSOC, 0);
		return NULL;
	}
	if (!a && verified && !s->t_bit)
		a = relearn_outbound(x, iph, s, now_ms, &unlisted);
	if (!a && unlisted) {
		set_drop(x, res, DROP_OUT_UNLISTED_ADDR, 0);
		return NULL;
	}
	if (!a) {
		/* Not an association we carry: ours to drop only if a rule claims it. */
		if (conf_match_encap(x->conf, &iph->dst, s->dst_port))
			set_drop(x, res, DROP_OUT_NO_ASSOC, 0);
		else
			accept_unchanged(x, res);
		return NULL;
	}
	if (s->first_chunk == SCTP_CT_INIT_ACK && verified && a->itag != s->init_tag)
		assoc_set_itag(x->tab, a, s->init_tag);
	return a;
}

void xlate_outbound(struct xlate_ctx *x, uint8_t *ip, size_t len, uint64_t now_ms,
		    struct xlate_result *res)
{
	struct pkt_ip iph;
	struct pkt_sctp s;
	struct assoc *a;
	struct assoc_path *path;
	uint8_t *sp = NULL;
	size_t sl = 0;
	bool verified;
	int rc = parse_native(x, ip, len, res, &iph, &s, &sp, &sl);

	if (rc < 0)
		return;
	if (rc > 0) {
		accept_unchanged(x, res);
		return;
	}
	verified = pkt_sctp_checksum_ok(sp, sl);
	if (!verified && !pkt_sctp_checksum_zero(sp, sl)) {
		set_drop(x, res, DROP_OUT_BAD_CRC, 0);
		return;
	}
	if (s.first_chunk == SCTP_CT_INIT)
		a = outbound_init(x, &iph, &s, verified, now_ms, res);
	else
		a = outbound_lookup(x, &iph, &s, verified, now_ms, res);
	if (!a)
		return;
	/* The rule scan for a default port only when the address is new to the association,
	 * not for every packet. */
	path = assoc_path_find(a, &iph.dst);
	if (!path)
		path = assoc_path_get(a, &iph.dst, default_udp_port(x->conf, &iph.dst, s.dst_port));
	encap_finish(x, a, path, &iph, &s, sp, sl, verified, now_ms, res);
}

/* What every packet to be encapsulated goes through once its association and path are
 * known: state, RFC 6951 5.7 address stripping, port translation, the result. */
static void encap_finish(struct xlate_ctx *x, struct assoc *a, struct assoc_path *path,
			 const struct pkt_ip *iph, const struct pkt_sctp *s, uint8_t *sp, size_t sl,
			 bool verified, uint64_t now_ms, struct xlate_result *res)
{
	bool changed = false;

	if (verified) {
		struct assoc_iaddr *ia = assoc_iaddr_find(a, &iph->src);

		track_state(x, a, s);
		if (s->addr_params)
			learn_internal_addrs(x, a, sp, s);
		/* The host's latest source is where its inbound packets go. */
		if (ia)
			assoc_iaddr_used(a, ia, now_ms);
	}

	/* RFC 6951 5.7: internal addresses must not reach the peer; it then uses the
	 * source address of the packet, which is the gateway's (or its NAT's). */
	if (s->addr_params)
		changed = strip_addr_params(x, sp, &sl);
	if (a->seen_port != a->iport) {
		put16(sp, a->seen_port);
		changed = true;
	}
	if (a->relay_port && a->relay_port != a->rport) {
		put16(sp + 2, a->rport);
		changed = true;
	}
	if (changed)
		pkt_sctp_set_checksum(sp, sl);

	a->last_ms = now_ms;
	a->pkts_out++;
	a->bytes_out += sl;
	path->pkts_out++;
	path->last_out_ms = now_ms;

	res->verdict = XV_ENCAP;
	res->assoc = a;
	res->sctp = sp;
	res->sctp_len = sl;
	res->peer = path->addr;
	res->udp_port = path->udp_port;
	res->inner = iph->src;
	res->tos = iph->tos;
}

/*
 * Relay: the internal host's association is with the gateway itself (relay_addr, port
 * P); the remote peer is the rule's. Keys are those of any association from inside with
 * remote port Q, so inbound lookups, collisions and re-learning work unchanged; only the
 * addresses and P differ, and encap_finish / xlate_inbound rewrite those.
 */
static struct assoc *relearn_relay(struct xlate_ctx *x, const struct pkt_ip *iph,
				   const struct pkt_sctp *s, const struct conf_relay *rl,
				   uint64_t now_ms)
{
	struct assoc *a = NULL;

	while ((a = assoc_pair_next(x->tab, s->src_port, rl->to_port, a)) != NULL)
		if (a->iport == s->src_port &&
		    (assoc_has_iaddr(a, &iph->src) || a->rtag == s->vtag))
			return NULL;
	a = assoc_create(x->tab, &iph->src, s->src_port, s->src_port, rl->to_port, 0, s->vtag,
			 ASSOC_FROM_INSIDE, now_ms);
	if (a) {
		a->state = ASSOC_ESTABLISHED;
		a->ka_interval_s = conf_keepalive(x->conf, rl->keepalive);
		a->relay_addr = iph->dst;
		a->relay_port = s->dst_port;
		x->st->assoc_relearned++;
		x->st->rule_hits.relay[rl - x->conf->relay]++;
	}
	return a;
}

/* The relay association of a packet from the host to rule rl: found, created for an
 * INIT, or re-learned. NULL when dropped (counted). */
static struct assoc *relay_assoc(struct xlate_ctx *x, const struct pkt_ip *iph,
				 const struct pkt_sctp *s, const struct conf_relay *rl,
				 bool verified, uint64_t now_ms, struct xlate_result *res)
{
	struct assoc *a;

	if (s->first_chunk == SCTP_CT_INIT) {
		a = assoc_lookup_local(x->tab, &iph->src, s->src_port, rl->to_port, s->init_tag,
				       true);
		if (a)
			return a;
		a = create_from_inside(x, iph, s, &rl->to, rl->to_port, verified, now_ms, res);
		if (!a)
			return NULL;
		x->st->rule_hits.relay[rl - x->conf->relay]++;
		a->relay_addr = iph->dst;
		a->relay_port = s->dst_port;
		a->ka_interval_s = conf_keepalive(x->conf, rl->keepalive);
		return a;
	}
	a = assoc_lookup_local(x->tab, &iph->src, s->src_port, rl->to_port, s->vtag, s->t_bit);
	if (!a && verified && !s->t_bit)
		a = relearn_relay(x, iph, s, rl, now_ms);
	if (!a)
		set_drop(x, res, DROP_OUT_NO_ASSOC, 0);
	return a;
}

void xlate_relay(struct xlate_ctx *x, uint8_t *ip, size_t len, uint64_t now_ms,
		 struct xlate_result *res)
{
	const struct conf_relay *rl;
	struct pkt_ip iph;
	struct pkt_sctp s;
	struct assoc *a;
	struct assoc_path *path;
	uint8_t *sp = NULL;
	size_t sl = 0;
	bool verified;
	int rc = parse_native(x, ip, len, res, &iph, &s, &sp, &sl);

	if (rc < 0)
		return;
	if (rc > 0) {
		res->verdict = XV_ACCEPT;
		return;
	}
	rl = conf_match_relay(x->conf, s.dst_port);
	if (!rl) {
		/* Not a relay port: whatever else listens on this host may take it. */
		res->verdict = XV_ACCEPT;
		x->st->relay_no_rule++;
		return;
	}
	/* With internal networks configured, only their hosts may use the relay: the
	 * gateway's outside is no open relay. */
	if (x->conf->ninternal && !conf_is_internal(x->conf, &iph.src)) {
		set_drop(x, res, DROP_RELAY_NOT_INTERNAL, 0);
		return;
	}
	x->st->relay_ingested++;
	verified = pkt_sctp_checksum_ok(sp, sl);
	if (!verified && !pkt_sctp_checksum_zero(sp, sl)) {
		set_drop(x, res, DROP_OUT_BAD_CRC, 0);
		return;
	}
	a = relay_assoc(x, &iph, &s, rl, verified, now_ms, res);
	if (!a)
		return;
	/* Same host, ports and tag as an association it has with someone else: not ours. */
	if (a->relay_port != s.dst_port || !addr_equal(&a->relay_addr, &iph.dst)) {
		set_drop(x, res, DROP_OUT_NO_ASSOC, 0);
		return;
	}
	path = assoc_path_find(a, &rl->to);
	if (!path)
		path = assoc_path_get(a, &rl->to, rl->remote_udp_port);
	encap_finish(x, a, path, &iph, &s, sp, sl, verified, now_ms, res);
}

/* Answer a packet from outside with an ABORT over the same encapsulation. */
static void reply_abort(struct xlate_result *res, const struct gw_addr *peer, uint16_t udp_port,
			const struct pkt_sctp *s, uint32_t vtag, bool t_bit, uint16_t cause)
{
	res->verdict = XV_REPLY_UDP;
	res->peer = *peer;
	res->udp_port = udp_port;
	res->reply_len = pkt_build_abort(res->reply, sizeof(res->reply), s->dst_port, s->src_port,
					 vtag, t_bit, cause);
}

/* Inbound step 1: length, chunks and CRC32c of a UDP payload. 0 with s and *verified
 * set; -1 when dropped (counted). A zero checksum passes unverified (RFC 9653). */
static int inbound_verify(struct xlate_ctx *x, uint8_t *sp, size_t sl, struct pkt_sctp *s,
			  bool *verified, struct xlate_result *res)
{
	int err;

	if (sl < SCTP_COMMON_HDR_LEN) {
		set_drop(x, res, DROP_IN_SHORT, PKT_ERR_SCTP_SHORT);
		return -1;
	}
	err = pkt_parse_sctp(sp, sl, s);
	if (err) {
		set_drop(x, res, DROP_IN_MALFORMED, err);
		return -1;
	}
	*verified = pkt_sctp_checksum_ok(sp, sl);
	if (!*verified && !pkt_sctp_checksum_zero(sp, sl)) {
		set_drop(x, res, DROP_IN_BAD_CRC, 0);
		return -1;
	}
	return 0;
}

/* An INIT for an association the table has (a retransmission, or a restart): NULL when
 * refused with an ABORT. */
static struct assoc *inbound_init_known(struct xlate_ctx *x, struct assoc *a,
					const struct gw_addr *peer, uint16_t udp_port,
					const struct pkt_sctp *s, struct xlate_result *res)
{
	struct assoc_path *path = assoc_path_find(a, peer);

	if (!path && a->state != ASSOC_CLOSED) {
		/* Another peer address with the same ports and initiate tag as a live
		 * association: a tag collision (draft-ietf-tsvwg-natsupp). Refuse it rather
		 * than mix two associations; the peer retries with a new tag. */
		x->st->drops[DROP_IN_TAG_COLLISION]++;
		reply_abort(res, peer, udp_port, s, s->init_tag, false, SCTP_CAUSE_VTAG_COLLISION);
		return NULL;
	}
	/* draft-tuexen-tsvwg-sctp-udp-encaps-cons 4: an INIT must not move the encapsulation
	 * port of a live association; refuse it as Linux does. */
	if (path && path->udp_port != udp_port && path->last_seen_ms) {
		x->st->drops[DROP_IN_INIT_PORT_CHANGE]++;
		reply_abort(res, peer, udp_port, s, s->init_tag, false,
			    SCTP_CAUSE_RESTART_NEW_ENCAPS_PORT);
		return NULL;
	}
	return a;
}

/* A new association for an INIT from outside, through the forward rule of its port:
 * NULL when refused (answered, or dropped and counted). */
static struct assoc *inbound_init_new(struct xlate_ctx *x, const struct gw_addr *peer,
				      uint16_t udp_port, const struct pkt_sctp *s, uint64_t now_ms,
				      struct xlate_result *res)
{
	const struct conf_forward *f = conf_match_forward(x->conf, s->dst_port);
	struct assoc *a;

	if (!f) {
		x->st->drops[DROP_IN_NO_FORWARD]++;
		reply_abort(res, peer, udp_port, s, s->init_tag, false, 0);
		return NULL;
	}
	if (f->to.family != peer->family) {
		set_drop(x, res, DROP_IN_FAMILY, 0);
		return NULL;
	}
	/* A flood is dropped without an answer: no amplification, and the table keeps room
	 * (established entries are never evicted anyway). */
	if (!outside_init_allowed(x, peer, now_ms)) {
		set_drop(x, res, DROP_IN_INIT_RATE, 0);
		return NULL;
	}
	a = assoc_create(x->tab, &f->to, f->to_port, s->dst_port, s->src_port, 0, s->init_tag,
			 ASSOC_FROM_OUTSIDE, now_ms);
	if (!a) {
		set_drop(x, res, DROP_IN_TABLE_FULL, 0);
		return NULL;
	}
	a->ka_interval_s = conf_keepalive(x->conf, f->keepalive);
	x->st->assoc_created++;
	x->st->rule_hits.forward[f - x->conf->forward]++;
	res->created = true;
	return a;
}

/* Inbound step 2, the INIT branch: only a verified INIT creates or finds anything. */
static struct assoc *inbound_init(struct xlate_ctx *x, const struct gw_addr *peer,
				  uint16_t udp_port, const struct pkt_sctp *s, bool verified,
				  uint64_t now_ms, struct xlate_result *res)
{
	struct assoc *a;

	if (!verified) {
		set_drop(x, res, DROP_IN_UNVERIFIED, 0);
		return NULL;
	}
	a = assoc_lookup_remote(x->tab, s->dst_port, s->src_port, s->init_tag, false);
	if (a)
		return inbound_init_known(x, a, peer, udp_port, s, res);
	return inbound_init_new(x, peer, udp_port, s, now_ms, res);
}

/* Inbound step 3, every other packet: the association its ports and tag name, else one
 * re-learned from it; an INIT-ACK also teaches the peer's tag. NULL when dropped. */
static struct assoc *inbound_lookup(struct xlate_ctx *x, const struct gw_addr *peer,
				    const struct pkt_sctp *s, bool verified, uint64_t now_ms,
				    struct xlate_result *res)
{
	struct assoc *a = assoc_lookup_remote(x->tab, s->dst_port, s->src_port, s->vtag, !s->t_bit);

	if (!a && verified && !s->t_bit && s->first_chunk != SCTP_CT_INIT_ACK)
		a = relearn_inbound(x, peer, s, now_ms);
	if (!a) {
		set_drop(x, res, DROP_IN_NO_ASSOC, 0);
		return NULL;
	}
	if (s->first_chunk == SCTP_CT_INIT_ACK) {
		if (!verified) {
			set_drop(x, res, DROP_IN_UNVERIFIED, 0);
			return NULL;
		}
		if (a->rtag != s->init_tag)
			assoc_set_rtag(x->tab, a, s->init_tag);
	}
	return a;
}

/* Inbound step 4, RFC 6951 5.4: follow the peer's UDP port, per remote address, but only
 * for a packet whose tag matched (the lookup) and whose checksum verified. */
static void inbound_learn_port(struct xlate_ctx *x, struct assoc *a, const struct gw_addr *peer,
			       uint16_t udp_port, const struct pkt_sctp *s, bool verified,
			       uint64_t now_ms, struct xlate_result *res)
{
	struct assoc_path *path = assoc_path_find(a, peer);

	if (verified) {
		if (!path) {
			path = assoc_path_get(a, peer, udp_port);
		} else if (path->udp_port != udp_port) {
			path->udp_port = udp_port;
			x->st->port_changes++;
			res->port_changed = true;
		}
		path->last_seen_ms = now_ms;
		track_state(x, a, s);
	}
	if (path)
		path->pkts_in++;
}

/* Inbound step 5, the mirror of encap_finish: undo the port translation, hide the peer
 * from a relay association's host, the result. */
static void decap_finish(struct xlate_ctx *x, struct assoc *a, const struct gw_addr *inner,
			 const struct gw_addr *peer, uint16_t udp_port, uint8_t tos,
			 const struct pkt_sctp *s, uint8_t *sp, size_t sl, uint64_t now_ms,
			 struct xlate_result *res)
{
	bool changed = false;

	if (a->iport != s->dst_port) {
		put16(sp + 2, a->iport);
		changed = true;
	}
	if (a->relay_port) {
		/* The host must see only the gateway: the peer's addresses listed in its INIT
		 * or INIT-ACK are none it could reach, and the peer's port is the relay's. */
		if (s->addr_params && strip_addr_params(x, sp, &sl))
			changed = true;
		if (a->relay_port != s->src_port) {
			put16(sp, a->relay_port);
			changed = true;
		}
	}
	if (changed)
		pkt_sctp_set_checksum(sp, sl);
	a->last_ms = now_ms;
	a->pkts_in++;
	a->bytes_in += sl;

	res->verdict = XV_INJECT;
	res->assoc = a;
	res->sctp = sp;
	res->sctp_len = sl;
	res->peer = *peer;
	res->udp_port = udp_port;
	res->from = a->relay_port ? a->relay_addr : *peer;
	res->inner = *inner;
	res->tos = tos;
}

/*
 * Inbound, the answers to the gateway's own keepalives (keepalive.h): taken out of the
 * packet before anything else, and judged. A forged, stale or replayed one drops the
 * whole packet (nothing is learned from it); valid ones are counted on their path.
 * Returns 0 to go on with what is left (*sl shortened, CRC32c fixed), 1 when nothing is
 * left (absorbed), -1 when dropped.
 */
static int inbound_keepalive_answers(struct xlate_ctx *x, struct assoc *a, uint8_t *sp, size_t *sl,
				     uint64_t now_ms, struct xlate_result *res)
{
	struct ka_binding b = { a->id, a->seen_port, a->rport, a->rtag };
	uint64_t max_age_ms =
		(2 * (uint64_t)(a->ka_interval_s ? a->ka_interval_s : 30) + 30) * 1000;
	struct ka_ack acks[2];
	unsigned left,
		n = ka_absorb_acks(sp, sl, x->ka_key, &b, now_ms, max_age_ms, acks, 2, &left);
	enum gw_drop bad = DROP_COUNT;

	if (!n)
		return 0;
	for (unsigned i = 0; i < n && bad == DROP_COUNT; i++) {
		struct assoc_path *p = i < 2 ? ka_answer_path(a, acks[i].addr_hash) : NULL;

		if (i >= 2 || acks[i].result == KA_ACK_FORGED)
			bad = DROP_IN_KEEPALIVE_FORGED;
		else if (acks[i].result == KA_ACK_STALE)
			bad = DROP_IN_KEEPALIVE_STALE;
		else if (!p || acks[i].sent_ms <= p->ka_answered_sent_ms)
			bad = DROP_IN_KEEPALIVE_REPLAYED;
	}
	if (bad != DROP_COUNT) {
		set_drop(x, res, bad, 0);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct assoc_path *p = ka_answer_path(a, acks[i].addr_hash);

		p->ka_answered++;
		p->ka_answered_sent_ms = acks[i].sent_ms;
		p->ka_rtt_ms = (uint32_t)(now_ms - acks[i].sent_ms);
		x->st->keepalives_answered++;
	}
	if (!left)
		return 1;
	pkt_sctp_set_checksum(sp, *sl);
	return 0;
}

void xlate_inbound(struct xlate_ctx *x, const struct gw_addr *peer, uint16_t udp_port, uint8_t tos,
		   uint8_t *sp, size_t sl, uint64_t now_ms, struct xlate_result *res)
{
	const struct gw_addr *inner;
	struct pkt_sctp s;
	struct assoc *a;
	bool verified;

	memset(res, 0, sizeof(*res));
	if (inbound_verify(x, sp, sl, &s, &verified, res) < 0)
		return;
	if (s.first_chunk == SCTP_CT_INIT)
		a = inbound_init(x, peer, udp_port, &s, verified, now_ms, res);
	else
		a = inbound_lookup(x, peer, &s, verified, now_ms, res);
	if (!a)
		return;
	/* Where it goes: the address the host uses now, or one it listed of the peer's
	 * family (a dual-stack peer heartbeating from its other address); none: dropped. A
	 * relay association's host sees only the gateway's address, whatever the peer's
	 * family. */
	inner = a->relay_port ? &a->iaddr : assoc_inject_addr(a, peer->family);
	if (!inner) {
		set_drop(x, res, DROP_IN_FAMILY, 0);
		return;
	}
	if (x->ka_key && pkt_has_chunk(&s, SCTP_CT_HEARTBEAT_ACK)) {
		int rc = inbound_keepalive_answers(x, a, sp, &sl, now_ms, res);

		if (rc < 0)
			return;
		if (rc > 0) {
			inbound_learn_port(x, a, peer, udp_port, &s, verified, now_ms, res);
			res->verdict = XV_ABSORBED;
			res->assoc = a;
			return;
		}
		/* what is left is another packet: parse it again for the rewrite */
		if (pkt_parse_sctp(sp, sl, &s) != PKT_OK) {
			set_drop(x, res, DROP_IN_MALFORMED, 0);
			return;
		}
	}
	inbound_learn_port(x, a, peer, udp_port, &s, verified, now_ms, res);
	decap_finish(x, a, inner, peer, udp_port, tos, &s, sp, sl, now_ms, res);
}

uint16_t xlate_keepalive_of(const struct gw_conf *c, const struct assoc *a)
{
	if (a->relay_port) {
		const struct conf_relay *rl = conf_match_relay(c, a->relay_port);

		return conf_keepalive(c, rl ? rl->keepalive : CONF_KEEPALIVE_UNSET);
	}
	if (a->origin == ASSOC_FROM_OUTSIDE) {
		const struct conf_forward *f = conf_match_forward(c, a->seen_port);

		return conf_keepalive(c, f ? f->keepalive : CONF_KEEPALIVE_UNSET);
	}
	if (a->npaths) {
		const struct conf_encap *e = conf_match_encap(c, &a->paths[0].addr, a->rport);

		return conf_keepalive(c, e ? e->keepalive : CONF_KEEPALIVE_UNSET);
	}
	return c->keepalive;
}
