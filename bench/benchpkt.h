/* benchpkt.h - the hand-built SCTP packets the benchmark programs exchange: one fixed
 * association (ports and tags below), INIT / INIT-ACK to make the gateway learn it, and
 * DATA packets carrying a sequence number and a send timestamp. */
#ifndef SCTPGW_BENCHPKT_H
#define SCTPGW_BENCHPKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pkt.h"

#define BENCH_IN_PORT 5001      /* SCTP port of the native host in IN */
#define BENCH_PEER_PORT 5002    /* SCTP port of the responder in PEER */
#define BENCH_ITAG 0x1a2b3c4du  /* initiate tag of IN: inbound packets carry it */
#define BENCH_RTAG 0x5e6f7a8bu  /* initiate tag of the responder: outbound packets carry it */
#define BENCH_MAGIC 0x53424c54u /* "SBLT" at the start of every DATA payload */
#define BENCH_DATA_OFF (SCTP_COMMON_HDR_LEN + 16) /* user data after common + DATA header */
#define BENCH_MIN_PAYLOAD 24                      /* magic, pad, sequence, timestamp */

static inline void bench_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void bench_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t bench_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t bench_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void bench_common(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t vtag)
{
	bench_put16(b, sport);
	bench_put16(b + 2, dport);
	bench_put32(b + 4, vtag);
	bench_put32(b + 8, 0);
}

/* INIT (vtag 0) with the sender's initiate tag; no address parameters. */
static inline size_t bench_build_init(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t itag)
{
	uint8_t *c = b + SCTP_COMMON_HDR_LEN;

	bench_common(b, sport, dport, 0);
	c[0] = SCTP_CT_INIT;
	c[1] = 0;
	bench_put16(c + 2, 20);
	bench_put32(c + 4, itag);
	bench_put32(c + 8, 1 << 20); /* a_rwnd */
	bench_put16(c + 12, 1);      /* outbound streams */
	bench_put16(c + 14, 1);      /* inbound streams */
	bench_put32(c + 16, 1);      /* initial TSN */
	pkt_sctp_set_checksum(b, SCTP_COMMON_HDR_LEN + 20);
	return SCTP_COMMON_HDR_LEN + 20;
}

/* INIT-ACK answering an INIT whose initiate tag was vtag, with a 16-byte State Cookie. */
static inline size_t bench_build_init_ack(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t vtag,
					  uint32_t itag)
{
	uint8_t *c = b + SCTP_COMMON_HDR_LEN;
	size_t clen = 20 + 4 + 16;

	bench_common(b, sport, dport, vtag);
	c[0] = SCTP_CT_INIT_ACK;
	c[1] = 0;
	bench_put16(c + 2, (uint16_t)clen);
	bench_put32(c + 4, itag);
	bench_put32(c + 8, 1 << 20);
	bench_put16(c + 12, 1);
	bench_put16(c + 14, 1);
	bench_put32(c + 16, 1);
	bench_put16(c + 20, 7); /* State Cookie */
	bench_put16(c + 22, 4 + 16);
	memset(c + 24, 0xc0, 16);
	pkt_sctp_set_checksum(b, SCTP_COMMON_HDR_LEN + clen);
	return SCTP_COMMON_HDR_LEN + clen;
}

/* A DATA packet with payload_len (>= BENCH_MIN_PAYLOAD, multiple of 4) bytes of user
 * data; bench_stamp() fills in the sequence, time, TSN and checksum. */
static inline size_t bench_build_data(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t vtag,
				      size_t payload_len)
{
	uint8_t *c = b + SCTP_COMMON_HDR_LEN;

	bench_common(b, sport, dport, vtag);
	c[0] = SCTP_CT_DATA;
	c[1] = 0x03; /* B and E: an unfragmented message */
	bench_put16(c + 2, (uint16_t)(16 + payload_len));
	bench_put32(c + 4, 1);  /* TSN */
	bench_put16(c + 8, 0);  /* stream */
	bench_put16(c + 10, 0); /* stream sequence */
	bench_put32(c + 12, 0); /* PPID */
	memset(b + BENCH_DATA_OFF, 0x5a, payload_len);
	bench_put32(b + BENCH_DATA_OFF, BENCH_MAGIC);
	return BENCH_DATA_OFF + payload_len;
}

static inline void bench_stamp(uint8_t *b, size_t len, uint64_t seq, uint64_t ns)
{
	bench_put32(b + SCTP_COMMON_HDR_LEN + 4, (uint32_t)seq + 1);
	memcpy(b + BENCH_DATA_OFF + 8, &seq, 8);
	memcpy(b + BENCH_DATA_OFF + 16, &ns, 8);
	pkt_sctp_set_checksum(b, len);
}

/* The send time of a stamped DATA packet (SCTP header first), or 0 if it is not one. */
static inline uint64_t bench_data_time(const uint8_t *b, size_t len)
{
	uint64_t ns;

	if (len < BENCH_DATA_OFF + BENCH_MIN_PAYLOAD || b[SCTP_COMMON_HDR_LEN] != SCTP_CT_DATA ||
	    bench_get32(b + BENCH_DATA_OFF) != BENCH_MAGIC)
		return 0;
	memcpy(&ns, b + BENCH_DATA_OFF + 16, 8);
	return ns;
}

#endif
