/* gw.h - the daemon: its options and its life (gw.c). */
#ifndef SCTPGW_GW_H
#define SCTPGW_GW_H

#include <stdbool.h>

struct privs_target;

struct gw_opts {
	const char *conf_path;
	const char *ctl_path;
	bool foreground;
	bool debug;
	const struct privs_target *privs; /* -u / -g: who to become after setup; NULL: stay */
};

/* Run the daemon until SIGTERM / SIGINT; returns the exit status. */
int gw_main(const struct gw_opts *opts);

#endif
