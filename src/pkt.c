/* pkt.c - pure parsing and building of IPv4 / IPv6 headers and SCTP packets.
 *
 * Every read is bounds-checked against the length the caller gives; nothing here keeps
 * state, allocates or logs, so tests and fuzzers call it directly. */
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "crc32c.h"
#include "pkt.h"

#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define CHUNK_HDR_LEN 4
#define INIT_FIXED_LEN 20 /* chunk header + tag, a_rwnd, streams, initial TSN */
#define PARAM_HDR_LEN 4
#define SCTP_CKSUM_OFF 8
#define ABORT_FLAG_T 0x01

/* IPv6 extension headers we step over (RFC 8200 4.1). */
#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_DSTOPTS 60

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static const char *const pkt_errstr[PKT_ERR_COUNT] = {
	[0] = "ok",
	[-PKT_ERR_IP_SHORT] = "shorter than the IP header",
	[-PKT_ERR_IP_VERSION] = "not IPv4 or IPv6",
	[-PKT_ERR_IP_HDRLEN] = "bad IPv4 header length",
	[-PKT_ERR_IP_TOTLEN] = "IP length disagrees with the packet",
	[-PKT_ERR_IP_FRAGMENT] = "IP fragment",
	[-PKT_ERR_NOT_SCTP] = "not SCTP",
	[-PKT_ERR_SCTP_SHORT] = "shorter than the SCTP common header",
	[-PKT_ERR_NO_CHUNK] = "SCTP packet without chunks",
	[-PKT_ERR_CHUNK_LEN] = "bad SCTP chunk length",
	[-PKT_ERR_INIT_LEN] = "INIT or INIT-ACK chunk too short",
	[-PKT_ERR_INIT_PARAM] = "bad INIT or INIT-ACK parameter length",
	[-PKT_ERR_INIT_BUNDLED] = "INIT or INIT-ACK bundled with other chunks",
	[-PKT_ERR_INIT_VTAG] = "INIT with non-zero verification tag",
	[-PKT_ERR_INIT_TAG0] = "initiate tag 0",
	[-PKT_ERR_ZERO_VTAG] = "verification tag 0 outside INIT",
	[-PKT_ERR_PORT0] = "SCTP port 0",
};

const char *pkt_strerror(int err)
{
	if (err > 0 || err <= -PKT_ERR_COUNT)
		return "unknown packet error";
	return pkt_errstr[-err];
}

static int parse_ipv4(const uint8_t *buf, size_t len, struct pkt_ip *ip)
{
	size_t ihl, tot;
	uint16_t frag;

	if (len < IPV4_HDR_LEN)
		return PKT_ERR_IP_SHORT;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_LEN || ihl > len)
		return PKT_ERR_IP_HDRLEN;
	tot = get16(buf + 2);
	/* A shorter total length is fine (link-layer padding); a longer one is truncation. */
	if (tot < ihl || tot > len)
		return PKT_ERR_IP_TOTLEN;
	frag = get16(buf + 6);
	if (frag & 0x3fff) /* MF or a fragment offset */
		return PKT_ERR_IP_FRAGMENT;

	ip->version = 4;
	ip->tos = buf[1];
	ip->ttl = buf[8];
	ip->proto = buf[9];
	ip->hdr_len = (uint16_t)ihl;
	ip->total_len = (uint16_t)tot;
	memset(&ip->src, 0, sizeof(ip->src));
	memset(&ip->dst, 0, sizeof(ip->dst));
	ip->src.family = AF_INET;
	ip->dst.family = AF_INET;
	memcpy(&ip->src.v4, buf + 12, 4);
	memcpy(&ip->dst.v4, buf + 16, 4);
	return PKT_OK;
}

