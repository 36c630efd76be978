/* assoc_bench.c - the association table alone (a pure module, linked from libgw.a):
 * memory per association and the cost of create, lookup_local (outbound),
 * lookup_remote (inbound) and a missed lookup_remote (stray inbound packets), with
 * random keys visited in random order, at several table sizes.
 *
 * usage: assoc_bench [RUNS] [N...]   (default: 5 runs of 1000 100000 1000000)
 * One line per size: sizes, bytes per association and min/median/max ns per operation. */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assoc.h"

#define AB_MAX_RUNS 15
#define AB_MIN_OPS 2000000 /* lookups per measurement, whatever the table size */

struct ab_key {
	struct gw_addr iaddr;
	uint16_t iport, rport;
	uint32_t itag, rtag;
};

enum { AB_CREATE, AB_LOCAL, AB_REMOTE, AB_MISS, AB_NOPS };
static const char *const ab_op_name[AB_NOPS] = { "create", "lookup_local", "lookup_remote",
						 "lookup_miss" };

static uint64_t ab_rng_state;
static volatile uint64_t ab_sink; /* keeps the lookups from being optimised away */

static uint64_t ab_rand(void)
{
	/* xorshift64*: fast and good enough to spread keys */
	ab_rng_state ^= ab_rng_state >> 12;
	ab_rng_state ^= ab_rng_state << 25;
	ab_rng_state ^= ab_rng_state >> 27;
	return ab_rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t ab_nonzero32(void)
{
	uint32_t v;

	do
		v = (uint32_t)ab_rand();
	while (!v);
	return v;
}

static uint64_t ab_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long ab_rss_bytes(void)
{
	long size, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * sysconf(_SC_PAGESIZE);
}

static int ab_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void ab_fill(struct ab_key *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		addr_from_v4(&k[i].iaddr, htonl(0x0a000000u | ((uint32_t)ab_rand() & 0x00ffffffu)));
		k[i].iport = (uint16_t)(1024 + ab_rand() % 64512);
		k[i].rport = (uint16_t)(1 + ab_rand() % 65535);
		k[i].itag = ab_nonzero32();
		k[i].rtag = ab_nonzero32();
	}
}

/* One run at size n: ns per operation in ns[], bytes of RSS per association. */
static int ab_run(uint32_t n, const struct ab_key *k, const struct ab_key *miss,
		  const uint32_t *perm, double ns[AB_NOPS], double *bytes)
{
	struct assoc_table *t;
	uint64_t t0, sink = 0, misses = 0;
	uint32_t passes = n >= AB_MIN_OPS ? 1 : AB_MIN_OPS / n;
	long rss0 = ab_rss_bytes();

	t = assoc_table_new(n);
	if (!t)
		return -1;
	t0 = ab_now();
	for (uint32_t i = 0; i < n; i++) {
		const struct ab_key *e = &k[i];

		if (!assoc_create(t, &e->iaddr, e->iport, e->iport, e->rport, e->itag, e->rtag,
				  ASSOC_FROM_INSIDE, 1000))
			misses++;
	}
	ns[AB_CREATE] = (double)(ab_now() - t0) / n;
	*bytes = (double)(ab_rss_bytes() - rss0) / n;

	t0 = ab_now();
	for (uint32_t p = 0; p < passes; p++) {
		for (uint32_t i = 0; i < n; i++) {
			const struct ab_key *e = &k[perm[i]];
			struct assoc *a = assoc_lookup_local(t, &e->iaddr, e->iport, e->rport,
							     e->rtag, false);

			if (a)
				sink += a->id;
			else
				misses++;
		}
	}
	ns[AB_LOCAL] = (double)(ab_now() - t0) / ((double)n * passes);

	t0 = ab_now();
	for (uint32_t p = 0; p < passes; p++) {
		for (uint32_t i = 0; i < n; i++) {
			const struct ab_key *e = &k[perm[i]];
			struct assoc *a = assoc_lookup_remote(t, e->iport, e->rport, e->itag, true);

			if (a)
				sink += a->id;
			else
				misses++;
		}
	}
	ns[AB_REMOTE] = (double)(ab_now() - t0) / ((double)n * passes);

	t0 = ab_now();
	for (uint32_t p = 0; p < passes; p++) {
		for (uint32_t i = 0; i < n; i++) {
			const struct ab_key *e = &miss[perm[i]];

			if (assoc_lookup_remote(t, e->iport, e->rport, e->itag, true))
				sink++;
		}
	}
	ns[AB_MISS] = (double)(ab_now() - t0) / ((double)n * passes);

	assoc_table_free(t);
	if (misses) {
		fprintf(stderr, "assoc_bench: %llu creations or lookups failed at n=%u\n",
			(unsigned long long)misses, n);
		return -1;
	}
	ab_sink = sink;
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t sizes[8] = { 1000, 100000, 1000000 };
	unsigned nsizes = 3, runs = 5;

	/* Every allocation from fresh pages, returned on free: otherwise a table built in
	 * memory an earlier run freed shows no RSS growth at all. */
	mallopt(M_MMAP_THRESHOLD, 4096);
	if (argc > 1)
		runs = (unsigned)atoi(argv[1]);
	if (runs < 1 || runs > AB_MAX_RUNS) {
		fprintf(stderr, "usage: assoc_bench [RUNS (1-%d)] [N...]\n", AB_MAX_RUNS);
		return 2;
	}
	if (argc > 2) {
		nsizes = 0;
		for (int i = 2; i < argc && nsizes < 8; i++)
			sizes[nsizes++] = (uint32_t)strtoul(argv[i], NULL, 0);
	}
	printf("sizeof(struct assoc)=%zu bytes; %u runs per size; times in ns/op min/median/max\n",
	       sizeof(struct assoc), runs);
	for (unsigned s = 0; s < nsizes; s++) {
		uint32_t n = sizes[s];
		struct ab_key *k = malloc(sizeof(*k) * n), *miss = malloc(sizeof(*miss) * n);
		uint32_t *perm = malloc(sizeof(*perm) * n);
		double ns[AB_MAX_RUNS][AB_NOPS], bytes[AB_MAX_RUNS], col[AB_MAX_RUNS];

		if (!k || !miss || !perm || n < 1)
			return 1;
		for (unsigned r = 0; r < runs; r++) {
			ab_rng_state = 0x9e3779b97f4a7c15ULL * (r + 1) + n;
			ab_fill(k, n);
			ab_fill(miss, n);
			for (uint32_t i = 0; i < n; i++)
				perm[i] = i;
			for (uint32_t i = n - 1; i > 0; i--) {
				uint32_t j = (uint32_t)(ab_rand() % (i + 1)), x = perm[i];

				perm[i] = perm[j];
				perm[j] = x;
			}
			if (ab_run(n, k, miss, perm, ns[r], &bytes[r]) < 0)
				return 1;
		}
		qsort(bytes, runs, sizeof(double), ab_cmp);
		printf("n=%u rss_bytes_per_assoc=%.0f", n, bytes[runs / 2]);
		for (int op = 0; op < AB_NOPS; op++) {
			for (unsigned r = 0; r < runs; r++)
				col[r] = ns[r][op];
			qsort(col, runs, sizeof(double), ab_cmp);
			printf(" %s=%.1f/%.1f/%.1f", ab_op_name[op], col[0], col[runs / 2],
			       col[runs - 1]);
		}
		printf("\n");
		fflush(stdout);
		free(k);
		free(miss);
		free(perm);
	}
	return 0;
}
