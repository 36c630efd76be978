/* sctpgwctl.c - talk to sctp-udp-gw over its control socket.
 *
 * One request per connection; the daemon sends binary records (ctlproto.h). This file
 * parses the command line and does the socket; reply.c checks every message with
 * ctlcheck_reply() (the code fuzz_ctl exercises) and shows the reply through struct
 * output (text, or JSON with -j). Every read has a deadline. Exit status: 0 ok, 1 the
 * daemon or the connection failed, 2 usage. */
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

#include "compiler.h"
#include "addr.h"
#include "assoc.h"
#include "build-config.h"
#include "ctlcheck.h"
#include "ctlproto.h"
#include "output.h"
#include "reply.h"

#define EXIT_USAGE 2
#define CTL_TIMEOUT_S 5
/* ctl_send(): the daemon closed before reading; it may have said why. */
#define CTL_SEND_CLOSED (-1)

struct ctl {
	const char *path;
	const struct output *out;
	bool json;
	int fd;
	uint8_t *payload; /* CTL_MAX_PAYLOAD bytes: the current reply's payload */
};

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
		.magic = CTL_MAGIC,
		.version = CTL_VERSION,
		.type = type,
		.len = (uint32_t)len,
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
			fprintf(stderr, "sctpgwctl: reading from %s: %s\n", c->path,
				strerror(errno));
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

/* One reply message: the header checked, the payload in c->payload. */
static int ctl_recv(struct ctl *c, struct ctl_hdr *h)
{
	char err[160];
	int rc = ctl_read_full(c, h, sizeof(*h));

	if (rc)
		return rc;
	if (ctlcheck_reply_hdr(h, err, sizeof(err)) < -1) {
		fprintf(stderr, "sctpgwctl: %s\n", err); /* as reply_add() would say */
		return EXIT_FAILURE;
	}
	return ctl_read_full(c, c->payload, h->len);
}

/* Send one request and read the reply into r until it is complete (0) or failed. */
static int ctl_transact(struct ctl *c, uint16_t type, const void *payload, size_t len,
			struct reply *r)
{
	struct ctl_hdr h;
	int more = 1, rc = ctl_connect(c);
	/* A daemon that refuses a connection (too many clients) sends an ERROR and closes:
	 * show that rather than a broken pipe. */
	bool refused = false;

