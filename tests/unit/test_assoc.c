/* test_assoc.c - the association table: indexes, tags, eviction, expiry, paths. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "assoc.h"

static struct gw_addr addr_of(const char *s)
{
	struct gw_addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

/* A fixed association: iaddr 10.0.0.1, iport 5000, seen 6000, rport 7000. */
static struct assoc *mk(struct assoc_table *t, const char *ip, uint32_t itag, uint32_t rtag,
			uint64_t now)
{
	struct gw_addr ia = addr_of(ip);

	return assoc_create(t, &ia, 5000, 6000, 7000, itag, rtag, ASSOC_FROM_INSIDE, now);
}

START_TEST(test_create_lookup)
{
	struct assoc_table *t = assoc_table_new(16);
	struct gw_addr ia = addr_of("10.0.0.1");
	struct assoc *a;

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(assoc_table_capacity(t), 16);
	a = assoc_create(t, &ia, 5000, 6000, 7000, 0x1111, 0x2222, ASSOC_FROM_OUTSIDE, 42);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(assoc_table_count(t), 1);
	ck_assert_uint_ne(a->id, 0);
	ck_assert_uint_eq(a->state, ASSOC_INIT);
	ck_assert_uint_eq(a->origin, ASSOC_FROM_OUTSIDE);
	ck_assert_uint_eq(a->in_use, 1);
	ck_assert_uint_eq(a->created_ms, 42);
	ck_assert_uint_eq(a->last_ms, 42);
	ck_assert_uint_eq(a->npaths, 0);
	ck_assert(addr_equal(&a->iaddr, &ia));
	ck_assert_uint_eq(a->iport, 5000);
	ck_assert_uint_eq(a->seen_port, 6000);
	ck_assert_uint_eq(a->rport, 7000);

	ck_assert_ptr_eq(assoc_lookup_local(t, &ia, 5000, 7000, 0x1111, true), a);
	ck_assert_ptr_eq(assoc_lookup_local(t, &ia, 5000, 7000, 0x2222, false), a);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x1111, true), a);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x2222, false), a);
	/* The role is part of the key. */
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x1111, false));
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x2222, true));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x1111, false));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x2222, true));
	assoc_table_free(t);
}
END_TEST

START_TEST(test_key_field_mismatch)
{
	struct assoc_table *t = assoc_table_new(16);
	struct gw_addr ia = addr_of("10.0.0.1"), other = addr_of("10.0.0.2"),
		       mapped = addr_of("::ffff:10.0.0.1");
	struct assoc *a = mk(t, "10.0.0.1", 0x1111, 0x2222, 1);

	ck_assert_ptr_nonnull(a);
	for (int role = 0; role < 2; role++) {
		uint32_t tag = role ? 0x1111 : 0x2222;
		bool is_itag = role;

		ck_assert_ptr_eq(assoc_lookup_local(t, &ia, 5000, 7000, tag, is_itag), a);
		ck_assert_ptr_null(assoc_lookup_local(t, &other, 5000, 7000, tag, is_itag));
		ck_assert_ptr_null(assoc_lookup_local(t, &mapped, 5000, 7000, tag, is_itag));
		ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5001, 7000, tag, is_itag));
		ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7001, tag, is_itag));
		ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, tag + 1, is_itag));
		/* The local key uses the internal port, not the seen port. */
		ck_assert_ptr_null(assoc_lookup_local(t, &ia, 6000, 7000, tag, is_itag));

		ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, tag, is_itag), a);
		ck_assert_ptr_null(assoc_lookup_remote(t, 6001, 7000, tag, is_itag));
		ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7001, tag, is_itag));
		ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, tag ^ 0x10000, is_itag));
		/* The remote key uses the seen port, not the internal port. */
		ck_assert_ptr_null(assoc_lookup_remote(t, 5000, 7000, tag, is_itag));
		/* Swapped ports. */
		ck_assert_ptr_null(assoc_lookup_remote(t, 7000, 6000, tag, is_itag));
	}
	/* Tag 0 never matches (unknown tags are not indexed). */
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0, true));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0, false));
	assoc_table_free(t);
}
END_TEST

