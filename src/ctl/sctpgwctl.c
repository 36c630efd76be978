/* sctpgwctl.c - talk to sctp-udp-gw over its control socket.
 *
 * One request per connection; the daemon sends binary records (ctlproto.h) and this
 * program formats them through struct output (text, or JSON with -j). Every reply is
 * checked (magic, version, type, size) before it is used, and every read has a
 * deadline. Exit status: 0 ok, 1 the daemon or the connection failed, 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "assoc.h"
#include "build-config.h"
#include "ctlproto.h"
#include "output.h"

#define EXIT_USAGE 2
#define CTL_TIMEOUT_S 5
/* Far beyond any table size the daemon accepts; stops a runaway reply. */
#define CTL_MAX_RECORDS (1u << 24)
/* ctl_send(): the daemon closed before reading; it may have said why. */
#define CTL_SEND_CLOSED (-1)

struct ctl {
	const char *path;
	const struct output *out;
	bool json;
	int fd;
	uint8_t *payload; /* CTL_MAX_PAYLOAD bytes: the current reply's payload */
};

/* A growing array of fixed-size records received from the daemon. */
struct vec {
	void *p;
	size_t n, cap, size;
};

/* Where the records of one reply type go. */
struct sink {
	uint16_t type;
	struct vec *v;
};

static int vec_push(struct vec *v, const void *rec)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->p, cap * v->size);

		if (!p)
			return -1;
		v->p = p;
		v->cap = cap;
	}
	memcpy((uint8_t *)v->p + v->n * v->size, rec, v->size);
	v->n++;
	return 0;
}

