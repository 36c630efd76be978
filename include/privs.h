/* privs.h - give up root once the daemon is set up: another user and group, with only
 * the two capabilities the running gateway still uses. */
#ifndef SCTPGW_PRIVS_H
#define SCTPGW_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

#define PRIVS_NAME_LEN 64

struct privs_target {
	uid_t uid;
	gid_t gid;
	char user[PRIVS_NAME_LEN]; /* for messages */
	char group[PRIVS_NAME_LEN];
};

/* Look up USER (a name or a number) and GROUP (the same; NULL: USER's primary group).
 * 0, or -1 with err set. */
int privs_resolve(const char *user, const char *group, struct privs_target *t, char *err,
		  size_t errlen);
/* Become t->uid / t->gid with no supplementary groups, keeping exactly CAP_NET_ADMIN and
 * CAP_NET_RAW (permitted and effective; bounding set reduced to them where allowed),
 * with no_new_privs set. Verifies the result. 0, or -1 with err set: the caller must
 * not carry on half-dropped. */
int privs_drop(const struct privs_target *t, char *err, size_t errlen);

#endif
