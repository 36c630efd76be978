/* loop.h - the control thread's event loop: epoll, one callback per watched descriptor,
 * run until asked to quit. The data-path workers run loops of their own (worker.c). */
#ifndef SCTPGW_LOOP_H
#define SCTPGW_LOOP_H

#include <stdint.h>

struct loop;
typedef void (*loop_fd_cb)(int fd, uint32_t events, void *arg);

/* NULL with errno set. */
struct loop *loop_new(void);
void loop_free(struct loop *l);
/* Call cb(fd, events, arg) when fd has any of events (EPOLLIN...). 0, or -1 with errno. */
int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);
void loop_unwatch(struct loop *l, int fd);
/* Dispatch events until loop_quit(); 0, or -1 (logged) when epoll_wait fails. */
int loop_run(struct loop *l);
/* From a callback: no more events after this one. */
void loop_quit(struct loop *l);

#endif
