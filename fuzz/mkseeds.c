/* mkseeds.c - write the seed corpus of fuzz_packet (fuzz/corpus/packet) with pktgen:
 * one file per packet kind, first byte 0 = queued native packet, 1 = UDP payload. */
#include <stdio.h>
#include <stdlib.h>

#include "pktgen.h"

static uint8_t buf[PKTGEN_MAX + 1];

static void emit(const char *dir, const char *name, uint8_t kind, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || len == 0)
		exit(1);
	buf[0] = kind;
	fwrite(buf, 1, len + 1, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "fuzz/corpus/packet";
	const char *addrs[] = { "10.1.2.3", "fd00::3" };
	struct pktgen_chunk c[2];
	uint8_t *p = buf + 1;
	size_t n;

	c[0] = pktgen_init(0x1111, 65536, 10, 10, 1, addrs, 2);
	n = pktgen_sctp(p, PKTGEN_MAX, 5000, 7, 0, c, 1);
	emit(dir, "out-init-v4", 0, pktgen_ipv4(p, PKTGEN_MAX, n, "10.1.2.3", "203.0.113.2", 0));
	n = pktgen_sctp(p, PKTGEN_MAX, 5000, 7, 0, c, 1);
	emit(dir, "out-init-v6", 0, pktgen_ipv6(p, PKTGEN_MAX, n, "fd00::3", "2001:db8::2", 0));
	c[0] = pktgen_init_ack(0x2222, 65536, 10, 10, 1, NULL, 0, "cookie", 6);
	emit(dir, "in-init-ack", 1, pktgen_sctp(p, PKTGEN_MAX, 7, 5000, 0x1111, c, 1));
	c[0] = pktgen_init(0x3333, 65536, 10, 10, 1, addrs, 1);
	emit(dir, "in-init-fwd", 1, pktgen_sctp(p, PKTGEN_MAX, 6000, 7, 0, c, 1));
	c[0] = pktgen_cookie_echo("cookie", 6);
	c[1] = pktgen_data(1, 0, 0, 0, "hello", 5);
	n = pktgen_sctp(p, PKTGEN_MAX, 5000, 7, 0x2222, c, 2);
	emit(dir, "out-cookie-data", 0,
	     pktgen_ipv4(p, PKTGEN_MAX, n, "10.1.2.3", "203.0.113.2", 0));
	c[0] = pktgen_cookie_ack();
	c[1] = pktgen_sack(1, 65536);
	emit(dir, "in-cookie-ack-sack", 1, pktgen_sctp(p, PKTGEN_MAX, 7, 5000, 0x1111, c, 2));
	c[0] = pktgen_data(2, 1, 1, 46, "diameter", 8);
	emit(dir, "in-data", 1, pktgen_sctp(p, PKTGEN_MAX, 7, 5000, 0x1111, c, 1));
	c[0] = pktgen_heartbeat("hb-info", 7);
	emit(dir, "in-heartbeat", 1, pktgen_sctp(p, PKTGEN_MAX, 7, 5000, 0x1111, c, 1));
	c[0] = pktgen_abort(true);
	emit(dir, "in-abort-t", 1, pktgen_sctp(p, PKTGEN_MAX, 7, 5000, 0x2222, c, 1));
	c[0] = pktgen_shutdown(5);
	n = pktgen_sctp(p, PKTGEN_MAX, 5000, 7, 0x2222, c, 1);
	emit(dir, "out-shutdown", 0, pktgen_ipv4(p, PKTGEN_MAX, n, "10.1.2.3", "203.0.113.2", 0));
	c[0] = pktgen_shutdown_complete(false);
	emit(dir, "in-shutdown-complete", 1, pktgen_sctp(p, PKTGEN_MAX, 7, 5000, 0x1111, c, 1));
	return 0;
}
