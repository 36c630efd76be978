/* icmp.c - ICMP errors about the gateway's datagrams, translated for the internal host
 * (RFC 6951 5.5).
 *
 * The kernel hands us, per error, the UDP payload it quoted: our SCTP packet, often cut
 * short. Its ports and tag find the association; an error that names no association
 * with that tag cannot be verified and is not passed on. The internal host then gets an
 * error of its own protocol about the packet it sent: its address, its port, SCTP. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/errqueue.h>

#include "bytes.h"
#include "icmp.h"
#include "pkt.h"

#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define UDP_HDR_LEN 8
#define SCTP_PORTS_TAG_LEN 8 /* what an error must quote to be verified */
#define INIT_TAG_OFF 16      /* common header, chunk header, then the initiate tag */
#define ABORT_FLAG_T 0x01

#define ICMP4_DEST_UNREACH 3
#define ICMP4_PORT_UNREACH 3
#define ICMP4_PROT_UNREACH 2
#define ICMP4_FRAG_NEEDED 4
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PORT_UNREACH 4
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_PARAM_PROB 4
#define ICMP6_UNRECOGNIZED_NH 1
#define IP6_NEXT_HEADER_OFF 6 /* the field a parameter problem points at */
#define IPV4_MIN_MTU 68

/* RFC 1071 sum, not yet folded, so the IPv6 pseudo-header can be added in. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

enum icmp_kind icmp_classify(uint8_t origin, uint8_t type, uint8_t code, uint32_t errnum)
{
	switch (origin) {
	case SO_EE_ORIGIN_ICMP:
		if (type == ICMP4_DEST_UNREACH && code == ICMP4_PORT_UNREACH)
			return ICMP_KIND_UNREACH;
		if (type == ICMP4_DEST_UNREACH && code == ICMP4_FRAG_NEEDED)
			return ICMP_KIND_TOO_BIG;
		break;
	case SO_EE_ORIGIN_ICMP6:
		if (type == ICMP6_DEST_UNREACH && code == ICMP6_PORT_UNREACH)
			return ICMP_KIND_UNREACH;
		if (type == ICMP6_PACKET_TOO_BIG)
			return ICMP_KIND_TOO_BIG;
		break;
	case SO_EE_ORIGIN_LOCAL:
		if (errnum == EMSGSIZE)
			return ICMP_KIND_LOCAL_TOO_BIG;
		break;
	}
	return ICMP_KIND_OTHER;
}

int icmp_parse_quote(const uint8_t *sctp, size_t len, struct icmp_quote *q)
{
	memset(q, 0, sizeof(*q));
	if (!sctp || len < SCTP_PORTS_TAG_LEN)
		return -1;
	q->src_port = get16(sctp);
	q->dst_port = get16(sctp + 2);
	q->vtag = get32(sctp + 4);
	if (len >= SCTP_COMMON_HDR_LEN + 2) {
		q->has_chunk = true;
		q->chunk_type = sctp[SCTP_COMMON_HDR_LEN];
		q->chunk_flags = sctp[SCTP_COMMON_HDR_LEN + 1];
		if (q->chunk_type == SCTP_CT_INIT && len >= INIT_TAG_OFF + 4)
			q->init_tag = get32(sctp + INIT_TAG_OFF);
	}
	return 0;
}

/* The association one of our quoted packets belongs to, verified by its tag: outbound
 * packets carry the peer's tag (rtag); T-bit ABORT / SHUTDOWN-COMPLETE and INIT carry
 * the internal host's (itag; an INIT's is its initiate tag). NULL when none matches. */
static struct assoc *icmp_find_assoc(struct assoc_table *t, const struct icmp_quote *q)
{
	bool t_bit =
		q->has_chunk &&
		(q->chunk_type == SCTP_CT_ABORT || q->chunk_type == SCTP_CT_SHUTDOWN_COMPLETE) &&
		(q->chunk_flags & ABORT_FLAG_T);