static int parse_ipv6(const uint8_t *buf, size_t len, struct pkt_ip *ip)
{
	size_t tot, off = IPV6_HDR_LEN;
	uint8_t nh;

	if (len < IPV6_HDR_LEN)
		return PKT_ERR_IP_SHORT;
	tot = IPV6_HDR_LEN + (size_t)get16(buf + 4);
	/* total_len is 16 bits: an IPv6 packet above 65535 bytes cannot come through here
	 * (jumbograms need payload length 0 and a hop-by-hop option, also refused). */
	if (tot > len || tot > UINT16_MAX)
		return PKT_ERR_IP_TOTLEN;
	nh = buf[6];
	for (;;) {
		if (nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING || nh == IP6_NH_DSTOPTS) {
			size_t el;

			if (off + 2 > tot)
				return PKT_ERR_IP_TOTLEN;
			el = ((size_t)buf[off + 1] + 1) * 8;
			if (off + el > tot)
				return PKT_ERR_IP_TOTLEN;
			nh = buf[off];
			off += el;
		} else if (nh == IP6_NH_FRAGMENT) {
			if (off + 8 > tot)
				return PKT_ERR_IP_TOTLEN;
			/* An atomic fragment (RFC 6946: offset 0, M clear) is a whole packet. */
			if (get16(buf + off + 2) & 0xfff9)
				return PKT_ERR_IP_FRAGMENT;
			nh = buf[off];
			off += 8;
		} else {
			break;
		}
	}

	ip->version = 6;
	ip->tos = (uint8_t)(get32(buf) >> 20);
	ip->ttl = buf[7];
	ip->proto = nh;
	ip->hdr_len = (uint16_t)off;
	ip->total_len = (uint16_t)tot;
	memset(&ip->src, 0, sizeof(ip->src));
	memset(&ip->dst, 0, sizeof(ip->dst));
	ip->src.family = AF_INET6;
	ip->dst.family = AF_INET6;
	memcpy(&ip->src.v6, buf + 8, 16);
	memcpy(&ip->dst.v6, buf + 24, 16);
	return PKT_OK;
}

int pkt_parse_ip(const uint8_t *buf, size_t len, struct pkt_ip *ip)
{
	if (len < 1)
		return PKT_ERR_IP_SHORT;
	switch (buf[0] >> 4) {
	case 4:
		return parse_ipv4(buf, len, ip);
	case 6:
		return parse_ipv6(buf, len, ip);
	default:
		return PKT_ERR_IP_VERSION;
	}
}

/* Check the parameters of an INIT / INIT-ACK chunk (c points at the chunk, clen is its
 * length) and count the address parameters. Parameters are padded to 4 bytes, except
 * that the last one's padding is not part of the chunk length (RFC 9260 3.2). */
static int parse_init_params(const uint8_t *c, size_t clen, uint16_t *naddr)
{
	size_t off = INIT_FIXED_LEN;
	unsigned n = 0;

	while (off < clen) {
		size_t plen;
		uint16_t type;

		if (off + PARAM_HDR_LEN > clen)
			return PKT_ERR_INIT_PARAM;
		type = get16(c + off);
		plen = get16(c + off + 2);
		if (plen < PARAM_HDR_LEN || off + plen > clen)
			return PKT_ERR_INIT_PARAM;
		if (type == SCTP_PARAM_IPV4 || type == SCTP_PARAM_IPV6)
			n++;
		off += pad4(plen);
	}
	*naddr = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
	return PKT_OK;
}

/* One chunk of the walk in pkt_parse_sctp, c at offset off, clen long (checked). */
static int parse_chunk(struct pkt_sctp *s, const uint8_t *c, size_t off, size_t clen,
		       bool *init_seen)
{
	uint8_t type = c[0], flags = c[1];

	if (s->nchunks == 0) {
		s->first_chunk = type;
		s->first_flags = flags;
	}
	s->nchunks++;
	if (type < 32)
		s->chunk_mask |= 1u << type;
	switch (type) {
	case SCTP_CT_INIT:
	case SCTP_CT_INIT_ACK:
		if (*init_seen || s->nchunks > 1)
			return PKT_ERR_INIT_BUNDLED;
		*init_seen = true;
		if (clen < INIT_FIXED_LEN)
			return PKT_ERR_INIT_LEN;
		s->init_tag = get32(c + 4);
		s->init_off = (uint16_t)off;
		s->init_len = (uint16_t)clen;
		return parse_init_params(c, clen, &s->addr_params);
	case SCTP_CT_ABORT:
	case SCTP_CT_SHUTDOWN_COMPLETE:
		if (flags & ABORT_FLAG_T)
			s->t_bit = true;
		break;
	default:
		break;
	}
	return PKT_OK;
}

/* The rules on a whole packet's chunks and tags, once the walk is done. */
static int check_chunks(const struct pkt_sctp *s, bool init_seen)
{
	/* RFC 9260 6.10: INIT and INIT-ACK travel alone. */
	if (init_seen && s->nchunks > 1)
		return PKT_ERR_INIT_BUNDLED;
	if (s->first_chunk == SCTP_CT_INIT) {
		if (s->vtag != 0)
			return PKT_ERR_INIT_VTAG;
	} else if (s->vtag == 0) {
		/* Only an INIT may carry tag 0; even a T-bit ABORT reflects a real tag. */
		return PKT_ERR_ZERO_VTAG;
	}
	if (init_seen && s->init_tag == 0)
		return PKT_ERR_INIT_TAG0;
	return PKT_OK;
}