	if (!rc)
		rc = ctl_send(c, type, payload, len);
	if (rc == CTL_SEND_CLOSED) {
		refused = true;
		rc = 0;
	}
	while (!rc && more > 0) {
		rc = ctl_recv(c, &h);
		if (!rc && refused && h.type != CTL_REP_ERROR) {
			fprintf(stderr, "sctpgwctl: the daemon closed the connection\n");
			rc = EXIT_FAILURE;
		}
		if (!rc)
			more = reply_add(r, &h, c->payload, stderr);
		if (more < 0)
			rc = EXIT_FAILURE;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return rc;
}

/* Ask and show the answer: an exit status. */
static int ctl_run(struct ctl *c, uint16_t type, const void *payload, size_t len,
		   const struct reply_view *v)
{
	struct ctl_assoc_filter id = { 0 };
	struct reply r;
	int rc;

	if (type == CTL_REQ_SHOW_ASSOC && len == sizeof(id))
		memcpy(&id, payload, sizeof(id));
	reply_begin(&r, type, id.id);
	rc = ctl_transact(c, type, payload, len, &r);
	if (!rc)
		rc = reply_show(&r, v, stdout, stderr);
	reply_free(&r);
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

static int parse_addr(const char *s, struct ctl_addr *out)
{
	struct gw_addr a;

	if (addr_parse(s, &a) < 0)
		return -1;
	ctl_addr_from_gw_addr(out, &a);
	return 0;
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

/* One keyword and its value into f; a message and EXIT_USAGE when the value is bad. */
static int assoc_filter_set(struct assoc_filter *f, const char *key, const char *val)
{
	uint32_t port;

	switch (key[0]) {
	case 's':
		if (parse_state(val, &f->state) < 0) {
			fprintf(stderr,
				"sctpgwctl: invalid state \"%s\" (closed, init, "
				"cookie, established or shutdown)\n",
				val);
			return EXIT_USAGE;
		}
		break;
	case 'i':
	case 'r':
		if (parse_addr(val, key[0] == 'i' ? &f->internal : &f->remote) < 0) {
			fprintf(stderr, "sctpgwctl: invalid %s address \"%s\"\n", key, val);
			return EXIT_USAGE;
		}
		break;
	case 'p':
		if (parse_u32(val, 1, 65535, &port) < 0) {
			fprintf(stderr, "sctpgwctl: invalid SCTP port \"%s\" (1-65535)\n", val);
			return EXIT_USAGE;
		}
		f->port = (uint16_t)port;
		break;
	}
	return 0;
}

/* Keyword / value pairs; a message and EXIT_USAGE on anything else. */
static int assoc_filter_parse(struct assoc_filter *f, int argc, char **argv)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < argc; i += 2) {
		const char *key = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool *seen = !strcmp(key, "state")      ? &f->has_state
			     : !strcmp(key, "internal") ? &f->has_internal
			     : !strcmp(key, "remote")   ? &f->has_remote
			     : !strcmp(key, "port")     ? &f->has_port
							: NULL;

		if (!seen) {
			fprintf(stderr,
				"sctpgwctl: unknown filter \"%s\" "
				"(state, internal, remote or port)\n",
				key);
			goto usage;
		}
		if (!val) {
			fprintf(stderr, "sctpgwctl: filter \"%s\" needs a value\n", key);
			goto usage;
		}
		if (assoc_filter_set(f, key, val))
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

static int cmd_show_associations(struct ctl *c, int argc, char **argv)
{
	struct assoc_filter f;
	const struct reply_view v = { .out = c->out, .filter = &f };
	int rc = assoc_filter_parse(&f, argc, argv);

	return rc ? rc : ctl_run(c, CTL_REQ_SHOW_ASSOC, NULL, 0, &v);
}

static int cmd_show_association(struct ctl *c, int argc GW_UNUSED, char **argv)
{
	struct ctl_assoc_filter f;
	const struct reply_view v = { .out = c->out };

	if (parse_u32(argv[0], 1, UINT32_MAX, &f.id) < 0) {
		fprintf(stderr, "sctpgwctl: invalid association id \"%s\"\n", argv[0]);
		return EXIT_USAGE;
	}
	return ctl_run(c, CTL_REQ_SHOW_ASSOC, &f, sizeof(f), &v);
}

static int cmd_show_stats(struct ctl *c, int argc, char **argv)
{
	struct reply_view v = { .out = c->out };

	if (argc == 1) {
		if (strcmp(argv[0], "--prometheus") != 0 || c->json) {
			fprintf(stderr,
				"sctpgwctl: usage: show stats [--prometheus] (not with -j)\n");
			return EXIT_USAGE;
		}
		v.prometheus = true;
	}
	return ctl_run(c, CTL_REQ_SHOW_STATS, NULL, 0, &v);
}

static int cmd_set_port(struct ctl *c, int argc, char **argv)
{
	struct ctl_set_port sp;
	const struct reply_view v = { .out = c->out };
	uint32_t port;

	memset(&sp, 0, sizeof(sp));
	if (parse_addr(argv[0], &sp.addr) < 0) {
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
	sp.udp_port = (uint16_t)port;
	return ctl_run(c, CTL_REQ_SET_PORT, &sp, sizeof(sp), &v);
}

struct cmd {
	const char *words[3]; /* NULL-terminated */
	const char *args;
	int min_args, max_args;
	/* Parses the arguments and asks; NULL: send request, no payload, show the reply. */
	int (*fn)(struct ctl *c, int argc, char **argv);
	uint16_t request;
	const char *help;
};

static const struct cmd cmds[] = {
	{ { "show", "associations" },
	  "[FILTER...]",
	  0,
	  8,
	  cmd_show_associations,
	  0,
	  "list associations (FILTER: state, internal, remote, port)" },
	{ { "show", "association" },
	  "ID",
	  1,
	  1,
	  cmd_show_association,
	  0,
	  "every detail of one association" },
	{ { "show", "stats" },
	  "[--prometheus]",
	  0,
	  1,
	  cmd_show_stats,
	  0,
	  "counters (--prometheus: Prometheus text format)" },
	{ { "show", "config" }, "", 0, 0, NULL, CTL_REQ_SHOW_CONFIG, "the running configuration" },
	{ { "show", "rules" },
	  "",
	  0,
	  0,
	  NULL,
	  CTL_REQ_SHOW_RULES,
	  "queueing mechanism and rules, with associations per rule" },
	{ { "reload" },
	  "",
	  0,
	  0,
	  NULL,
	  CTL_REQ_RELOAD,
	  "re-read the configuration file; keeps it on error" },
	{ { "flush", "associations" }, "", 0, 0, NULL, CTL_REQ_FLUSH, "remove every association" },
	{ { "set", "remote-udp-port" },
	  "ADDRESS PORT [ID]",
	  2,
	  3,
	  cmd_set_port,
	  0,
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
		"commands:\n",
		CTL_DEFAULT_SOCKET);
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

/* One command with its arguments (after its words): an exit status. */
static int cmd_run(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	char syn[80];
	int rc;

	if (argc < cmd->min_args || argc > cmd->max_args) {
		cmd_synopsis(cmd, syn, sizeof(syn));
		fprintf(stderr, "usage: sctpgwctl %s\n", syn);
		return EXIT_USAGE;
	}
	c->payload = malloc(CTL_MAX_PAYLOAD);
	if (!c->payload) {
		fprintf(stderr, "sctpgwctl: out of memory\n");
		return EXIT_FAILURE;
	}
	if (cmd->fn) {
		rc = cmd->fn(c, argc, argv);
	} else {
		const struct reply_view v = { .out = c->out };

		rc = ctl_run(c, cmd->request, NULL, 0, &v);
	}
	free(c->payload);
	c->payload = NULL;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sctpgwctl: writing output: %s\n", strerror(errno));
		rc = EXIT_FAILURE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl c = { .path = CTL_DEFAULT_SOCKET, .out = &output_text, .fd = -1 };
	int ch;

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
		int nw = cmd_match(&cmds[i], argc, argv);

		if (nw)
			return cmd_run(&c, &cmds[i], argc - nw, argv + nw);
	}
	fprintf(stderr, "sctpgwctl: unknown command \"%s%s%s\"\n", argv[0], argc > 1 ? " " : "",
		argc > 1 ? argv[1] : "");
	usage(stderr);
	return EXIT_USAGE;
}
