/* log.h - logging to the journal (under systemd) or stderr, and rate limits for
 * anything said per packet. log_warn adds strerror(errno); log_warnx does not. */
#ifndef SCTPGW_LOG_H
#define SCTPGW_LOG_H

#include <stdbool.h>
#include <stdint.h>

void log_init(bool debug, bool to_journal);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* At most burst messages per interval; the first message after a suppressed stretch says
 * how many were suppressed. */
struct ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_start;
	unsigned count;
	uint64_t suppressed;
};
#define RATELIMIT_INIT(ms, b)                     \
	{                                         \
		.interval_ms = (ms), .burst = (b) \
	}
/* True when a message may be logged now; *suppressed (if not NULL) gets how many were
 * dropped since the last one allowed. */
bool ratelimit_ok(struct ratelimit *rl, uint64_t now_ms, uint64_t *suppressed);

uint64_t now_monotonic_ms(void);

#endif
