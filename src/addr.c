/* addr.c - IPv4 / IPv6 address helpers. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

bool addr_equal(const struct gw_addr *a, const struct gw_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
}

int addr_parse(const char *s, struct gw_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

const char *addr_format(const struct gw_addr *a, char *buf, size_t len)
{
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->bytes, buf, (socklen_t)len)) {
		if (len)
			snprintf(buf, len, "-");
	}
	return buf;
}

bool addr_in_prefix(const struct gw_addr *a, const struct gw_addr *prefix, unsigned plen)
{
	unsigned full, rem;

	if (a->family != prefix->family)
		return false;
	if (plen > (a->family == AF_INET ? 32u : 128u))
		return false;
	full = plen / 8;
	rem = plen % 8;
	if (memcmp(a->bytes, prefix->bytes, full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((a->bytes[full] & mask) != (prefix->bytes[full] & mask))
			return false;
	}
	return true;
}

void addr_from_v4(struct gw_addr *out, uint32_t be_addr)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->v4.s_addr = be_addr;
}

socklen_t addr_to_sockaddr(const struct gw_addr *a, uint16_t port, union gw_sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (a->family == AF_INET) {
		sa->v4.sin_family = AF_INET;
		sa->v4.sin_port = htons(port);
		sa->v4.sin_addr = a->v4;
		return sizeof(sa->v4);
	}
	if (a->family == AF_INET6) {
		sa->v6.sin6_family = AF_INET6;
		sa->v6.sin6_port = htons(port);
		sa->v6.sin6_addr = a->v6;
		return sizeof(sa->v6);
	}
	return 0;
}

void addr_from_sockaddr(const union gw_sockaddr *sa, struct gw_addr *a, uint16_t *port)
{
	uint16_t p = 0;

	memset(a, 0, sizeof(*a));
	if (sa->sa.sa_family == AF_INET) {
		a->family = AF_INET;
		a->v4 = sa->v4.sin_addr;
		p = ntohs(sa->v4.sin_port);
	} else if (sa->sa.sa_family == AF_INET6) {
		a->family = AF_INET6;
		a->v6 = sa->v6.sin6_addr;
		p = ntohs(sa->v6.sin6_port);
	}
	if (port)
		*port = p;
}

uint32_t addr_hash(const struct gw_addr *a, uint32_t seed)
{
	/* FNV-1a over the address bytes: cheap and good enough as one input of a key hash. */
	uint32_t h = 2166136261u ^ seed;
	size_t n = a->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < n; i++) {
		h ^= a->bytes[i];
		h *= 16777619u;
	}
	return h;
}
