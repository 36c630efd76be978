/* control.h - the daemon side of the control socket (protocol in ctlproto.h): the
 * socket, its clients and who may do what. Whatever a request reads or changes of the
 * daemon goes through struct control_ops; ctlreply.h turns it into records. */
#ifndef SCTPGW_CONTROL_H
#define SCTPGW_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct assoc_table;
struct ctlreply_view;
struct gw_addr;
struct gw_conf;
struct loop;
struct privs_target;

/* The daemon as the control socket sees it. Every function gets ctx. */
struct control_ops {
	void *ctx;
	/* Parse the configuration file again and swap it in; 0, or -1 with err set. */
	int (*reload)(void *ctx, char *err, size_t errlen);
	/* Remove every association; returns how many. */
	unsigned (*flush)(void *ctx);
	/* Set the learned UDP port of remote address addr in association assoc_id (0: in
	 * every association with a path to it). How many paths changed, or -ENOENT when
	 * there is no association assoc_id. */
	int (*set_remote_port)(void *ctx, uint32_t assoc_id, const struct gw_addr *addr,
			       uint16_t udp_port);
	/* The live configuration. */
	const struct gw_conf *(*conf)(void *ctx);
	/* Counters and state of this moment; control_refused is left to control.c. */
	void (*view)(void *ctx, struct ctlreply_view *v);
	/* The association tables (one per worker), each read with its lock held. */
	unsigned (*ntables)(void *ctx);
	struct assoc_table *(*lock_table)(void *ctx, unsigned i);
	void (*unlock_table)(void *ctx, unsigned i);
	/* The table that hands out this association id. */
	unsigned (*table_of)(void *ctx, uint32_t assoc_id);
};

/* Create the socket directory if needed, bind and listen (mode 0660; with privs, owned by
 * its user and group), and watch it in loop. 0, or -1 with a logged reason. */
int control_open(struct loop *loop, const struct control_ops *ops, const char *path,
		 const struct privs_target *privs);
/* Close the listening socket and every client; unlink the path. */
void control_close(void);

#endif