START_TEST(test_key_compare_in_chains)
{
	/* A two-slot table has four buckets per index: many of these near-miss keys share
	 * the entry's chain, so the full key comparison is what rejects them. */
	struct assoc_table *t = assoc_table_new(2);
	struct assoc *a = mk(t, "10.0.0.1", 0x1111, 0x2222, 1);
	struct gw_addr ia = addr_of("10.0.0.1");

	for (uint32_t i = 1; i <= 64; i++) {
		struct gw_addr o = ia;

		o.bytes[3] = (uint8_t)(1 + i);
		ck_assert_ptr_null(assoc_lookup_local(t, &o, 5000, 7000, 0x1111, true));
		ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000 + i, 7000, 0x1111, true));
		ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000 + i, 0x2222, false));
		ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x2222 + i, false));
		ck_assert_ptr_null(assoc_lookup_remote(t, 6000 + i, 7000, 0x1111, true));
		ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000 + i, 0x1111, true));
		ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000 - i, 0x2222, false));
		ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x2222 + i, false));
	}
	ck_assert_ptr_eq(assoc_lookup_local(t, &ia, 5000, 7000, 0x1111, true), a);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x2222, false), a);
	assoc_table_free(t);
}
END_TEST

START_TEST(test_set_tags)
{
	struct assoc_table *t = assoc_table_new(8);
	struct gw_addr ia = addr_of("10.0.0.1");
	struct assoc *a = mk(t, "10.0.0.1", 0x1111, 0, 1);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0, false));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x3333, false));

	assoc_set_rtag(t, a, 0x3333);
	ck_assert_uint_eq(a->rtag, 0x3333);
	ck_assert_ptr_eq(assoc_lookup_local(t, &ia, 5000, 7000, 0x3333, false), a);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x3333, false), a);
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0, false));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0, false));

	/* Changing a tag drops the old key. */
	assoc_set_rtag(t, a, 0x4444);
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x3333, false));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x3333, false));
	ck_assert_ptr_eq(assoc_lookup_local(t, &ia, 5000, 7000, 0x4444, false), a);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x4444, false), a);

	assoc_set_itag(t, a, 0x5555);
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x1111, true));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x1111, true));
	ck_assert_ptr_eq(assoc_lookup_local(t, &ia, 5000, 7000, 0x5555, true), a);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x5555, true), a);

	/* Back to unknown. */
	assoc_set_itag(t, a, 0);
	ck_assert_uint_eq(a->itag, 0);
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x5555, true));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x5555, true));
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x4444, false), a);

	/* Created with itag 0, set later. */
	struct assoc *b = mk(t, "10.0.0.9", 0, 0x7777, 1);

	ck_assert_ptr_nonnull(b);
	assoc_set_itag(t, b, 0x8888);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x8888, true), b);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x7777, false), b);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x4444, false), a);
	assoc_table_free(t);
}
END_TEST

START_TEST(test_remove_reuse)
{
	struct assoc_table *t = assoc_table_new(4);
	struct gw_addr ia = addr_of("10.0.0.1");
	struct assoc *a, *b, *c;
	uint32_t id;

	a = mk(t, "10.0.0.1", 0x1111, 0x2222, 1);
	b = mk(t, "10.0.0.2", 0x1111, 0x2222, 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	id = a->id;
	assoc_remove(t, a);
	ck_assert_uint_eq(assoc_table_count(t), 1);
	ck_assert_uint_eq(a->in_use, 0);
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x1111, true));
	ck_assert_ptr_null(assoc_lookup_local(t, &ia, 5000, 7000, 0x2222, false));
	ck_assert_ptr_null(assoc_by_id(t, id));
	/* The other one shares the remote key and stays. */
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0x1111, true), b);
	ck_assert_ptr_eq(assoc_next(t, NULL), b);
	ck_assert_ptr_null(assoc_next(t, b));

	c = mk(t, "10.0.0.3", 0x9999, 0, 2);
	ck_assert_ptr_eq(c, a); /* the freed slot is reused */
	ck_assert_uint_gt(c->id, id);
	ck_assert_uint_eq(c->rtag, 0);
	ck_assert_uint_eq(c->npaths, 0);
	ck_assert_ptr_eq(assoc_by_id(t, c->id), c);

	/* Removing twice is harmless. */
	assoc_remove(t, b);
	assoc_remove(t, b);
	ck_assert_uint_eq(assoc_table_count(t), 1);
	assoc_remove(t, c);
	ck_assert_uint_eq(assoc_table_count(t), 0);
	ck_assert_ptr_null(assoc_next(t, NULL));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 0x9999, true));

	/* Fill to capacity after emptying. */
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(mk(t, "10.0.0.1", 0x100 + i, 0, 3));
	ck_assert_uint_eq(assoc_table_count(t), 4);
	assoc_table_free(t);
}
END_TEST

