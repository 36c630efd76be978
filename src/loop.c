/* loop.c - the control thread's event loop (loop.h). A fixed table of watches: the
 * control thread watches a handful of descriptors (signals, timers, the control socket
 * and its clients), so there is nothing to grow. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define LOOP_MAX_WATCH 64
#define LOOP_BATCH 32

struct loop_watch {
	int fd;
	loop_fd_cb cb; /* NULL: free slot */
	void *arg;
};

struct loop {
	int epfd;
	bool quit;
	struct loop_watch watch[LOOP_MAX_WATCH];
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events };

	for (int i = 0; i < LOOP_MAX_WATCH; i++) {
		if (l->watch[i].cb)
			continue;
		l->watch[i] = (struct loop_watch){ .fd = fd, .cb = cb, .arg = arg };
		ev.data.ptr = &l->watch[i];
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			l->watch[i].cb = NULL;
			return -1;
		}
		return 0;
	}
	errno = EMFILE;
	return -1;
}

void loop_unwatch(struct loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX_WATCH; i++) {
		if (l->watch[i].cb && l->watch[i].fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->watch[i].cb = NULL;
			l->watch[i].fd = -1;
		}
	}
}

void loop_quit(struct loop *l)
{
	l->quit = true;
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_BATCH];

	while (!l->quit) {
		int n = epoll_wait(l->epfd, ev, LOOP_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("loop_run: epoll_wait");
			return -1;
		}
		/* A callback may unwatch a descriptor whose event is later in this batch:
		 * its slot's cb is NULL by then. */
		for (int i = 0; i < n && !l->quit; i++) {
			struct loop_watch *w = ev[i].data.ptr;

			if (w->cb)
				w->cb(w->fd, ev[i].events, w->arg);
		}
	}
	return 0;
}
