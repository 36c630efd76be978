/* control.h - the daemon side of the control socket (protocol in ctlproto.h). */
#ifndef SCTPGW_CONTROL_H
#define SCTPGW_CONTROL_H

struct gw;

/* Create the socket directory if needed, bind and listen (mode 0660), register with the
 * event loop through gw_watch(). 0, or -1 with a logged reason. */
int control_open(struct gw *gw, const char *path);
/* Close the listening socket and every client; unlink the path. */
void control_close(struct gw *gw);

#endif