START_TEST(test_ids_iteration)
{
	struct assoc_table *t = assoc_table_new(64);
	struct assoc *as[64];
	uint32_t last = 0;
	unsigned n = 0;

	for (int i = 0; i < 64; i++) {
		as[i] = mk(t, "10.0.0.1", 1000 + i, 0, 1);
		ck_assert_ptr_nonnull(as[i]);
		ck_assert_uint_gt(as[i]->id, last);
		last = as[i]->id;
	}
	for (int i = 0; i < 64; i += 2)
		assoc_remove(t, as[i]);
	for (struct assoc *a = assoc_next(t, NULL); a; a = assoc_next(t, a)) {
		ck_assert_uint_eq(a->in_use, 1);
		ck_assert_uint_eq((a->itag - 1000) % 2, 1);
		ck_assert_ptr_eq(assoc_by_id(t, a->id), a);
		n++;
	}
	ck_assert_uint_eq(n, 32);
	ck_assert_ptr_null(assoc_by_id(t, 0));
	ck_assert_ptr_null(assoc_by_id(t, last + 1));
	/* New ids keep increasing even in reused slots. */
	ck_assert_uint_gt(mk(t, "10.0.0.1", 1, 0, 1)->id, last);

	/* "Remove the first until none" empties the table. */
	for (struct assoc *a; (a = assoc_next(t, NULL)) != NULL;)
		assoc_remove(t, a);
	ck_assert_uint_eq(assoc_table_count(t), 0);
	assoc_table_free(t);
}
END_TEST

START_TEST(test_eviction)
{
	struct assoc_table *t = assoc_table_new(4);
	struct assoc *a, *b, *c, *d, *e, *f, *g;
	uint32_t ida, idb, ide;

	/* States change right after the packet that created the entry, as in xlate. */
	a = mk(t, "10.0.0.1", 1, 0, 1);
	b = mk(t, "10.0.0.1", 2, 0, 2);
	b->state = ASSOC_CLOSED;
	c = mk(t, "10.0.0.1", 3, 0, 3);
	c->state = ASSOC_COOKIE;
	d = mk(t, "10.0.0.1", 4, 0, 4);
	d->state = ASSOC_ESTABLISHED;
	ck_assert_ptr_nonnull(d);
	ida = a->id;
	idb = b->id;

	/* Closed goes first, though a half-open one is older. */
	e = mk(t, "10.0.0.1", 5, 0, 10);
	ck_assert_ptr_nonnull(e);
	ide = e->id;
	ck_assert_uint_eq(assoc_table_count(t), 4);
	ck_assert_ptr_null(assoc_by_id(t, idb));
	ck_assert_ptr_nonnull(assoc_by_id(t, ida));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 2, true));

	/* Then the oldest half-open one (a, INIT), not c (COOKIE, younger). */
	f = mk(t, "10.0.0.1", 6, 0, 11);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_null(assoc_by_id(t, ida));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 1, true));
	ck_assert_ptr_nonnull(assoc_lookup_remote(t, 6000, 7000, 3, true));

	/* c became established meanwhile: e is now the oldest half-open one. */
	c->state = ASSOC_ESTABLISHED;
	g = mk(t, "10.0.0.1", 7, 0, 12);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_null(assoc_by_id(t, ide));
	ck_assert_ptr_nonnull(assoc_lookup_remote(t, 6000, 7000, 3, true));
	ck_assert_ptr_nonnull(assoc_lookup_remote(t, 6000, 7000, 4, true));

	/* All established or shutting down: nothing is evicted. */
	f = assoc_lookup_remote(t, 6000, 7000, 6, true);
	f->state = ASSOC_SHUTDOWN;
	g = assoc_lookup_remote(t, 6000, 7000, 7, true);
	g->state = ASSOC_ESTABLISHED;
	for (int i = 0; i < 10; i++)
		ck_assert_ptr_null(mk(t, "10.0.0.1", 100 + i, 0, 13));
	ck_assert_uint_eq(assoc_table_count(t), 4);
	for (uint32_t tag = 3; tag <= 7; tag++) {
		if (tag != 5)
			ck_assert_ptr_nonnull(assoc_lookup_remote(t, 6000, 7000, tag, true));
	}

	/* An established one that closed later is found again. */
	d->state = ASSOC_CLOSED;
	ck_assert_ptr_nonnull(mk(t, "10.0.0.1", 200, 0, 14));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 4, true));
	ck_assert_ptr_nonnull(assoc_lookup_remote(t, 6000, 7000, 3, true));
	assoc_table_free(t);
}
END_TEST

