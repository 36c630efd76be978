/* addr.h - an IPv4 or IPv6 address, used by every module. */
#ifndef SCTPGW_ADDR_H
#define SCTPGW_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_addr {
	uint8_t family; /* AF_INET or AF_INET6; 0 = unset */
	uint8_t pad[3];
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

#define GW_ADDRSTRLEN INET6_ADDRSTRLEN

bool addr_equal(const struct gw_addr *a, const struct gw_addr *b);
/* Parse a numeric IPv4 or IPv6 address; 0 on success, -1 on error. */
int addr_parse(const char *s, struct gw_addr *out);
/* Format into buf (at least GW_ADDRSTRLEN bytes); returns buf. */
const char *addr_format(const struct gw_addr *a, char *buf, size_t len);
/* True when the first plen bits of a equal those of prefix (same family). */
bool addr_in_prefix(const struct gw_addr *a, const struct gw_addr *prefix, unsigned plen);
void addr_from_v4(struct gw_addr *out, uint32_t be_addr);
uint32_t addr_hash(const struct gw_addr *a, uint32_t seed);

#endif
