/* fuzz_keepalive.c - libFuzzer target for the keepalive answers' absorption and the
 * INIT address lists: the input is an SCTP packet from outside. Whatever is removed,
 * what is left must still parse when anything is left, and never grow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keepalive.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ka_key key = { 1, 2 };
	static const struct ka_binding b = { 1, 5000, 7, 0x01020304 };
	struct gw_addr addrs[8];
	struct ka_ack acks[2];
	struct pkt_sctp s;
	unsigned left, removed;
	uint8_t *buf;
	size_t len = size;

	if (size > 65535)
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (pkt_parse_sctp(buf, len, &s) == PKT_OK) {
		if (pkt_sctp_init_addrs(buf, &s, addrs, 8) > 8)
			abort();
		removed = ka_absorb_acks(buf, &len, &key, &b, 1000, 60000, acks, 2, &left);
		if (len > size || (removed && len == size))
			abort();
		/* Chunks went whole: what is left is a packet again (or only the header). */
		if (removed && left && pkt_parse_sctp(buf, len, &s) != PKT_OK &&
		    s.first_chunk != SCTP_CT_INIT)
			abort();
	}
	free(buf);
	return 0;
}
