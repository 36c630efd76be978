/* fuzz_icmp.c - libFuzzer target for ICMP errors about the gateway's datagrams: the
 * input's first bytes choose the error's kind, family and path MTU, the rest is the
 * quoted UDP payload. A small table holds associations the quotes may name, so the
 * verified path (building the quote and the ICMP for the internal host) is reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "icmp.h"

static struct assoc_table *tab;

static void setup(void)
{
	struct gw_addr in4, in6, r4, r6;
	struct assoc *a;

	tab = assoc_table_new(16);
	if (!tab || addr_parse("10.0.0.2", &in4) || addr_parse("fd00::2", &in6) ||
	    addr_parse("203.0.113.2", &r4) || addr_parse("2001:db8::2", &r6))
		abort();
	/* Tags and ports easy for the fuzzer to find: 0x01020304 etc. */
	a = assoc_create(tab, &in4, 5000, 5000, 7, 0x0a0b0c0d, 0x01020304, ASSOC_FROM_INSIDE, 1);
	assoc_path_get(a, &r4, 9899);
	a = assoc_create(tab, &in6, 5001, 49152, 7, 0x11121314, 0x21222324, ASSOC_FROM_INSIDE, 1);
	assoc_path_get(a, &r6, 9899);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum icmp_kind kinds[4] = { ICMP_KIND_OTHER, ICMP_KIND_UNREACH,
						 ICMP_KIND_TOO_BIG, ICMP_KIND_LOCAL_TOO_BIG };
	uint8_t out[ICMP_MAX_MSG + 64];
	struct gw_addr raddr, to;
	struct icmp_quote q;
	struct assoc *a = NULL;
	uint32_t mtu;
	int n;

	if (!tab)
		setup();
	if (size < 3)
		return 0;
	mtu = (uint32_t)data[1] << 8 | data[2];
	if (addr_parse(data[0] & 4 ? "2001:db8::2" : "203.0.113.2", &raddr))
		abort();
	icmp_classify(data[0], data[1], data[2], data[0] ^ data[1]);
	icmp_parse_quote(data + 3, size - 3, &q);
	n = icmp_translate(tab, kinds[data[0] & 3], mtu, &raddr, data + 3, size - 3, out,
			   sizeof(out), &a, &to);
	if (n > (int)sizeof(out))
		abort();
	if (n > 0 && (!a || to.family != raddr.family))
		abort();
	return 0;
}
