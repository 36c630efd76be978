/* assoc.c - the association table: a fixed pool of slots, two hash indexes (local and
 * remote key) with one chain per tag role, an age list per eviction class. Everything is
 * allocated in assoc_table_new(); nothing after. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "assoc.h"

/* Index roles: which of the two tags a chain node stands for. */
#define ROLE_ITAG 0
#define ROLE_RTAG 1

/* Eviction classes. The caller changes a->state without telling the table, so an
 * entry is refiled when the table next runs after handing it out (see age_settle),
 * in assoc_expire, and whenever eviction meets it misfiled. */
enum age_class { AGE_HALF, AGE_CLOSED, AGE_LIVE, AGE_COUNT };

/* Slots are probed this many at a time from the head of the live list on each eviction,
 * so an established entry that closed since the last expiry pass is found without an
 * O(n) scan. */
#define AGE_SWEEP 8

/* Keeps 2 * max and the slot index + 1 links far from overflowing. */
#define ASSOC_CAPACITY_LIMIT (1u << 28)

/* Per-slot age list node, kept beside the pool so struct assoc stays as published. */
struct assoc_age {
	uint32_t prev, next; /* slot index + 1, 0 ends */
	uint8_t cls;         /* enum age_class of the list it is on */
};

struct assoc_table {
	struct assoc *slots;
	struct assoc_age *age;
	uint32_t *buckets; /* one allocation: local[2], remote[2], pair; each nbuckets */
	uint32_t *local[2], *remote[2], *pair;
	uint32_t mask; /* nbuckets - 1 */
	uint32_t max, count;
	uint32_t hwm;       /* slots [hwm, max) have never been handed out */
	uint32_t lo;        /* no slot below lo is in use */
	uint32_t free_head; /* freed slots below hwm, through next_local[0] */
	uint32_t next_id;
	uint32_t id_first, id_step; /* ids first, first + step, ...: unique across tables */
	uint32_t pending;           /* slot + 1 last handed out: its state may have changed */
	uint32_t age_head[AGE_COUNT], age_tail[AGE_COUNT];
	uint64_t seed[4]; /* secret, against hash flooding from remote tags/ports */
};

