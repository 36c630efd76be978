/* pktgen.c - packet building for unit tests; see pktgen.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "pktgen.h"

static void pg_fail(const char *what)
{
	fprintf(stderr, "pktgen: %s\n", what);
	abort();
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Append raw bytes to a chunk's value. */
static void pg_put(struct pktgen_chunk *c, const void *data, size_t len)
{
	if (len > (size_t)PKTGEN_CHUNK_MAX - c->len)
		pg_fail("chunk value too long");
	if (len)
		memcpy(c->value + c->len, data, len);
	c->len = (uint16_t)(c->len + len);
}

static void pg_put32(struct pktgen_chunk *c, uint32_t v)
{
	uint8_t b[4];

	wr32(b, v);
	pg_put(c, b, 4);
}

struct pktgen_chunk pktgen_raw(uint8_t type, uint8_t flags, const void *value, size_t len)
{
	struct pktgen_chunk c = { .type = type, .flags = flags };

	pg_put(&c, value, len);
	return c;
}

void pktgen_add_param(struct pktgen_chunk *c, uint16_t type, const void *value, size_t len)
{
	static const uint8_t zero[3];
	uint8_t h[4];

	if (len > 0xffff - 4)
		pg_fail("parameter too long");
	/* Pad the previous parameter here rather than after each one: the last
	 * parameter's padding is chunk padding, outside the chunk length (RFC 9260 3.2). */
	pg_put(c, zero, (4 - c->len % 4) % 4);
	wr16(h, type);
	wr16(h + 2, (uint16_t)(4 + len));
	pg_put(c, h, 4);
	pg_put(c, value, len);
}

void pktgen_add_addr(struct pktgen_chunk *c, const char *addr)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		pktgen_add_param(c, 5, a, 4);
	else if (inet_pton(AF_INET6, addr, a) == 1)
		pktgen_add_param(c, 6, a, 16);
	else
		pg_fail("bad address");
}

static struct pktgen_chunk pg_init_common(uint8_t type, uint32_t itag, uint32_t a_rwnd, uint16_t os,
					  uint16_t mis, uint32_t tsn, const char *const *addrs,
					  unsigned naddrs)
{
	struct pktgen_chunk c = { .type = type };
	uint8_t b[4];

	pg_put32(&c, itag);
	pg_put32(&c, a_rwnd);
	wr16(b, os);
	wr16(b + 2, mis);
	pg_put(&c, b, 4);
	pg_put32(&c, tsn);
	for (unsigned i = 0; i < naddrs; i++)
		pktgen_add_addr(&c, addrs[i]);
	return c;
}

struct pktgen_chunk pktgen_init(uint32_t itag, uint32_t a_rwnd, uint16_t os, uint16_t mis,
				uint32_t tsn, const char *const *addrs, unsigned naddrs)
{
	return pg_init_common(1, itag, a_rwnd, os, mis, tsn, addrs, naddrs);
}

struct pktgen_chunk pktgen_init_ack(uint32_t itag, uint32_t a_rwnd, uint16_t os, uint16_t mis,
				    uint32_t tsn, const char *const *addrs, unsigned naddrs,
				    const void *cookie, size_t cookie_len)
{
	struct pktgen_chunk c = pg_init_common(2, itag, a_rwnd, os, mis, tsn, addrs, naddrs);

	if (cookie_len)
		pktgen_add_param(&c, 7, cookie, cookie_len);
	return c;
}

struct pktgen_chunk pktgen_data(uint32_t tsn, uint16_t sid, uint16_t ssn, uint32_t ppid,
				const void *payload, size_t len)
{
	struct pktgen_chunk c = { .type = 0, .flags = 0x03 };
	uint8_t b[4];

	pg_put32(&c, tsn);
	wr16(b, sid);
	wr16(b + 2, ssn);
	pg_put(&c, b, 4);
	pg_put32(&c, ppid);
	pg_put(&c, payload, len);
	return c;
}

struct pktgen_chunk pktgen_sack(uint32_t cum_tsn, uint32_t a_rwnd)
{
	struct pktgen_chunk c = { .type = 3 };

	pg_put32(&c, cum_tsn);
	pg_put32(&c, a_rwnd);
	pg_put32(&c, 0); /* no gap blocks, no duplicates */
	return c;
}

struct pktgen_chunk pktgen_abort(bool t_bit)
{
	return pktgen_raw(6, t_bit ? 0x01 : 0, NULL, 0);
}