START_TEST(test_eviction_out_of_band)
{
	/* States changed on several entries between table calls: eviction still never
	 * takes an established entry, and assoc_expire refiles the closed one. */
	const struct assoc_timeouts to = { 3000, 210000, 3000, 1000 };
	struct assoc_table *t = assoc_table_new(3);
	struct assoc *a = mk(t, "10.0.0.1", 1, 0, 1), *b = mk(t, "10.0.0.1", 2, 0, 2);
	struct assoc *c = mk(t, "10.0.0.1", 3, 0, 3), *d;

	b->state = ASSOC_CLOSED;
	ck_assert_uint_eq(assoc_expire(t, &to, 10), 0);
	d = mk(t, "10.0.0.1", 4, 0, 11);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 2, true));
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 1, true), a);

	a->state = ASSOC_ESTABLISHED;
	c->state = ASSOC_SHUTDOWN;
	ck_assert_ptr_nonnull(mk(t, "10.0.0.1", 5, 0, 12));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 4, true));
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 1, true), a);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 3, true), c);
	assoc_table_free(t);
}
END_TEST

START_TEST(test_eviction_one_slot)
{
	struct assoc_table *t = assoc_table_new(1);
	struct assoc *a = mk(t, "10.0.0.1", 1, 0, 1), *b;

	ck_assert_ptr_nonnull(a);
	b = mk(t, "10.0.0.1", 2, 0, 2);
	ck_assert_ptr_eq(b, a);
	ck_assert_uint_eq(b->itag, 2);
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 1, true));
	b->state = ASSOC_ESTABLISHED;
	ck_assert_ptr_null(mk(t, "10.0.0.1", 3, 0, 3));
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 2, true), b);
	assoc_table_free(t);
	ck_assert_ptr_null(assoc_table_new(0));
}
END_TEST

START_TEST(test_expire)
{
	const struct assoc_timeouts to = {
		.init_ms = 3000,
		.established_ms = 210000,
		.shutdown_ms = 5000,
		.closed_ms = 1000,
	};
	struct assoc_table *t = assoc_table_new(16);
	const uint8_t states[] = { ASSOC_INIT, ASSOC_COOKIE, ASSOC_ESTABLISHED, ASSOC_SHUTDOWN,
				   ASSOC_CLOSED };
	const uint64_t base = 100000;

	for (unsigned i = 0; i < 5; i++) {
		struct assoc *a = mk(t, "10.0.0.1", 10 + i, 0, 1);

		a->state = states[i];
		a->last_ms = base; /* the caller keeps last_ms */
	}
	/* One in the future (clock handed in out of order) is not expired. */
	mk(t, "10.0.0.1", 99, 0, base + 10000000)->state = ASSOC_CLOSED;

	ck_assert_uint_eq(assoc_expire(t, &to, base), 0);
	ck_assert_uint_eq(assoc_expire(t, &to, base + 1000), 0); /* exactly the timeout */
	ck_assert_uint_eq(assoc_expire(t, &to, base + 1001), 1);
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 14, true));
	ck_assert_uint_eq(assoc_table_count(t), 5);

	ck_assert_uint_eq(assoc_expire(t, &to, base + 3000), 0);
	ck_assert_uint_eq(assoc_expire(t, &to, base + 3001), 2);
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 10, true));
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 11, true));

	ck_assert_uint_eq(assoc_expire(t, &to, base + 5000), 0);
	ck_assert_uint_eq(assoc_expire(t, &to, base + 5001), 1);
	ck_assert_ptr_null(assoc_lookup_remote(t, 6000, 7000, 13, true));

	/* Activity (last_ms) keeps an entry. */
	assoc_lookup_remote(t, 6000, 7000, 12, true)->last_ms = base + 100000;
	ck_assert_uint_eq(assoc_expire(t, &to, base + 210001), 0);
	ck_assert_uint_eq(assoc_expire(t, &to, base + 310000), 0);
	ck_assert_uint_eq(assoc_expire(t, &to, base + 310001), 1);
	ck_assert_uint_eq(assoc_table_count(t), 1);
	ck_assert_ptr_nonnull(assoc_lookup_remote(t, 6000, 7000, 99, true));
	ck_assert_uint_eq(assoc_expire(t, &to, base + 10000000 + 1001), 1);
	ck_assert_uint_eq(assoc_table_count(t), 0);
	ck_assert_ptr_null(assoc_next(t, NULL));
	assoc_table_free(t);
}
END_TEST