static uint64_t mix64(uint64_t x)
{
	/* murmur3 fmix64 */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Without the internal address: a multi-homed host's packets from any of its addresses
 * land in the same chain, and the lookup compares the address list. */
static uint32_t hash_local(const struct assoc_table *t, uint16_t iport, uint16_t rport,
			   uint32_t tag)
{
	uint64_t k = (uint64_t)tag << 32 | (uint32_t)iport << 16 | rport;

	return (uint32_t)mix64(mix64(k ^ t->seed[0]) + t->seed[1]);
}

static uint32_t hash_remote(const struct assoc_table *t, uint16_t seen_port, uint16_t rport,
			    uint32_t tag)
{
	uint64_t k = (uint64_t)tag << 32 | (uint32_t)seen_port << 16 | rport;

	return (uint32_t)mix64(mix64(k ^ t->seed[2]) + t->seed[3]);
}

static uint32_t hash_pair(const struct assoc_table *t, uint16_t seen_port, uint16_t rport)
{
	return (uint32_t)mix64(((uint64_t)seen_port << 16 | rport) ^ t->seed[3]);
}

static uint32_t slot_of(const struct assoc_table *t, const struct assoc *a)
{
	return (uint32_t)(a - t->slots);
}

static uint32_t role_tag(const struct assoc *a, int role)
{
	return role == ROLE_ITAG ? a->itag : a->rtag;
}

static uint32_t *local_head(struct assoc_table *t, const struct assoc *a, int role)
{
	uint32_t h = hash_local(t, a->iport, a->rport, role_tag(a, role));

	return &t->local[role][h & t->mask];
}

static uint32_t *remote_head(struct assoc_table *t, const struct assoc *a, int role)
{
	uint32_t h = hash_remote(t, a->seen_port, a->rport, role_tag(a, role));

	return &t->remote[role][h & t->mask];
}

/* Link a under its current tag of the given role into both indexes. */
static void index_insert(struct assoc_table *t, struct assoc *a, int role)
{
	uint32_t link = slot_of(t, a) + 1;
	uint32_t *head;

	head = local_head(t, a, role);
	a->next_local[role] = *head;
	*head = link;
	head = remote_head(t, a, role);
	a->next_remote[role] = *head;
	*head = link;
}

static void index_unlink(struct assoc_table *t, struct assoc *a, int role)
{
	uint32_t link = slot_of(t, a) + 1;
	uint32_t *p;

	for (p = local_head(t, a, role); *p; p = &t->slots[*p - 1].next_local[role]) {
		if (*p == link) {
			*p = a->next_local[role];
			break;
		}
	}
	a->next_local[role] = 0;
	for (p = remote_head(t, a, role); *p; p = &t->slots[*p - 1].next_remote[role]) {
		if (*p == link) {
			*p = a->next_remote[role];
			break;
		}
	}
	a->next_remote[role] = 0;
}

static enum age_class state_class(uint8_t state)
{
	switch (state) {
	case ASSOC_INIT:
	case ASSOC_COOKIE:
		return AGE_HALF;
	case ASSOC_ESTABLISHED:
	case ASSOC_SHUTDOWN:
		return AGE_LIVE;
	default:
		return AGE_CLOSED;
	}
}

static void age_append(struct assoc_table *t, uint32_t slot, enum age_class cls)
{
	struct assoc_age *n = &t->age[slot];

	n->cls = (uint8_t)cls;
	n->next = 0;
	n->prev = t->age_tail[cls];
	if (n->prev)
		t->age[n->prev - 1].next = slot + 1;
	else
		t->age_head[cls] = slot + 1;
	t->age_tail[cls] = slot + 1;
}

static void age_unlink(struct assoc_table *t, uint32_t slot)
{
	struct assoc_age *n = &t->age[slot];

	if (n->prev)
		t->age[n->prev - 1].next = n->next;
	else
		t->age_head[n->cls] = n->next;
	if (n->next)
		t->age[n->next - 1].prev = n->prev;
	else
		t->age_tail[n->cls] = n->prev;
	n->prev = n->next = 0;
}

/* Put a slot on the list its current state belongs to (at the tail: the list order is
 * the time it was seen entering its class). */
static void age_reclassify(struct assoc_table *t, uint32_t slot)
{
	enum age_class cls = state_class(t->slots[slot].state);

	if (cls == t->age[slot].cls)
		return;
	age_unlink(t, slot);
	age_append(t, slot, cls);
}

/* The packet path looks an entry up, then changes its state; refiling the last entry
 * handed out at the start of the next call keeps the age lists exact for it at O(1). */
static void age_settle(struct assoc_table *t)
{
	uint32_t slot = t->pending - 1;

	if (t->pending && t->slots[slot].in_use)
		age_reclassify(t, slot);
	t->pending = 0;
}

static struct assoc *handed_out(struct assoc_table *t, struct assoc *a)
{
	if (a)
		t->pending = slot_of(t, a) + 1;
	return a;
}

/* The entry to evict: the oldest closed one, else the oldest half-open one, never an
 * established or shutting down one. Each misfiled entry met is moved once, so this is
 * O(1) amortised over the state changes. */
static struct assoc *age_victim(struct assoc_table *t)
{
	for (int i = 0; i < AGE_SWEEP && t->age_head[AGE_LIVE]; i++) {
		uint32_t slot = t->age_head[AGE_LIVE] - 1;

		age_unlink(t, slot);
		age_append(t, slot, state_class(t->slots[slot].state));
	}
	for (;;) {
		enum age_class want = AGE_CLOSED;
		uint32_t link = t->age_head[AGE_CLOSED];
		enum age_class cls;

		if (!link) {
			want = AGE_HALF;
			link = t->age_head[AGE_HALF];
		}
		if (!link)
			return NULL;
		cls = state_class(t->slots[link - 1].state);
		if (cls == want)
			return &t->slots[link - 1];
		age_unlink(t, link - 1);
		age_append(t, link - 1, cls);
	}
}

static uint32_t bucket_count(uint32_t max)
{
	uint32_t n = 2;

	while (n < 2 * max)
		n <<= 1;
	return n;
}

struct assoc_table *assoc_table_new(uint32_t max)
{
	struct assoc_table *t;
	uint32_t nb;
	ssize_t r;

	if (max == 0 || max > ASSOC_CAPACITY_LIMIT) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	do {
		r = getrandom(t->seed, sizeof(t->seed), 0);
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(t->seed))
		goto fail_table;
	t->slots = calloc(max, sizeof(*t->slots));
	if (!t->slots)
		goto fail_table;
	t->age = calloc(max, sizeof(*t->age));
	if (!t->age)
		goto fail_slots;
	nb = bucket_count(max);
	t->buckets = calloc((size_t)nb * 5, sizeof(*t->buckets));
	if (!t->buckets)
		goto fail_age;
	for (int i = 0; i < 2; i++) {
		t->local[i] = t->buckets + (size_t)nb * i;
		t->remote[i] = t->buckets + (size_t)nb * (2 + i);
	}
	t->pair = t->buckets + (size_t)nb * 4;
	t->mask = nb - 1;
	t->max = max;
	t->next_id = t->id_first = t->id_step = 1;
	return t;

fail_age:
	free(t->age);
fail_slots:
	free(t->slots);
fail_table:
	free(t);
	return NULL;
}

void assoc_table_free(struct assoc_table *t)
{
	if (!t)
		return;
	free(t->buckets);
	free(t->age);
	free(t->slots);
	free(t);
}

void assoc_table_set_ids(struct assoc_table *t, uint32_t first, uint32_t step)
{
	t->next_id = t->id_first = first ? first : 1;
	t->id_step = step ? step : 1;
}

uint32_t assoc_table_count(const struct assoc_table *t)
{
	return t->count;
}

uint32_t assoc_table_capacity(const struct assoc_table *t)
{
	return t->max;
}

const char *assoc_state_name(enum assoc_state s)
{
	static const char *const names[ASSOC_STATE_COUNT] = {
		[ASSOC_CLOSED] = "closed",     [ASSOC_INIT] = "init",
		[ASSOC_COOKIE] = "cookie",     [ASSOC_ESTABLISHED] = "established",
		[ASSOC_SHUTDOWN] = "shutdown",
	};

	if ((unsigned)s >= ASSOC_STATE_COUNT)
		return "unknown";
	return names[s];
}

struct assoc *assoc_lookup_local(struct assoc_table *t, const struct gw_addr *iaddr, uint16_t iport,
				 uint16_t rport, uint32_t tag, bool tag_is_itag)
{
	int role = tag_is_itag ? ROLE_ITAG : ROLE_RTAG;
	uint32_t link;

	age_settle(t);
	if (!tag)
		return NULL;
	link = t->local[role][hash_local(t, iport, rport, tag) & t->mask];
	while (link) {
		struct assoc *a = &t->slots[link - 1];

		if (role_tag(a, role) == tag && a->iport == iport && a->rport == rport &&
		    assoc_has_iaddr(a, iaddr))
			return handed_out(t, a);
		link = a->next_local[role];
	}
	return NULL;
}

struct assoc *assoc_lookup_remote(struct assoc_table *t, uint16_t seen_port, uint16_t rport,
				  uint32_t tag, bool tag_is_itag)
{
	int role = tag_is_itag ? ROLE_ITAG : ROLE_RTAG;
	uint32_t link;

	age_settle(t);
	if (!tag)
		return NULL;
	link = t->remote[role][hash_remote(t, seen_port, rport, tag) & t->mask];
	while (link) {
		struct assoc *a = &t->slots[link - 1];

		if (role_tag(a, role) == tag && a->seen_port == seen_port && a->rport == rport)
			return handed_out(t, a);
		link = a->next_remote[role];
	}
	return NULL;
}

bool assoc_remote_key_taken(struct assoc_table *t, uint16_t seen_port, uint16_t rport, uint32_t tag,
			    bool tag_is_itag)
{
	return assoc_lookup_remote(t, seen_port, rport, tag, tag_is_itag) != NULL;
}

bool assoc_port_pair_conflict(struct assoc_table *t, uint16_t seen_port, uint16_t rport,
			      const struct gw_addr *raddr, const struct gw_addr *iaddr,
			      uint16_t iport)
{
	uint32_t link = t->pair[hash_pair(t, seen_port, rport) & t->mask];

	for (; link; link = t->slots[link - 1].next_pair) {
		struct assoc *b = &t->slots[link - 1];

		if (b->seen_port != seen_port || b->rport != rport || b->state == ASSOC_CLOSED)
			continue;
		/* The same internal endpoint again (a restart) is not a collision. */
		if (b->iport == iport && assoc_has_iaddr(b, iaddr))
			continue;
		if (assoc_path_find(b, raddr))
			return true;
	}
	return false;
}

struct assoc *assoc_pair_next(struct assoc_table *t, uint16_t seen_port, uint16_t rport,
			      struct assoc *prev)
{
	uint32_t link = prev ? prev->next_pair : t->pair[hash_pair(t, seen_port, rport) & t->mask];

	age_settle(t);
	for (; link; link = t->slots[link - 1].next_pair) {
		struct assoc *b = &t->slots[link - 1];

		if (b->seen_port == seen_port && b->rport == rport)
			return handed_out(t, b);
	}
	return NULL;
}

static uint32_t slot_alloc(struct assoc_table *t)
{
	uint32_t slot;

	if (t->free_head) {
		slot = t->free_head - 1;
		t->free_head = t->slots[slot].next_local[0];
	} else {
		slot = t->hwm++;
	}
	if (slot < t->lo)
		t->lo = slot;
	return slot;
}

struct assoc *assoc_create(struct assoc_table *t, const struct gw_addr *iaddr, uint16_t iport,
			   uint16_t seen_port, uint16_t rport, uint32_t itag, uint32_t rtag,
			   enum assoc_origin origin, uint64_t now_ms)
{
	struct assoc *a;
	uint32_t slot;

	age_settle(t);
	if (t->count == t->max) {
		a = age_victim(t);
		if (!a)
			return NULL;
		assoc_remove(t, a);
	}
	slot = slot_alloc(t);
	a = &t->slots[slot];
	memset(a, 0, sizeof(*a));
	a->id = t->next_id;
	t->next_id += t->id_step;
	if (t->next_id < a->id) /* wrapped: never 0, still ours */
		t->next_id = t->id_first;
	a->state = ASSOC_INIT;
	a->origin = (uint8_t)origin;
	a->in_use = 1;
	a->iaddr = *iaddr;
	a->iaddrs[0].addr = *iaddr;
	a->iaddrs[0].last_s = (uint32_t)(now_ms / 1000) + 1;
	a->niaddrs = 1;
	a->iport = iport;
	a->seen_port = seen_port;
	a->rport = rport;
	a->itag = itag;
	a->rtag = rtag;
	a->created_ms = a->last_ms = now_ms;
	if (itag)
		index_insert(t, a, ROLE_ITAG);
	if (rtag)
		index_insert(t, a, ROLE_RTAG);
	{
		uint32_t *head = &t->pair[hash_pair(t, seen_port, rport) & t->mask];

		a->next_pair = *head;
		*head = slot + 1;
	}
	age_append(t, slot, AGE_HALF);
	t->count++;
	return handed_out(t, a);
}

void assoc_set_itag(struct assoc_table *t, struct assoc *a, uint32_t itag)
{
	age_settle(t);
	handed_out(t, a);
	if (a->itag == itag)
		return;
	if (a->itag)
		index_unlink(t, a, ROLE_ITAG);
	a->itag = itag;
	if (itag)
		index_insert(t, a, ROLE_ITAG);
}

void assoc_set_rtag(struct assoc_table *t, struct assoc *a, uint32_t rtag)
{
	age_settle(t);
	handed_out(t, a);
	if (a->rtag == rtag)
		return;
	if (a->rtag)
		index_unlink(t, a, ROLE_RTAG);
	a->rtag = rtag;
	if (rtag)
		index_insert(t, a, ROLE_RTAG);
}

void assoc_remove(struct assoc_table *t, struct assoc *a)
{
	uint32_t slot = slot_of(t, a);

	age_settle(t);
	if (!a->in_use)
		return;
	if (a->itag)
		index_unlink(t, a, ROLE_ITAG);
	if (a->rtag)
		index_unlink(t, a, ROLE_RTAG);
	for (uint32_t *p = &t->pair[hash_pair(t, a->seen_port, a->rport) & t->mask]; *p;
	     p = &t->slots[*p - 1].next_pair) {
		if (*p == slot + 1) {
			*p = a->next_pair;
			break;
		}
	}
	age_unlink(t, slot);
	memset(a, 0, sizeof(*a));
	t->count--;
	if (t->count == 0) {
		/* Empty again: forget the high-water mark so scans stay short. */
		t->hwm = t->lo = t->free_head = 0;
		return;
	}
	a->next_local[0] = t->free_head;
	t->free_head = slot + 1;
}

struct assoc_iaddr *assoc_iaddr_find(struct assoc *a, const struct gw_addr *addr)
{
	for (unsigned i = 0; i < a->niaddrs; i++)
		if (addr_equal(&a->iaddrs[i].addr, addr))
			return &a->iaddrs[i];
	return NULL;
}

void assoc_add_iaddrs(struct assoc *a, const struct gw_addr *list, unsigned n)
{
	for (unsigned i = 0; i < n && a->niaddrs < ASSOC_MAX_IADDRS; i++) {
		if (assoc_iaddr_find(a, &list[i]))
			continue;
		a->iaddrs[a->niaddrs].addr = list[i];
		a->iaddrs[a->niaddrs].last_s = 0;
		a->niaddrs++;
	}
}

void assoc_iaddr_used(struct assoc *a, struct assoc_iaddr *ia, uint64_t now_ms)
{
	ia->last_s = (uint32_t)(now_ms / 1000) + 1;
	a->iaddr = ia->addr;
}

const struct gw_addr *assoc_inject_addr(const struct assoc *a, uint8_t family)
{
	const struct assoc_iaddr *best = NULL;

	if (a->iaddr.family == family)
		return &a->iaddr;
	for (unsigned i = 0; i < a->niaddrs; i++) {
		const struct assoc_iaddr *ia = &a->iaddrs[i];

		if (ia->addr.family == family && (!best || ia->last_s > best->last_s))
			best = ia;
	}
	return best ? &best->addr : NULL;
}

struct assoc_path *assoc_path_find(struct assoc *a, const struct gw_addr *addr)
{
	for (unsigned i = 0; i < a->npaths && i < ASSOC_MAX_PATHS; i++) {
		if (addr_equal(&a->paths[i].addr, addr))
			return &a->paths[i];
	}
	return NULL;
}

struct assoc_path *assoc_path_get(struct assoc *a, const struct gw_addr *addr,
				  uint16_t default_udp_port)
{
	struct assoc_path *p = assoc_path_find(a, addr);

	if (p)
		return p;
	if (a->npaths < ASSOC_MAX_PATHS) {
		p = &a->paths[a->npaths++];
	} else {
		p = &a->paths[0];
		for (unsigned i = 1; i < ASSOC_MAX_PATHS; i++) {
			if (a->paths[i].last_seen_ms < p->last_seen_ms)
				p = &a->paths[i];
		}
	}
	memset(p, 0, sizeof(*p));
	p->addr = *addr;
	p->udp_port = default_udp_port;
	return p;
}

static uint32_t state_timeout(const struct assoc_timeouts *to, uint8_t state)
{
	switch (state) {
	case ASSOC_INIT:
	case ASSOC_COOKIE:
		return to->init_ms;
	case ASSOC_ESTABLISHED:
		return to->established_ms;
	case ASSOC_SHUTDOWN:
		return to->shutdown_ms;
	default:
		return to->closed_ms;
	}
}

unsigned assoc_expire(struct assoc_table *t, const struct assoc_timeouts *to, uint64_t now_ms)
{
	unsigned n = 0;

	age_settle(t);
	/* A slot scan over [lo, hwm): sequential memory beats walking the age lists, and
	 * it refiles every entry whose state changed since it was filed. */
	for (uint32_t i = t->lo; i < t->hwm; i++) {
		struct assoc *a = &t->slots[i];

		if (!a->in_use)
			continue;
		if (now_ms > a->last_ms && now_ms - a->last_ms > state_timeout(to, a->state)) {
			assoc_remove(t, a);
			n++;
			continue;
		}
		age_reclassify(t, i);
	}
	return n;
}

struct assoc *assoc_next(struct assoc_table *t, struct assoc *prev)
{
	uint32_t i = prev ? slot_of(t, prev) + 1 : t->lo;

	age_settle(t);
	for (; i < t->hwm; i++) {
		if (t->slots[i].in_use)
			break;
	}
	if (!prev)
		t->lo = i; /* makes "remove the first until none" loops linear */
	return handed_out(t, i < t->hwm ? &t->slots[i] : NULL);
}

struct assoc *assoc_by_id(struct assoc_table *t, uint32_t id)
{
	age_settle(t);
	if (!id)
		return NULL;
	for (uint32_t i = t->lo; i < t->hwm; i++) {
		if (t->slots[i].in_use && t->slots[i].id == id)
			return handed_out(t, &t->slots[i]);
	}
	return NULL;
}