	/* RFC 9260 8.5.1 / appendix C: an INIT has tag 0 and is verified by its
	 * initiate tag instead, which needs the chunk quoted. */
	if (q->vtag == 0) {
		if (!q->init_tag)
			return NULL;
		return assoc_lookup_remote(t, q->src_port, q->dst_port, q->init_tag, true);
	}
	return assoc_lookup_remote(t, q->src_port, q->dst_port, q->vtag, t_bit);
}

uint32_t icmp_inner_mtu(int family, uint32_t path_mtu, size_t inner_hdr_len)
{
	uint32_t outer = (family == AF_INET6 ? IPV6_HDR_LEN : IPV4_HDR_LEN) + UDP_HDR_LEN;

	if (path_mtu < outer + SCTP_COMMON_HDR_LEN || inner_hdr_len > 0xffff)
		return 0;
	path_mtu = path_mtu - outer + (uint32_t)inner_hdr_len;
	return path_mtu < IPV4_MIN_MTU ? 0 : path_mtu;
}

size_t icmp_build_error(uint8_t *buf, size_t cap, int family, enum icmp_kind kind, uint32_t mtu,
			const struct gw_addr *src, const struct gw_addr *dst, const uint8_t *quote,
			size_t qlen)
{
	size_t max = family == AF_INET6 ? ICMP_MAX_MSG6 : ICMP_MAX_MSG4;
	size_t len;

	if ((family != AF_INET && family != AF_INET6) || !quote)
		return 0;
	if (kind != ICMP_KIND_UNREACH && kind != ICMP_KIND_TOO_BIG)
		return 0;
	if (kind == ICMP_KIND_TOO_BIG && (!mtu || (family == AF_INET && mtu > 0xffff)))
		return 0;
	if (qlen > max - ICMP_HDR_LEN)
		qlen = max - ICMP_HDR_LEN;
	len = ICMP_HDR_LEN + qlen;
	if (cap < len)
		return 0;

	memset(buf, 0, ICMP_HDR_LEN);
	if (family == AF_INET) {
		buf[0] = ICMP4_DEST_UNREACH;
		buf[1] = kind == ICMP_KIND_UNREACH ? ICMP4_PROT_UNREACH : ICMP4_FRAG_NEEDED;
		if (kind == ICMP_KIND_TOO_BIG)
			put16(buf + 6, (uint16_t)mtu); /* RFC 1191: next-hop MTU, low half */
	} else if (kind == ICMP_KIND_UNREACH) {
		/* RFC 6951 5.5: the host's own SCTP stack is what cannot be reached. */
		buf[0] = ICMP6_PARAM_PROB;
		buf[1] = ICMP6_UNRECOGNIZED_NH;
		put32(buf + 4, IP6_NEXT_HEADER_OFF);
	} else {
		buf[0] = ICMP6_PACKET_TOO_BIG;
		put32(buf + 4, mtu);
	}
	memmove(buf + ICMP_HDR_LEN, quote, qlen);

	if (family == AF_INET) {
		put16(buf + 2, fold(sum16(0, buf, len)));
	} else if (src && dst && src->family == AF_INET6 && dst->family == AF_INET6) {
		/* RFC 8200 8.1 pseudo-header: addresses, length, next header 58. */
		uint32_t s = sum16(0, src->bytes, 16);

		s = sum16(s, dst->bytes, 16);
		s += (uint32_t)len;
		s += 58;
		put16(buf + 2, fold(sum16(s, buf, len)));
	}
	return len;
}

size_t icmp_build_quote(uint8_t *buf, size_t cap, const struct gw_addr *iaddr,
			const struct gw_addr *raddr, uint16_t iport, const uint8_t *sctp,
			size_t quoted_len, size_t sctp_len)
{
	size_t hl;

	if (iaddr->family != raddr->family || quoted_len < SCTP_PORTS_TAG_LEN)
		return 0;
	hl = raddr->family == AF_INET6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	if (sctp_len < quoted_len)
		sctp_len = quoted_len;
	if (cap < hl + quoted_len)
		quoted_len = cap >= hl + SCTP_PORTS_TAG_LEN ? cap - hl : 0;
	if (!quoted_len)
		return 0;
	/* TTL 64: the host's real TTL never reached us; receivers do not check it. */
	if (hl == IPV4_HDR_LEN)
		hl = pkt_build_ipv4(buf, iaddr, raddr, 0, 64, IPPROTO_SCTP_NUM, sctp_len);
	else
		hl = pkt_build_ipv6(buf, iaddr, raddr, 0, 64, IPPROTO_SCTP_NUM, sctp_len);
	if (!hl)
		return 0;
	memmove(buf + hl, sctp, quoted_len);
	put16(buf + hl, iport);
	return hl + quoted_len;
}