START_TEST(test_paths)
{
	struct assoc_table *t = assoc_table_new(2);
	struct assoc *a = mk(t, "10.0.0.1", 1, 0, 1);
	struct gw_addr p[5] = { addr_of("192.0.2.1"), addr_of("192.0.2.2"), addr_of("2001:db8::1"),
				addr_of("2001:db8::2"), addr_of("192.0.2.5") };
	const uint64_t seen[4] = { 50, 10, 30, 40 };
	struct assoc_path *q, *r;

	ck_assert_ptr_null(assoc_path_find(a, &p[0]));
	q = assoc_path_get(a, &p[0], 9899);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(a->npaths, 1);
	ck_assert(addr_equal(&q->addr, &p[0]));
	ck_assert_uint_eq(q->udp_port, 9899);
	ck_assert_uint_eq(q->last_seen_ms, 0);
	q->udp_port = 40000;
	q->pkts_in = 3;
	/* Getting an existing path keeps it as it is. */
	r = assoc_path_get(a, &p[0], 9899);
	ck_assert_ptr_eq(r, q);
	ck_assert_uint_eq(r->udp_port, 40000);
	ck_assert_uint_eq(r->pkts_in, 3);
	ck_assert_ptr_eq(assoc_path_find(a, &p[0]), q);

	for (int i = 1; i < 4; i++)
		ck_assert_ptr_nonnull(assoc_path_get(a, &p[i], 1000 + i));
	ck_assert_uint_eq(a->npaths, ASSOC_MAX_PATHS);
	for (int i = 0; i < 4; i++) {
		q = assoc_path_find(a, &p[i]);
		ck_assert_ptr_nonnull(q);
		q->last_seen_ms = seen[i];
	}
	ck_assert_uint_eq(assoc_path_find(a, &p[2])->udp_port, 1002);

	/* Full: the least recently seen (p[1], 10) is replaced and starts fresh. */
	q = assoc_path_get(a, &p[4], 7777);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(a->npaths, ASSOC_MAX_PATHS);
	ck_assert(addr_equal(&q->addr, &p[4]));
	ck_assert_uint_eq(q->udp_port, 7777);
	ck_assert_uint_eq(q->last_seen_ms, 0);
	ck_assert_uint_eq(q->pkts_in, 0);
	ck_assert_ptr_null(assoc_path_find(a, &p[1]));
	ck_assert_ptr_nonnull(assoc_path_find(a, &p[0]));
	ck_assert_ptr_nonnull(assoc_path_find(a, &p[2]));
	ck_assert_ptr_nonnull(assoc_path_find(a, &p[3]));
	/* Now the fresh one (0) is least recently seen and goes next. */
	r = assoc_path_get(a, &p[1], 1);
	ck_assert_ptr_eq(r, q);
	ck_assert_ptr_null(assoc_path_find(a, &p[4]));
	assoc_table_free(t);
}
END_TEST

START_TEST(test_remote_key_taken)
{
	struct assoc_table *t = assoc_table_new(4);
	struct assoc *a = mk(t, "10.0.0.1", 0x1111, 0, 1);

	ck_assert(assoc_remote_key_taken(t, 6000, 7000, 0x1111, true));
	ck_assert(!assoc_remote_key_taken(t, 6000, 7000, 0x1111, false));
	ck_assert(!assoc_remote_key_taken(t, 6001, 7000, 0x1111, true));
	ck_assert(!assoc_remote_key_taken(t, 6000, 7001, 0x1111, true));
	ck_assert(!assoc_remote_key_taken(t, 6000, 7000, 0x1112, true));
	assoc_set_rtag(t, a, 0x2222);
	ck_assert(assoc_remote_key_taken(t, 6000, 7000, 0x2222, false));
	assoc_remove(t, a);
	ck_assert(!assoc_remote_key_taken(t, 6000, 7000, 0x1111, true));
	ck_assert(!assoc_remote_key_taken(t, 6000, 7000, 0x2222, false));
	assoc_table_free(t);
}
END_TEST