int pkt_parse_sctp(const uint8_t *buf, size_t len, struct pkt_sctp *s)
{
	size_t off = SCTP_COMMON_HDR_LEN;
	bool init_seen = false;
	int err;

	memset(s, 0, sizeof(*s));
	if (len < SCTP_COMMON_HDR_LEN)
		return PKT_ERR_SCTP_SHORT;
	s->src_port = get16(buf);
	s->dst_port = get16(buf + 2);
	s->vtag = get32(buf + 4);
	if (s->src_port == 0 || s->dst_port == 0)
		return PKT_ERR_PORT0;
	if (len == SCTP_COMMON_HDR_LEN)
		return PKT_ERR_NO_CHUNK;
	/* uint16_t offsets in struct pkt_sctp: no SCTP packet exceeds an IP packet. */
	if (len > UINT16_MAX)
		return PKT_ERR_CHUNK_LEN;

	while (off < len) {
		size_t clen;

		if (off + CHUNK_HDR_LEN > len)
			return PKT_ERR_CHUNK_LEN;
		clen = get16(buf + off + 2);
		if (clen < CHUNK_HDR_LEN || off + clen > len)
			return PKT_ERR_CHUNK_LEN;
		err = parse_chunk(s, buf + off, off, clen, &init_seen);
		if (err)
			return err;
		/* Every chunk but the last is padded to 4 bytes; a last chunk without its
		 * padding is tolerated, as receivers do. */
		off += pad4(clen);
	}
	return check_chunks(s, init_seen);
}

uint32_t pkt_sctp_checksum(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t crc;

	if (len < SCTP_COMMON_HDR_LEN)
		return 0;
	crc = crc32c(0, buf, SCTP_CKSUM_OFF);
	crc = crc32c(crc, zero, sizeof(zero));
	return crc32c(crc, buf + SCTP_COMMON_HDR_LEN, len - SCTP_COMMON_HDR_LEN);
}

/* The CRC goes on the wire least significant byte first (RFC 9260 appendix B; Linux
 * stores cpu_to_le32 of it), unlike every other SCTP field. */