int icmp_translate(struct assoc_table *t, enum icmp_kind kind, uint32_t path_mtu,
		   const struct gw_addr *raddr, const uint8_t *payload, size_t len, uint8_t *buf,
		   size_t cap, struct assoc **ap, struct gw_addr *to)
{
	uint8_t quote[ICMP_MAX_MSG];
	const struct gw_addr *qdst;
	struct icmp_quote q;
	struct assoc *a;
	uint32_t mtu = 0;
	size_t ql, hl = raddr->family == AF_INET6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	size_t n;

	*ap = NULL;
	if (kind != ICMP_KIND_UNREACH && kind != ICMP_KIND_TOO_BIG)
		return ICMP_ERR_KIND;
	if (icmp_parse_quote(payload, len, &q) < 0)
		return ICMP_ERR_SHORT;
	a = icmp_find_assoc(t, &q);
	if (!a)
		return ICMP_ERR_NO_ASSOC;
	/* A relay association's host sent its packet to the gateway, not to the peer. */
	qdst = a->relay_port ? &a->relay_addr : raddr;
	if (a->iaddr.family != raddr->family || qdst->family != raddr->family)
		return ICMP_ERR_FAMILY;
	if (kind == ICMP_KIND_TOO_BIG) {
		mtu = icmp_inner_mtu(raddr->family, path_mtu, hl);
		if (!mtu)
			return ICMP_ERR_MTU;
	}
	/* The quoted length is all we know of the packet's: the UDP header that had the
	 * full length is not handed to us. */
	ql = icmp_build_quote(quote, sizeof(quote), &a->iaddr, qdst, a->iport, payload, len, len);
	if (!ql)
		return ICMP_ERR_SPACE;
	if (a->relay_port)
		put16(quote + hl + 2, a->relay_port);
	n = icmp_build_error(buf, cap, raddr->family, kind, mtu, NULL, NULL, quote, ql);
	if (!n)
		return ICMP_ERR_SPACE;
	*ap = a;
	*to = a->iaddr;
	return (int)n;
}

int icmp_too_big_reply(const struct assoc *a, const uint8_t *ip, size_t len, uint32_t path_mtu,
		       uint8_t *buf, size_t cap)
{
	uint8_t quote[ICMP_MAX_MSG];
	struct pkt_ip iph;
	uint32_t mtu;
	size_t ql, n;

	if (pkt_parse_ip(ip, len, &iph) != PKT_OK || iph.proto != IPPROTO_SCTP_NUM)
		return ICMP_ERR_SHORT;
	if ((size_t)iph.total_len < (size_t)iph.hdr_len + SCTP_PORTS_TAG_LEN)
		return ICMP_ERR_SHORT;
	if (iph.src.family != a->iaddr.family)
		return ICMP_ERR_FAMILY;
	mtu = icmp_inner_mtu(iph.src.family, path_mtu, iph.hdr_len);
	if (!mtu)
		return ICMP_ERR_MTU;
	/* The packet as the host sent it: only the ports may have been translated since
	 * (address parameters are stripped from INIT chunks, beyond the part that matters). */
	ql = iph.total_len < sizeof(quote) ? iph.total_len : sizeof(quote);
	memcpy(quote, ip, ql);
	put16(quote + iph.hdr_len, a->iport);
	/* A relay association's packet had its destination port rewritten (P -> Q). */
	if (a->relay_port)
		put16(quote + iph.hdr_len + 2, a->relay_port);
	n = icmp_build_error(buf, cap, iph.src.family, ICMP_KIND_TOO_BIG, mtu, NULL, NULL, quote,
			     ql);
	return n ? (int)n : ICMP_ERR_SPACE;
}
