/* main.c - sctp-udp-gw: options, then gw_main(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "conf.h"
#include "ctlproto.h"
#include "gw.h"
#include "log.h"
#include "privs.h"

/* The file `make install` puts in place: under the configured sysconfdir, which is
 * /etc for a packaged build and /usr/local/etc with the autoconf default. */
#ifdef SYSCONFDIR
#define GW_CONF_PATH SYSCONFDIR "/sctp-udp-gw/sctp-udp-gw.conf"
#else
#define GW_CONF_PATH CONF_DEFAULT_PATH
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sctp-udp-gw [-c FILE] [-f] [-n] [-s SOCKET] [-u USER [-g GROUP]]\n"
		"                   [-d] [-V]\n"
		"  -c FILE    configuration file (default %s)\n"
		"  -f         stay in the foreground\n"
		"  -n         check the configuration and exit (with -d: print it normalized)\n"
		"  -s SOCKET  control socket (default %s)\n"
		"  -u USER    after setup, run as USER with only CAP_NET_ADMIN and CAP_NET_RAW\n"
		"  -g GROUP   with -u: run as GROUP (default USER's group); the control socket's\n"
		"             group, whose members may reload and change the daemon\n"
		"  -d         debug logging\n"
		"  -V         print the version and exit\n",
		GW_CONF_PATH, CTL_DEFAULT_SOCKET);
}

static int check_config(const char *path, bool dump)
{
	struct gw_conf *c = malloc(sizeof(*c));
	char err[CONF_ERR_LEN + 64];
	int rc = 1;

	if (!c) {
		fprintf(stderr, "sctp-udp-gw: out of memory\n");
		return 1;
	}
	if (conf_load_file(path, c, err, sizeof(err)) < 0) {
		fprintf(stderr, "sctp-udp-gw: %s\n", err);
	} else {
		if (dump)
			conf_dump(c, stdout);
		printf("configuration OK\n");
		rc = 0;
	}
	free(c);
	return rc;
}

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected stderr to; a
 * child that inherited the variable but writes elsewhere must keep using stderr. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* The command line. */
struct cmdline {
	struct gw_opts opts;
	const char *user, *group;
	bool check_only;
};

/* -1 to go on, else the exit status (-V, -h, a usage error). */
static int parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:fns:u:g:dVh")) != -1) {
		switch (ch) {
		case 'c':
			cl->opts.conf_path = optarg;
			break;
		case 'f':
			cl->opts.foreground = true;
			break;
		case 'n':
			cl->check_only = true;
			break;
		case 's':
			cl->opts.ctl_path = optarg;
			break;
		case 'u':
			cl->user = optarg;
			break;
		case 'g':
			cl->group = optarg;
			break;
		case 'd':
			cl->opts.debug = true;
			break;
		case 'V':
			printf("sctp-udp-gw %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cl->group && !cl->user) {
		fprintf(stderr, "sctp-udp-gw: -g needs -u\n");
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { .opts = { .conf_path = GW_CONF_PATH,
					.ctl_path = CTL_DEFAULT_SOCKET } };
	struct gw_opts *opts = &cl.opts;
	struct privs_target privs;
	int rc = parse_cmdline(argc, argv, &cl);

	if (rc >= 0)
		return rc;
	if (cl.check_only)
		return check_config(opts->conf_path, opts->debug);
	/* Names are resolved now, while errors still reach the terminal. */
	if (cl.user) {
		char err[256];

		if (privs_resolve(cl.user, cl.group, &privs, err, sizeof(err)) < 0) {
			fprintf(stderr, "sctp-udp-gw: %s\n", err);
			return 1;
		}
		opts->privs = &privs;
	}

	/* Under systemd (or once detached) the journal gets structured priorities. */
	if (!opts->foreground && daemon(0, 0) < 0) {
		perror("sctp-udp-gw: daemon");
		return 1;
	}
	log_init(opts->debug, !opts->foreground || stderr_is_journal());
	return gw_main(opts);
}