static uint32_t get_cksum_field(const uint8_t *buf)
{
	const uint8_t *p = buf + SCTP_CKSUM_OFF;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool pkt_sctp_checksum_ok(const uint8_t *buf, size_t len)
{
	if (len < SCTP_COMMON_HDR_LEN)
		return false;
	return get_cksum_field(buf) == pkt_sctp_checksum(buf, len);
}

bool pkt_sctp_checksum_zero(const uint8_t *buf, size_t len)
{
	return len >= SCTP_COMMON_HDR_LEN && get_cksum_field(buf) == 0;
}

void pkt_sctp_set_checksum(uint8_t *buf, size_t len)
{
	uint32_t crc;

	if (len < SCTP_COMMON_HDR_LEN)
		return;
	crc = pkt_sctp_checksum(buf, len);
	buf[SCTP_CKSUM_OFF] = (uint8_t)crc;
	buf[SCTP_CKSUM_OFF + 1] = (uint8_t)(crc >> 8);
	buf[SCTP_CKSUM_OFF + 2] = (uint8_t)(crc >> 16);
	buf[SCTP_CKSUM_OFF + 3] = (uint8_t)(crc >> 24);
}

static uint16_t ipv4_hdr_checksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(hdr + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t pkt_build_ipv4(uint8_t *hdr, const struct gw_addr *src, const struct gw_addr *dst,
		      uint8_t tos, uint8_t ttl, uint8_t proto, size_t payload_len)
{
	if (payload_len > UINT16_MAX - IPV4_HDR_LEN || src->family != AF_INET ||
	    dst->family != AF_INET)
		return 0;
	hdr[0] = 0x45;
	hdr[1] = tos;
	put16(hdr + 2, (uint16_t)(IPV4_HDR_LEN + payload_len));
	put16(hdr + 4, 0);      /* id: DF is set, so it never names fragments */
	put16(hdr + 6, 0x4000); /* DF */
	hdr[8] = ttl;
	hdr[9] = proto;
	put16(hdr + 10, 0);
	memcpy(hdr + 12, &src->v4, 4);
	memcpy(hdr + 16, &dst->v4, 4);
	put16(hdr + 10, ipv4_hdr_checksum(hdr, IPV4_HDR_LEN));
	return IPV4_HDR_LEN;
}

size_t pkt_build_ipv6(uint8_t *hdr, const struct gw_addr *src, const struct gw_addr *dst,
		      uint8_t tclass, uint8_t hop_limit, uint8_t proto, size_t payload_len)
{
	if (payload_len > UINT16_MAX || src->family != AF_INET6 || dst->family != AF_INET6)
		return 0;
	put32(hdr, 6u << 28 | (uint32_t)tclass << 20); /* flow label 0 */
	put16(hdr + 4, (uint16_t)payload_len);
	hdr[6] = proto;
	hdr[7] = hop_limit;
	memcpy(hdr + 8, &src->v6, 16);
	memcpy(hdr + 24, &dst->v6, 16);
	return IPV6_HDR_LEN;
}

size_t pkt_build_abort(uint8_t *buf, size_t cap, uint16_t src_port, uint16_t dst_port,
		       uint32_t vtag, bool t_bit, uint16_t cause)
{
	size_t clen = CHUNK_HDR_LEN + (cause ? 4 : 0);
	size_t len = SCTP_COMMON_HDR_LEN + clen;
	uint8_t *c = buf + SCTP_COMMON_HDR_LEN;

	if (cap < len)
		return 0;
	put16(buf, src_port);
	put16(buf + 2, dst_port);
	put32(buf + 4, vtag);
	put32(buf + SCTP_CKSUM_OFF, 0);
	c[0] = SCTP_CT_ABORT;
	c[1] = t_bit ? ABORT_FLAG_T : 0;
	put16(c + 2, (uint16_t)clen);
	if (cause) {
		/* Cause code and length only: no cause-specific data is needed for the
		 * causes we send. */
		put16(c + 4, cause);
		put16(c + 6, 4);
	}
	pkt_sctp_set_checksum(buf, len);
	return len;
}

int pkt_sctp_strip_addr_params(uint8_t *buf, size_t len, unsigned *removed)
{
	struct pkt_sctp s;
	size_t off, cend, r, w, last_end, old_end, new_end, tail;
	unsigned n = 0;
	uint8_t *c;
	int err;

	if (removed)
		*removed = 0;
	err = pkt_parse_sctp(buf, len, &s);
	if (err)
		return err;
	if (!s.init_off || !s.addr_params)
		return (int)len;

	off = s.init_off;
	c = buf + off;
	cend = s.init_len;
	r = w = last_end = INIT_FIXED_LEN;
	/* Compact the kept parameters toward the front; pkt_parse_sctp has already
	 * checked every parameter length, so the walk stays inside the chunk. */
	while (r < cend) {
		size_t plen = get16(c + r + 2);
		size_t next = pad4(plen) < cend - r ? r + pad4(plen) : cend;
		uint16_t type = get16(c + r);

		if (type == SCTP_PARAM_IPV4 || type == SCTP_PARAM_IPV6) {
			n++;
		} else {
			memmove(c + w, c + r, next - r);
			last_end = w + plen;
			w += next - r;
		}
		r = next;
	}
	/* The chunk length ends at the last kept parameter without its padding. */
	put16(c + 2, (uint16_t)last_end);
	new_end = off + pad4(last_end);
	memset(buf + off + last_end, 0, new_end - (off + last_end));
	old_end = off + pad4(cend) < len ? off + pad4(cend) : len;
	tail = len - old_end;
	memmove(buf + new_end, buf + old_end, tail);
	if (removed)
		*removed = n;
	return (int)(new_end + tail);
}

unsigned pkt_sctp_init_addrs(const uint8_t *buf, const struct pkt_sctp *s, struct gw_addr *out,
			     unsigned max)
{
	const uint8_t *c = buf + s->init_off;
	size_t off = INIT_FIXED_LEN;
	unsigned n = 0;

	if (!s->init_off || !s->addr_params)
		return 0;
	/* pkt_parse_sctp checked every parameter length against the chunk. */
	while (off + PARAM_HDR_LEN <= s->init_len && n < max) {
		uint16_t type = get16(c + off);
		size_t plen = get16(c + off + 2);

		if (plen < PARAM_HDR_LEN)
			break;
		if (type == SCTP_PARAM_IPV4 && plen == PARAM_HDR_LEN + 4) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].family = AF_INET;
			memcpy(out[n].bytes, c + off + PARAM_HDR_LEN, 4);
			n++;
		} else if (type == SCTP_PARAM_IPV6 && plen == PARAM_HDR_LEN + 16) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].family = AF_INET6;
			memcpy(out[n].bytes, c + off + PARAM_HDR_LEN, 16);
			n++;
		}
		off += pad4(plen);
	}
	return n;
}
