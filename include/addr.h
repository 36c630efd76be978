/* addr.h - an IPv4 or IPv6 address, used by every module. */
#ifndef SCTPGW_ADDR_H
#define SCTPGW_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

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

/* A socket address of either family: the one conversion between it and gw_addr. */
union gw_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};
/* a and port (host order) as a socket address; an all-zero address of a family is its
 * wildcard. Returns the length to pass with it, 0 when a has no family. */
socklen_t addr_to_sockaddr(const struct gw_addr *a, uint16_t port, union gw_sockaddr *sa);
/* The address and port (host order; port may be NULL) of sa; family 0 and port 0 when
 * sa is neither AF_INET nor AF_INET6. */
void addr_from_sockaddr(const union gw_sockaddr *sa, struct gw_addr *a, uint16_t *port);
uint32_t addr_hash(const struct gw_addr *a, uint32_t seed);

#endif
