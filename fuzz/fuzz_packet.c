/* fuzz_packet.c - libFuzzer target for everything a packet can reach: the first byte picks
 * the direction, the rest is a queued native packet (IP first), a packet to the gateway
 * itself (relay mode, IP first) or a UDP payload (SCTP first). Runs through the real translation core and a small association table that
 * persists across inputs, so sequences of packets build state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "pkt.h"
#include "xlate.h"

static struct gw_conf conf;
static struct assoc_table *tab;
static struct gw_stats st;
static uint64_t now_ms = 1000;

static void setup(void)
{
	struct conf_reader r;
	static const char *lines[] = {
		"internal 10.0.0.0/8",
		"internal fd00::/8",
		"encapsulate to any",
		"forward port 7 to 10.0.0.5",
		"forward port 8 to fd00::5 port 9",
		"max-associations 64",
		"relay port 3868 to 203.0.113.9 port 7",
		"relay port 2905 to 2001:db8::9 remote-udp-port 9900",
	};

	conf_read_init(&r, &conf, "fuzz");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (conf_read_line(&r, lines[i]) < 0)
			abort();
	if (conf_read_finish(&r) < 0)
		abort();
	tab = assoc_table_new(conf.max_assoc);
	if (!tab)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536 + 64];
	struct xlate_ctx x;
	struct xlate_result res;
	struct assoc_timeouts to = { 3000, 210000, 3000, 3000 };

	if (!tab)
		setup();
	if (size < 1 || size - 1 > 65536)
		return 0;
	static const struct ka_key key = { 0x0102030405060708ULL, 0x1112131415161718ULL };

	x = (struct xlate_ctx){ .conf = &conf, .tab = tab, .st = &st, .ka_key = &key };
	/* Now and then the keepalives due, as the timer sends them. */
	if ((data[0] & 0x1c) == 0x1c) {
		struct ka_send ks[8];
		struct assoc *cur = NULL;
		bool done;

		do
			ka_collect(tab, &key, now_ms, &cur, &done, ks, 8);
		while (!done);
	}
	/* Copy with headroom: the core writes in place, as the daemon's buffers allow. */
	memcpy(buf + 64, data + 1, size - 1);
	now_ms += 10;
	if (data[0] & 1) {
		struct gw_addr peer;

		addr_from_v4(&peer, htonl(0xcb007102u + (data[0] >> 5)));
		xlate_inbound(&x, &peer, (uint16_t)(9899 + (data[0] >> 6)), 0, buf + 64, size - 1,
			      now_ms, &res);
	} else if (data[0] & 2) {
		xlate_relay(&x, buf + 64, size - 1, now_ms, &res);
	} else {
		xlate_outbound(&x, buf + 64, size - 1, now_ms, &res);
	}
	if (res.verdict == XV_ENCAP || res.verdict == XV_INJECT) {
		/* Whatever leaves must be a well-formed SCTP packet inside the input buffer. */
		struct pkt_sctp s;

		if (res.sctp < buf + 64 || res.sctp + res.sctp_len > buf + 64 + size - 1)
			abort();
		if (pkt_parse_sctp(res.sctp, res.sctp_len, &s) != PKT_OK)
			abort();
	}
	if ((data[0] & 0x1e) == 0x1e)
		assoc_expire(tab, &to, now_ms + 300000);
	return 0;
}