START_TEST(test_ipv6)
{
	struct assoc_table *t = assoc_table_new(8);
	struct gw_addr x = addr_of("fd00::1"), y = addr_of("fd00::2"), z = addr_of("fe00::1");
	struct assoc *a = mk(t, "fd00::1", 0xaaaa, 0xbbbb, 1);
	struct assoc *b = mk(t, "fd00::2", 0xaaaa, 0xcccc, 1);
	struct assoc *c = mk(t, "10.0.0.1", 0xaaaa, 0xdddd, 1);

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(a->iaddr.family, AF_INET6);
	ck_assert_ptr_eq(assoc_lookup_local(t, &x, 5000, 7000, 0xaaaa, true), a);
	ck_assert_ptr_eq(assoc_lookup_local(t, &y, 5000, 7000, 0xaaaa, true), b);
	ck_assert_ptr_null(assoc_lookup_local(t, &z, 5000, 7000, 0xaaaa, true));
	ck_assert_ptr_eq(assoc_lookup_local(t, &x, 5000, 7000, 0xbbbb, false), a);
	ck_assert_ptr_null(assoc_lookup_local(t, &x, 5000, 7000, 0xcccc, false));
	ck_assert_ptr_eq(assoc_lookup_local(t, &y, 5000, 7000, 0xcccc, false), b);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0xcccc, false), b);
	ck_assert_ptr_eq(assoc_lookup_remote(t, 6000, 7000, 0xdddd, false), c);
	assoc_remove(t, a);
	ck_assert_ptr_null(assoc_lookup_local(t, &x, 5000, 7000, 0xaaaa, true));
	ck_assert_ptr_eq(assoc_lookup_local(t, &y, 5000, 7000, 0xaaaa, true), b);
	assoc_table_free(t);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(assoc_state_name(ASSOC_CLOSED), "closed");
	ck_assert_str_eq(assoc_state_name(ASSOC_INIT), "init");
	ck_assert_str_eq(assoc_state_name(ASSOC_COOKIE), "cookie");
	ck_assert_str_eq(assoc_state_name(ASSOC_ESTABLISHED), "established");
	ck_assert_str_eq(assoc_state_name(ASSOC_SHUTDOWN), "shutdown");
	ck_assert_ptr_nonnull(assoc_state_name(ASSOC_STATE_COUNT));
}
END_TEST

/* Stress: random keys, checked against a plain array. */

struct ref {
	struct gw_addr iaddr;
	uint16_t iport, seen_port, rport;
	uint32_t itag, rtag, id;
	bool live;
	struct assoc *a;
};

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible from the printed seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Unique non-zero tags: a bijection of a counter, so keys never collide by chance. */
static uint32_t unique_tag(uint32_t n)
{
	uint32_t x = n * 2654435761u + 0x9e3779b9u;

	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return x ? x : 0xffffffffu;
}

static void ref_random(struct ref *r, uint32_t n)
{
	memset(r, 0, sizeof(*r));
	if (rnd() & 1) {
		addr_from_v4(&r->iaddr, rnd() & 0x0000ff0au); /* few hosts: shared keys */
	} else {
		r->iaddr.family = AF_INET6;
		r->iaddr.bytes[0] = 0xfd;
		r->iaddr.bytes[15] = (uint8_t)rnd();
	}
	r->iport = (uint16_t)(rnd() % 8);
	r->seen_port = (rnd() & 1) ? r->iport : (uint16_t)rnd();
	r->rport = (uint16_t)(rnd() % 8);
	r->itag = unique_tag(2 * n);
	r->rtag = (rnd() & 1) ? unique_tag(2 * n + 1) : 0;
}

static void ref_check(struct assoc_table *t, const struct ref *r)
{
	struct assoc *want = r->live ? r->a : NULL;

	ck_assert_ptr_eq(assoc_lookup_local(t, &r->iaddr, r->iport, r->rport, r->itag, true), want);
	ck_assert_ptr_eq(assoc_lookup_remote(t, r->seen_port, r->rport, r->itag, true), want);
	if (r->rtag) {
		ck_assert_ptr_eq(
			assoc_lookup_local(t, &r->iaddr, r->iport, r->rport, r->rtag, false), want);
		ck_assert_ptr_eq(assoc_lookup_remote(t, r->seen_port, r->rport, r->rtag, false),
				 want);
	}
	if (want)
		ck_assert_uint_eq(want->id, r->id);
}