static int ctl_connect(struct ctl *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	size_t len = strlen(c->path);
	const char *hint = "";

	if (len == 0 || len >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sctpgwctl: socket path %s is %s (at most %zu bytes)\n", c->path,
			len ? "too long" : "empty", sizeof(sun.sun_path) - 1);
		return EXIT_USAGE;
	}
	memcpy(sun.sun_path, c->path, len + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fprintf(stderr, "sctpgwctl: socket: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	/* SO_SNDTIMEO also bounds connect() on a unix socket with a full backlog. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		fprintf(stderr, "sctpgwctl: setsockopt: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return 0;
	switch (errno) {
	case ENOENT:
	case ECONNREFUSED:
		hint = " (is sctp-udp-gw running?)";
		break;
	case EACCES:
	case EPERM:
		hint = " (run as root or a member of the socket's group)";
		break;
	case EAGAIN:
		hint = " (the daemon does not accept connections; is it hung?)";
		break;
	}
	fprintf(stderr, "sctpgwctl: cannot reach the daemon at %s: %s%s\n", c->path,
		strerror(errno), hint);
	return EXIT_FAILURE;
}

static int ctl_send(struct ctl *c, uint16_t type, const void *payload, size_t len)
{
	uint8_t msg[sizeof(struct ctl_hdr) + sizeof(struct ctl_set_port)];
	struct ctl_hdr h = {
		.magic = CTL_MAGIC, .version = CTL_VERSION, .type = type, .len = (uint32_t)len,
	};
	size_t off = 0, total = sizeof(h) + len;

	if (len > sizeof(msg) - sizeof(h))
		return EXIT_FAILURE; /* requests are tiny; cannot happen */
	memcpy(msg, &h, sizeof(h));
	if (len)
		memcpy(msg + sizeof(h), payload, len);
	while (off < total) {
		ssize_t n = send(c->fd, msg + off, total - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return CTL_SEND_CLOSED;
		if (n < 0) {
			fprintf(stderr, "sctpgwctl: sending the request to %s: %s\n", c->path,
				errno == EAGAIN ? "timed out" : strerror(errno));
			return EXIT_FAILURE;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Exactly len bytes, across short reads, or a printed error. */
static int ctl_read_full(struct ctl *c, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(c->fd, (uint8_t *)buf + off, len - off, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			fprintf(stderr, "sctpgwctl: timed out after %d s waiting for the daemon\n",
				CTL_TIMEOUT_S);
			return EXIT_FAILURE;
		}
		if (n < 0) {
			fprintf(stderr, "sctpgwctl: reading from %s: %s\n", c->path, strerror(errno));
			return EXIT_FAILURE;
		}
		if (n == 0) {
			fprintf(stderr, "sctpgwctl: the daemon closed the connection before "
					"finishing its reply\n");
			return EXIT_FAILURE;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Payload size a reply type must have; -1: any up to CTL_MAX_PAYLOAD, -2: unknown type. */
static long ctl_reply_len(uint16_t type, uint32_t len)
{
	switch (type) {
	case CTL_REP_ASSOC:
		return sizeof(struct ctl_assoc_rec);
	case CTL_REP_STAT:
		return sizeof(struct ctl_stat_rec);
	case CTL_REP_RULES_HDR:
		return sizeof(struct ctl_rules_hdr);
	case CTL_REP_RULE:
		return sizeof(struct ctl_rule_rec);
	case CTL_REP_DONE:
		return len == 0 ? 0 : (long)sizeof(struct ctl_done);
	case CTL_REP_CONFIG:
	case CTL_REP_ERROR:
		return -1;
	default:
		return -2;
	}
}

/* One reply message: the header checked, the payload in c->payload. */
static int ctl_recv(struct ctl *c, struct ctl_hdr *h)
{
	long want;
	int rc = ctl_read_full(c, h, sizeof(*h));

	if (rc)
		return rc;
	if (h->magic != CTL_MAGIC) {
		fprintf(stderr, "sctpgwctl: %s does not speak the sctp-udp-gw control protocol\n",
			c->path);
		return EXIT_FAILURE;
	}
	if (h->version != CTL_VERSION) {
		fprintf(stderr, "sctpgwctl: protocol version mismatch: daemon speaks %u, "
				"sctpgwctl %u\n", h->version, CTL_VERSION);
		return EXIT_FAILURE;
	}
	want = ctl_reply_len(h->type, h->len);
	if (want == -2) {
		fprintf(stderr, "sctpgwctl: unexpected reply type %u from the daemon\n", h->type);
		return EXIT_FAILURE;
	}
	if (h->len > CTL_MAX_PAYLOAD || (want >= 0 && (long)h->len != want)) {
		fprintf(stderr, "sctpgwctl: malformed reply from the daemon (type %u, %u bytes)\n",
			h->type, h->len);
		return EXIT_FAILURE;
	}
	return ctl_read_full(c, c->payload, h->len);
}

/* The daemon's message text, made safe for a terminal. */
static void ctl_print_error(const struct ctl *c, const struct ctl_hdr *h)
{
	uint8_t *m = c->payload;

	for (uint32_t i = 0; i < h->len; i++) {
		if (m[i] < 0x20 || m[i] == 0x7f)
			m[i] = '?';
	}
	if (h->len)
		fprintf(stderr, "sctpgwctl: %.*s\n", (int)h->len, (const char *)m);
	else
		fprintf(stderr, "sctpgwctl: %s\n", strerror(h->status < 0 ? -h->status : EIO));
}

/* Send one request and read the reply: each data message is appended to the vec of the
 * sink for its type (records, or raw bytes for CONFIG), until DONE (its count in *count)
 * or ERROR. A type without a sink is a protocol error. */
static int ctl_transact(struct ctl *c, uint16_t type, const void *payload, size_t len,
			const struct sink *sinks, size_t nsinks, uint32_t *count)
{
	struct ctl_hdr h;
	struct vec *data;
	bool pending = false;
	int rc = ctl_connect(c);

	if (!rc)
		rc = ctl_send(c, type, payload, len);
	if (rc == CTL_SEND_CLOSED) {
		/* A daemon that refuses a connection (too many clients) sends an ERROR and
		 * closes: show that rather than a broken pipe. */
		rc = ctl_recv(c, &h);
		if (!rc && h.type != CTL_REP_ERROR) {
			fprintf(stderr, "sctpgwctl: the daemon closed the connection\n");
			rc = EXIT_FAILURE;
		}
		pending = true;
	}
	while (!rc) {
		if (!pending)
			rc = ctl_recv(c, &h);
		pending = false;
		if (rc)
			break;
		if (h.type == CTL_REP_ERROR) {
			ctl_print_error(c, &h);
			rc = EXIT_FAILURE;
		} else if (h.type == CTL_REP_DONE) {
			struct ctl_done d = { 0 };

			if (h.len)
				memcpy(&d, c->payload, sizeof(d));
			if (count)
				*count = d.count;
			break;
		}
		data = NULL;
		for (size_t i = 0; i < nsinks && !data; i++) {
			if (sinks[i].type == h.type)
				data = sinks[i].v;
		}
		if (!data) {
			fprintf(stderr, "sctpgwctl: unexpected reply type %u from the daemon\n",
				h.type);
			rc = EXIT_FAILURE;
		} else if (h.type == CTL_REP_CONFIG) {
			for (uint32_t i = 0; i < h.len && !rc; i++)
				rc = vec_push(data, &c->payload[i]) ? EXIT_FAILURE : 0;
			if (rc)
				fprintf(stderr, "sctpgwctl: out of memory\n");
		} else if (data->n >= CTL_MAX_RECORDS || vec_push(data, c->payload) < 0) {
			fprintf(stderr, "sctpgwctl: reply too large\n");
			rc = EXIT_FAILURE;
		}
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return rc;
}

static int parse_u32(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

#define ASSOC_FILTER_USAGE "[state STATE] [internal ADDRESS] [remote ADDRESS] [port PORT]"

/* show associations filters, all of which must match. The daemon sends every
 * association and the CLI selects: the table is read once either way. */
struct assoc_filter {
	bool has_state, has_internal, has_remote, has_port;
	uint8_t state;
	struct gw_addr internal, remote;
	uint16_t port;
};

static void gw_addr_from_ctl(struct gw_addr *out, const struct ctl_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family;
	memcpy(out->bytes, a->bytes, sizeof(out->bytes));
}

static int parse_state(const char *s, uint8_t *out)
{
	for (int i = 0; i < ASSOC_STATE_COUNT; i++) {
		if (!strcasecmp(s, assoc_state_name((enum assoc_state)i))) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return -1;
}

/* Keyword / value pairs; a message and EXIT_USAGE on anything else. */
static int assoc_filter_parse(struct assoc_filter *f, int argc, char **argv)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < argc; i += 2) {
		const char *key = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool known = !strcmp(key, "state") || !strcmp(key, "internal") ||
			     !strcmp(key, "remote") || !strcmp(key, "port");
		bool *seen = NULL;
		uint32_t port;
		int bad = 0;

		if (!known) {
			fprintf(stderr, "sctpgwctl: unknown filter \"%s\" "
					"(state, internal, remote or port)\n", key);
			goto usage;
		}
		if (!val) {
			fprintf(stderr, "sctpgwctl: filter \"%s\" needs a value\n", key);
			goto usage;
		}
		switch (key[0]) {
		case 's':
			seen = &f->has_state;
			if (parse_state(val, &f->state) < 0) {
				fprintf(stderr, "sctpgwctl: invalid state \"%s\" (closed, init, "
						"cookie, established or shutdown)\n", val);
				bad = 1;
			}
			break;
		case 'i':
		case 'r':
			seen = key[0] == 'i' ? &f->has_internal : &f->has_remote;
			if (addr_parse(val, key[0] == 'i' ? &f->internal : &f->remote) < 0) {
				fprintf(stderr, "sctpgwctl: invalid %s address \"%s\"\n", key, val);
				bad = 1;
			}
			break;
		case 'p':
			seen = &f->has_port;
			if (parse_u32(val, 1, 65535, &port) < 0) {
				fprintf(stderr, "sctpgwctl: invalid SCTP port \"%s\" (1-65535)\n", val);
				bad = 1;
			} else {
				f->port = (uint16_t)port;
			}
			break;
		}
		if (bad)
			return EXIT_USAGE;
		if (*seen) {
			fprintf(stderr, "sctpgwctl: filter \"%s\" given twice\n", key);
			return EXIT_USAGE;
		}
		*seen = true;
	}
	return 0;
usage:
	fprintf(stderr, "usage: sctpgwctl show associations " ASSOC_FILTER_USAGE "\n");
	return EXIT_USAGE;
}

static bool assoc_filter_match(const struct assoc_filter *f, const struct ctl_assoc_rec *r)
{
	struct gw_addr a;
	bool found;

	if (f->has_state && r->state != f->state)
		return false;
	if (f->has_internal) {
		gw_addr_from_ctl(&a, &r->iaddr);
		if (!addr_equal(&a, &f->internal))
			return false;
	}
	if (f->has_remote) {
		found = false;
		for (unsigned i = 0; i < r->npaths && i < ASSOC_MAX_PATHS && !found; i++) {
			gw_addr_from_ctl(&a, &r->paths[i].addr);
			found = addr_equal(&a, &f->remote);
		}
		if (!found)
			return false;
	}
	if (f->has_port && r->iport != f->port && r->seen_port != f->port &&
	    r->rport != f->port)
		return false;
	return true;
}

static int cmd_show_associations(struct ctl *c, int argc, char **argv)
{
	struct vec v = { .size = sizeof(struct ctl_assoc_rec) };
	const struct sink sink = { CTL_REP_ASSOC, &v };
	struct assoc_filter f;
	struct ctl_assoc_rec *recs;
	size_t n = 0;
	int rc = assoc_filter_parse(&f, argc, argv);

	if (rc)
		return rc;
	rc = ctl_transact(c, CTL_REQ_SHOW_ASSOC, NULL, 0, &sink, 1, NULL);
	recs = v.p;
	for (size_t i = 0; !rc && i < v.n; i++) {
		if (assoc_filter_match(&f, &recs[i]))
			recs[n++] = recs[i];
	}
	if (!rc && c->out->assoc_list(stdout, recs, n) < 0)
		rc = EXIT_FAILURE;
	free(v.p);
	return rc;
}

static int cmd_show_association(struct ctl *c, int argc, char **argv)
{
	struct ctl_assoc_filter f;
	struct vec v = { .size = sizeof(struct ctl_assoc_rec) };
	const struct sink sink = { CTL_REP_ASSOC, &v };
	int rc;

	if (parse_u32(argv[0], 1, UINT32_MAX, &f.id) < 0) {
		fprintf(stderr, "sctpgwctl: invalid association id \"%s\"\n", argv[0]);
		return EXIT_USAGE;
	}
	rc = ctl_transact(c, CTL_REQ_SHOW_ASSOC, &f, sizeof(f), &sink, 1, NULL);
	if (!rc && v.n != 1) {
		fprintf(stderr, "sctpgwctl: the daemon sent %zu records for association %u\n",
			v.n, f.id);
		rc = EXIT_FAILURE;
	}
	if (!rc && c->out->assoc_detail(stdout, v.p) < 0)
		rc = EXIT_FAILURE;
	free(v.p);
	return rc;
}

static int cmd_show_stats(struct ctl *c, int argc, char **argv)
{
	struct vec v = { .size = sizeof(struct ctl_stat_rec) };
	const struct sink sink = { CTL_REP_STAT, &v };
	bool prom = false;
	int rc;

	if (argc == 1) {
		if (strcmp(argv[0], "--prometheus") != 0 || c->json) {
			fprintf(stderr, "sctpgwctl: usage: show stats [--prometheus] (not with -j)\n");
			return EXIT_USAGE;
		}
		prom = true;
	}
	rc = ctl_transact(c, CTL_REQ_SHOW_STATS, NULL, 0, &sink, 1, NULL);
	if (!rc) {
		struct ctl_stat_rec *s = v.p;

		for (size_t i = 0; i < v.n; i++)
			s[i].name[CTL_STAT_NAME_LEN - 1] = '\0';
		if ((prom ? output_stats_prometheus(stdout, s, v.n) :
			    c->out->stats(stdout, s, v.n)) < 0)
			rc = EXIT_FAILURE;
	}
	free(v.p);
	return rc;
}

static int cmd_show_config(struct ctl *c, int argc, char **argv)
{
	struct vec v = { .size = 1 };
	const struct sink sink = { CTL_REP_CONFIG, &v };
	int rc = ctl_transact(c, CTL_REQ_SHOW_CONFIG, NULL, 0, &sink, 1, NULL);

	if (!rc && c->out->config(stdout, v.p ? v.p : "", v.n) < 0) {
		fprintf(stderr, "sctpgwctl: cannot print the configuration\n");
		rc = EXIT_FAILURE;
	}
	free(v.p);
	return rc;
}

static int cmd_show_rules(struct ctl *c, int argc, char **argv)
{
	struct vec hv = { .size = sizeof(struct ctl_rules_hdr) };
	struct vec rv = { .size = sizeof(struct ctl_rule_rec) };
	const struct sink sinks[] = { { CTL_REP_RULES_HDR, &hv }, { CTL_REP_RULE, &rv } };
	int rc = ctl_transact(c, CTL_REQ_SHOW_RULES, NULL, 0, sinks, 2, NULL);

	if (!rc && hv.n != 1) {
		fprintf(stderr, "sctpgwctl: the daemon sent %zu rule headers, expected 1\n", hv.n);
		rc = EXIT_FAILURE;
	}
	if (!rc) {
		struct ctl_rules_hdr *h = hv.p;

		h->queue_mechanism[CTL_QUEUE_MECH_LEN - 1] = '\0';
		if (c->out->rules(stdout, h, rv.p, rv.n) < 0)
			rc = EXIT_FAILURE;
	}
	free(hv.p);
	free(rv.p);
	return rc;
}

static int cmd_reload(struct ctl *c, int argc, char **argv)
{
	int rc = ctl_transact(c, CTL_REQ_RELOAD, NULL, 0, NULL, 0, NULL);

	if (!rc && c->out->result(stdout, OUTPUT_RELOADED, 0) < 0)
		rc = EXIT_FAILURE;
	return rc;
}

static int cmd_flush(struct ctl *c, int argc, char **argv)
{
	uint32_t n = 0;
	int rc = ctl_transact(c, CTL_REQ_FLUSH, NULL, 0, NULL, 0, &n);

	if (!rc && c->out->result(stdout, OUTPUT_FLUSHED, n) < 0)
		rc = EXIT_FAILURE;
	return rc;
}

static int cmd_set_port(struct ctl *c, int argc, char **argv)
{
	struct ctl_set_port sp;
	struct gw_addr a;
	uint32_t port, n = 0;
	int rc;

	memset(&sp, 0, sizeof(sp));
	if (addr_parse(argv[0], &a) < 0) {
		fprintf(stderr, "sctpgwctl: invalid address \"%s\"\n", argv[0]);
		return EXIT_USAGE;
	}
	if (parse_u32(argv[1], 1, 65535, &port) < 0) {
		fprintf(stderr, "sctpgwctl: invalid UDP port \"%s\" (1-65535)\n", argv[1]);
		return EXIT_USAGE;
	}
	if (argc > 2 && parse_u32(argv[2], 1, UINT32_MAX, &sp.assoc_id) < 0) {
		fprintf(stderr, "sctpgwctl: invalid association id \"%s\"\n", argv[2]);
		return EXIT_USAGE;
	}
	sp.addr.family = a.family;
	memcpy(sp.addr.bytes, a.bytes, sizeof(sp.addr.bytes));
	sp.udp_port = (uint16_t)port;
	rc = ctl_transact(c, CTL_REQ_SET_PORT, &sp, sizeof(sp), NULL, 0, &n);
	if (!rc && c->out->result(stdout, OUTPUT_UPDATED, n) < 0)
		rc = EXIT_FAILURE;
	return rc;
}

struct cmd {
	const char *words[3]; /* NULL-terminated */
	const char *args;
	int min_args, max_args;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ { "show", "associations" }, "[FILTER...]", 0, 8, cmd_show_associations,
	  "list associations (FILTER: state, internal, remote, port)" },
	{ { "show", "association" }, "ID", 1, 1, cmd_show_association,
	  "every detail of one association" },
	{ { "show", "stats" }, "[--prometheus]", 0, 1, cmd_show_stats,
	  "counters (--prometheus: Prometheus text format)" },
	{ { "show", "config" }, "", 0, 0, cmd_show_config,
	  "the running configuration" },
	{ { "show", "rules" }, "", 0, 0, cmd_show_rules,
	  "queueing mechanism and rules, with associations per rule" },
	{ { "reload" }, "", 0, 0, cmd_reload,
	  "re-read the configuration file; keeps it on error" },
	{ { "flush", "associations" }, "", 0, 0, cmd_flush,
	  "remove every association" },
	{ { "set", "remote-udp-port" }, "ADDRESS PORT [ID]", 2, 3, cmd_set_port,
	  "set the UDP port for a remote address (in association ID, or all)" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void cmd_synopsis(const struct cmd *cmd, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < 3 && cmd->words[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", cmd->words[i]);
	if (cmd->args[0] && off < len)
		snprintf(buf + off, len - off, " %s", cmd->args);
}

static void usage(FILE *f)
{
	char syn[80];

	fprintf(f,
		"usage: sctpgwctl [-s SOCKET] [-j] [-h] [-V] COMMAND...\n"
		"  -s SOCKET  control socket (default %s)\n"
		"  -j         JSON output\n"
		"  -h         this help\n"
		"  -V         print the version\n"
		"commands:\n", CTL_DEFAULT_SOCKET);
	for (size_t i = 0; i < NCMDS; i++) {
		cmd_synopsis(&cmds[i], syn, sizeof(syn));
		fprintf(f, "  %-38s %s\n", syn, cmds[i].help);
	}
}

/* Number of words of cmd that argv starts with, or 0 when it does not match. */
static int cmd_match(const struct cmd *cmd, int argc, char **argv)
{
	int n = 0;

	while (n < 3 && cmd->words[n]) {
		if (n >= argc || strcmp(argv[n], cmd->words[n]) != 0)
			return 0;
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct ctl c = { .path = CTL_DEFAULT_SOCKET, .out = &output_text, .fd = -1 };
	int ch, rc;

	/* '+': stop at the command, so "show stats --prometheus" reaches the command. */
	while ((ch = getopt(argc, argv, "+s:jhV")) != -1) {
		switch (ch) {
		case 's':
			c.path = optarg;
			break;
		case 'j':
			c.json = true;
			c.out = &output_json;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sctpgwctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < NCMDS; i++) {
		const struct cmd *cmd = &cmds[i];
		int nw = cmd_match(cmd, argc, argv);
		char syn[80];

		if (!nw)
			continue;
		if (argc - nw < cmd->min_args || argc - nw > cmd->max_args) {
			cmd_synopsis(cmd, syn, sizeof(syn));
			fprintf(stderr, "usage: sctpgwctl %s\n", syn);
			return EXIT_USAGE;
		}
		c.payload = malloc(CTL_MAX_PAYLOAD);
		if (!c.payload) {
			fprintf(stderr, "sctpgwctl: out of memory\n");
			return EXIT_FAILURE;
		}
		rc = cmd->fn(&c, argc - nw, argv + nw);
		free(c.payload);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "sctpgwctl: writing output: %s\n", strerror(errno));
			rc = EXIT_FAILURE;
		}
		return rc;
	}
	fprintf(stderr, "sctpgwctl: unknown command \"%s%s%s\"\n", argv[0], argc > 1 ? " " : "",
		argc > 1 ? argv[1] : "");
	usage(stderr);
	return EXIT_USAGE;
}
