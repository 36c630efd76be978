/* log.c - logging to the journal or stderr, and rate limits. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "log.h"

static bool log_debug_on;
static bool log_journal;

void log_init(bool debug, bool to_journal)
{
	log_debug_on = debug;
	log_journal = to_journal;
}

static void log_vemit(int prio, const char *errstr, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_vemit(int prio, const char *errstr, const char *fmt, va_list ap)
{
	char msg[1024];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return;
	if (errstr && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", errstr);
	if (log_journal) {
		/* Detached on a host without journald: syslog is all that is left. */
		if (sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
				    "SYSLOG_IDENTIFIER=sctp-udp-gw", NULL) < 0)
			syslog(prio, "%s", msg);
	} else {
		fprintf(stderr, "sctp-udp-gw: %s\n", msg);
	}
}

#define LOG_FN(name, prio, with_errno)                                             \
	void name(const char *fmt, ...)                                            \
	{                                                                          \
		int saved = errno;                                                 \
		va_list ap;                                                        \
		if ((prio) == LOG_DEBUG && !log_debug_on)                          \
			return;                                                    \
		va_start(ap, fmt);                                                 \
		log_vemit((prio), (with_errno) ? strerror(saved) : NULL, fmt, ap); \
		va_end(ap);                                                        \
		errno = saved;                                                     \
	}

LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_err, LOG_ERR, 0)

bool ratelimit_ok(struct ratelimit *rl, uint64_t now_ms, uint64_t *suppressed)
{
	if (now_ms - rl->window_start >= rl->interval_ms || rl->window_start == 0) {
		rl->window_start = now_ms ? now_ms : 1;
		rl->count = 0;
	}
	if (rl->count < rl->burst) {
		rl->count++;
		if (suppressed)
			*suppressed = rl->suppressed;
		rl->suppressed = 0;
		return true;
	}
	rl->suppressed++;
	return false;
}

uint64_t now_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