/* max: table size; with max < n the table fills and, everything being half-open,
 * evicts in creation order, which the reference follows. */
static void stress(uint32_t max, uint32_t n)
{
	struct assoc_table *t = assoc_table_new(max);
	struct ref *refs = calloc(n, sizeof(*refs));
	uint32_t live = 0, oldest = 0, seen = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(refs);
	for (uint32_t i = 0; i < n; i++) {
		struct ref *r = &refs[i], *evicted;
		bool set_rtag_later;

		ref_random(r, i);
		set_rtag_later = r->rtag && (rnd() % 4 == 0);
		evicted = NULL;
		if (live == max) {
			while (!refs[oldest].live)
				oldest++;
			evicted = &refs[oldest];
			evicted->live = false;
			live--;
		}
		r->a = assoc_create(t, &r->iaddr, r->iport, r->seen_port, r->rport, r->itag,
				    set_rtag_later ? 0 : r->rtag, ASSOC_FROM_INSIDE, i);
		ck_assert_ptr_nonnull(r->a);
		if (set_rtag_later)
			assoc_set_rtag(t, r->a, r->rtag);
		r->id = r->a->id;
		r->live = true;
		live++;
		if (evicted)
			ref_check(t, evicted);

		switch (rnd() % 4) {
		case 0: { /* remove a random one */
			struct ref *v = &refs[rnd() % (i + 1)];

			if (v->live) {
				assoc_remove(t, v->a);
				v->live = false;
				live--;
			}
			break;
		}
		case 1: /* check a random one, live or not */
			ref_check(t, &refs[rnd() % (i + 1)]);
			break;
		default:
			break;
		}
		ck_assert_uint_eq(assoc_table_count(t), live);
	}
	for (uint32_t i = 0; i < n; i++)
		ref_check(t, &refs[i]);
	for (struct assoc *a = assoc_next(t, NULL); a; a = assoc_next(t, a))
		seen++;
	ck_assert_uint_eq(seen, live);
	free(refs);
	assoc_table_free(t);
}

START_TEST(test_stress_100k)
{
	rng_state = 0x1234567887654321ULL;
	stress(100000, 100000);
}
END_TEST

START_TEST(test_stress_evict)
{
	rng_state = 0x0badc0ffee15900dULL;
	stress(1000, 100000);
}
END_TEST

START_TEST(test_port_pair_conflict)
{
	struct assoc_table *t = assoc_table_new(8);
	struct gw_addr in1 = addr_of("10.0.0.2"), in2 = addr_of("10.0.0.3"),
		       peer = addr_of("203.0.113.2"), other = addr_of("198.51.100.1");
	struct assoc *a;

	ck_assert_ptr_nonnull(t);
	a = assoc_create(t, &in1, 5000, 5000, 7, 0x11, 0, ASSOC_FROM_INSIDE, 1);
	ck_assert_ptr_nonnull(a);
	/* No path yet: the peer address is unknown to the table. */
	ck_assert(!assoc_port_pair_conflict(t, 5000, 7, &peer, &in2, 5000));
	assoc_path_get(a, &peer, 9899);
	ck_assert(assoc_port_pair_conflict(t, 5000, 7, &peer, &in2, 5000));
	/* The same internal endpoint is not a collision with itself. */
	ck_assert(!assoc_port_pair_conflict(t, 5000, 7, &peer, &in1, 5000));
	ck_assert(assoc_port_pair_conflict(t, 5000, 7, &peer, &in1, 5001));
	/* Other ports or another peer address do not collide. */
	ck_assert(!assoc_port_pair_conflict(t, 5001, 7, &peer, &in2, 5000));
	ck_assert(!assoc_port_pair_conflict(t, 5000, 8, &peer, &in2, 5000));
	ck_assert(!assoc_port_pair_conflict(t, 5000, 7, &other, &in2, 5000));
	/* A closed association frees its ports; a removed one too. */
	a->state = ASSOC_CLOSED;
	ck_assert(!assoc_port_pair_conflict(t, 5000, 7, &peer, &in2, 5000));
	a->state = ASSOC_ESTABLISHED;
	assoc_remove(t, a);
	ck_assert(!assoc_port_pair_conflict(t, 5000, 7, &peer, &in2, 5000));
	assoc_table_free(t);
}
END_TEST