struct pktgen_chunk pktgen_shutdown(uint32_t cum_tsn)
{
	struct pktgen_chunk c = { .type = 7 };

	pg_put32(&c, cum_tsn);
	return c;
}

struct pktgen_chunk pktgen_shutdown_ack(void)
{
	return pktgen_raw(8, 0, NULL, 0);
}

struct pktgen_chunk pktgen_shutdown_complete(bool t_bit)
{
	return pktgen_raw(14, t_bit ? 0x01 : 0, NULL, 0);
}

struct pktgen_chunk pktgen_cookie_echo(const void *cookie, size_t len)
{
	return pktgen_raw(10, 0, cookie, len);
}

struct pktgen_chunk pktgen_cookie_ack(void)
{
	return pktgen_raw(11, 0, NULL, 0);
}

struct pktgen_chunk pktgen_heartbeat(const void *info, size_t len)
{
	struct pktgen_chunk c = { .type = 4 };

	pktgen_add_param(&c, 1, info, len);
	return c;
}

struct pktgen_chunk pktgen_heartbeat_ack(const void *info, size_t len)
{
	struct pktgen_chunk c = { .type = 5 };

	pktgen_add_param(&c, 1, info, len);
	return c;
}

void pktgen_sctp_fix_crc(uint8_t *sctp, size_t len)
{
	uint32_t crc;

	if (len < 12)
		return;
	memset(sctp + 8, 0, 4);
	crc = crc32c(0, sctp, len);
	/* The one little-endian field of SCTP. */
	sctp[8] = (uint8_t)crc;
	sctp[9] = (uint8_t)(crc >> 8);
	sctp[10] = (uint8_t)(crc >> 16);
	sctp[11] = (uint8_t)(crc >> 24);
}

size_t pktgen_sctp(uint8_t *buf, size_t cap, uint16_t sport, uint16_t dport, uint32_t vtag,
		   const struct pktgen_chunk *chunks, unsigned n)
{
	size_t len = 12;

	if (cap < len)
		return 0;
	wr16(buf, sport);
	wr16(buf + 2, dport);
	wr32(buf + 4, vtag);
	for (unsigned i = 0; i < n; i++) {
		const struct pktgen_chunk *c = &chunks[i];
		size_t clen = 4 + (size_t)c->len, padded = (clen + 3) & ~(size_t)3;

		if (cap - len < padded)
			return 0;
		buf[len] = c->type;
		buf[len + 1] = c->flags;
		wr16(buf + len + 2, (uint16_t)clen);
		memcpy(buf + len + 4, c->value, c->len);
		memset(buf + len + clen, 0, padded - clen);
		len += padded;
	}
	pktgen_sctp_fix_crc(buf, len);
	return len;
}

static uint16_t pg_ipsum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t pktgen_ipv4(uint8_t *buf, size_t cap, size_t len, const char *src, const char *dst,
		   uint8_t tos)
{
	if (len > 65535 - 20 || cap < len + 20)
		return 0;
	memmove(buf + 20, buf, len);
	memset(buf, 0, 20);
	buf[0] = 0x45;
	buf[1] = tos;
	wr16(buf + 2, (uint16_t)(len + 20));
	buf[6] = 0x40; /* DF */
	buf[8] = 64;
	buf[9] = 132;
	if (inet_pton(AF_INET, src, buf + 12) != 1 || inet_pton(AF_INET, dst, buf + 16) != 1)
		pg_fail("bad IPv4 address");
	wr16(buf + 10, pg_ipsum(buf, 20));
	return len + 20;
}

size_t pktgen_ipv6(uint8_t *buf, size_t cap, size_t len, const char *src, const char *dst,
		   uint8_t tclass)
{
	if (len > 65535 || cap < len + 40)
		return 0;
	memmove(buf + 40, buf, len);
	memset(buf, 0, 40);
	buf[0] = (uint8_t)(0x60 | tclass >> 4);
	buf[1] = (uint8_t)(tclass << 4);
	wr16(buf + 4, (uint16_t)len);
	buf[6] = 132;
	buf[7] = 64;
	if (inet_pton(AF_INET6, src, buf + 8) != 1 || inet_pton(AF_INET6, dst, buf + 24) != 1)
		pg_fail("bad IPv6 address");
	return len + 40;
}