/* A multi-homed internal host: found from any address it listed, never from another;
 * the address in use follows its latest source; injection picks one of the family. */
START_TEST(test_internal_addresses)
{
	struct assoc_table *t = assoc_table_new(16);
	struct gw_addr first = addr_of("10.0.0.1"), second = addr_of("10.0.1.1"),
		       v6 = addr_of("fd00::1");
	struct gw_addr other = addr_of("10.0.0.9"),
		       list[3] = { addr_of("10.0.0.1"), addr_of("10.0.1.1"), v6 };
	struct assoc *a = mk(t, "10.0.0.1", 0x1111, 0x2222, 1);
	struct assoc_iaddr *ia;

	ck_assert_uint_eq(a->niaddrs, 1);
	ck_assert_ptr_null(assoc_lookup_local(t, &second, 5000, 7000, 0x2222, false));
	assoc_add_iaddrs(a, list, 3);
	ck_assert_uint_eq(a->niaddrs, 3); /* the first source is not listed twice */
	ck_assert_ptr_eq(assoc_lookup_local(t, &first, 5000, 7000, 0x2222, false), a);
	ck_assert_ptr_eq(assoc_lookup_local(t, &second, 5000, 7000, 0x2222, false), a);
	ck_assert_ptr_eq(assoc_lookup_local(t, &v6, 5000, 7000, 0x1111, true), a);
	ck_assert_ptr_null(assoc_lookup_local(t, &other, 5000, 7000, 0x2222, false));
	/* the address in use */
	ck_assert(addr_equal(assoc_inject_addr(a, AF_INET), &first));
	ia = assoc_iaddr_find(a, &second);
	ck_assert_ptr_nonnull(ia);
	assoc_iaddr_used(a, ia, 5);
	ck_assert(addr_equal(&a->iaddr, &second));
	ck_assert(addr_equal(assoc_inject_addr(a, AF_INET), &second));
	ck_assert(addr_equal(assoc_inject_addr(a, AF_INET6), &v6));
	/* the same endpoint from its second address is no collision with itself */
	{
		struct gw_addr r = addr_of("203.0.113.2");

		assoc_path_get(a, &r, 9899);
		a->state = ASSOC_ESTABLISHED;
		ck_assert(!assoc_port_pair_conflict(t, 6000, 7000, &r, &first, 5000));
		ck_assert(!assoc_port_pair_conflict(t, 6000, 7000, &r, &second, 5000));
		ck_assert(assoc_port_pair_conflict(t, 6000, 7000, &r, &other, 5000));
	}
	/* at most ASSOC_MAX_IADDRS */
	{
		struct gw_addr many[6] = { addr_of("10.9.0.1"), addr_of("10.9.0.2"),
					   addr_of("10.9.0.3"), addr_of("10.9.0.4"),
					   addr_of("10.9.0.5"), addr_of("10.9.0.6") };

		assoc_add_iaddrs(a, many, 6);
		ck_assert_uint_eq(a->niaddrs, ASSOC_MAX_IADDRS);
	}
	{
		struct assoc *b = mk(t, "10.0.0.1", 0x3333, 0x4444, 1);

		ck_assert_ptr_null(assoc_inject_addr(b, AF_INET6));
	}
	assoc_table_free(t);
}
END_TEST

static Suite *assoc_suite(void)
{
	Suite *s = suite_create("assoc");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_lookup);
	tcase_add_test(tc, test_internal_addresses);
	tcase_add_test(tc, test_port_pair_conflict);
	tcase_add_test(tc, test_key_field_mismatch);
	tcase_add_test(tc, test_key_compare_in_chains);
	tcase_add_test(tc, test_set_tags);
	tcase_add_test(tc, test_remove_reuse);
	tcase_add_test(tc, test_ids_iteration);
	tcase_add_test(tc, test_eviction);
	tcase_add_test(tc, test_eviction_one_slot);
	tcase_add_test(tc, test_expire);
	tcase_add_test(tc, test_eviction_out_of_band);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_remote_key_taken);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_stress_100k);
	tcase_add_test(tc, test_stress_evict);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(assoc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
