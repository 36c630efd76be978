/* privs.c - give up root once the daemon is set up (see privs.h).
 *
 * After setup the gateway needs CAP_NET_ADMIN (nftables on reload and at exit, SO_MARK
 * on the path-MTU probe socket) and nothing else from root: its raw sockets are open
 * already; CAP_NET_RAW, what they were opened with, adds nothing CAP_NET_ADMIN does not
 * already allow. capset is called directly: no libcap dependency for two bits. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "privs.h"

/* Both below 32: they live in the first word of the capability sets. */
#define PRIVS_KEEP ((1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW))

static int privs_number(const char *s, unsigned long *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out >= (unsigned long)(uid_t)-1)
		return -1;
	return 0;
}

int privs_resolve(const char *user, const char *group, struct privs_target *t, char *err,
		  size_t errlen)
{
	const struct passwd *pw = getpwnam(user);
	const struct group *gr = NULL;
	unsigned long n;
	bool have_gid = false;

	memset(t, 0, sizeof(*t));
	if (pw) {
		t->uid = pw->pw_uid;
		t->gid = pw->pw_gid;
		have_gid = true;
		snprintf(t->user, sizeof(t->user), "%s", pw->pw_name);
	} else if (privs_number(user, &n) == 0) {
		t->uid = (uid_t)n;
		pw = getpwuid(t->uid);
		if (pw) {
			t->gid = pw->pw_gid;
			have_gid = true;
		}
		snprintf(t->user, sizeof(t->user), "%s", user);
	} else {
		snprintf(err, errlen, "unknown user \"%s\"", user);
		return -1;
	}
	if (t->uid == 0) {
		snprintf(err, errlen, "-u %s is root: leave out -u to stay root", user);
		return -1;
	}
	if (group) {
		gr = getgrnam(group);
		if (gr) {
			t->gid = gr->gr_gid;
		} else if (privs_number(group, &n) == 0) {
			t->gid = (gid_t)n;
			gr = getgrgid(t->gid);
		} else {
			snprintf(err, errlen, "unknown group \"%s\"", group);
			return -1;
		}
		have_gid = true;
	} else if (have_gid) {
		gr = getgrgid(t->gid);
	}
	if (!have_gid) {
		snprintf(err, errlen, "user %s has no password entry: give a group with -g", user);
		return -1;
	}
	if (gr)
		snprintf(t->group, sizeof(t->group), "%s", gr->gr_name);
	else
		snprintf(t->group, sizeof(t->group), "%u", (unsigned)t->gid);
	return 0;
}

static int privs_capget(struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	memset(d, 0, sizeof(*d) * _LINUX_CAPABILITY_U32S_3);
	return (int)syscall(SYS_capget, &h, d);
}

static int privs_capset_keep(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = PRIVS_KEEP;
	return (int)syscall(SYS_capset, &h, d);
}

/* Drop everything else from the bounding set: a later exec (there is none) or a bug could
 * then never regain it. Needs CAP_SETPCAP; without it (a container, a restricted unit)
 * the bounding set is already someone else's decision, so EPERM is not an error. */
static int privs_bound(void)
{
	for (int cap = 0; cap <= 63; cap++) {
		if (cap == CAP_NET_ADMIN || cap == CAP_NET_RAW)
			continue;
		if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0L, 0L, 0L) < 0)
			break; /* EINVAL: past the kernel's last capability */
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0L, 0L, 0L) < 0)
			return errno == EPERM ? 0 : -1;
	}
	return 0;
}

/* Trust, but verify: a half-dropped daemon must not run. */
static int privs_verify(const struct privs_target *t, char *err, size_t errlen)
{
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != t->uid ||
	    eu != t->uid || su != t->uid || rg != t->gid || eg != t->gid || sg != t->gid) {
		snprintf(err, errlen, "switching to %s:%s: ids not changed", t->user, t->group);
		return -1;
	}
	if (privs_capget(d) < 0 || d[0].permitted != PRIVS_KEEP || d[0].effective != PRIVS_KEEP ||
	    d[0].inheritable || d[1].permitted || d[1].effective || d[1].inheritable) {
		snprintf(err, errlen,
			 "switching to %s: capabilities not reduced to "
			 "CAP_NET_ADMIN, CAP_NET_RAW",
			 t->user);
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "switching to %s: root could be regained", t->user);
		return -1;
	}
	return 0;
}

int privs_drop(const struct privs_target *t, char *err, size_t errlen)
{
	const char *step;

	step = "prctl(PR_SET_KEEPCAPS)";
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		goto fail;
	step = "prctl(PR_CAPBSET_DROP)";
	if (privs_bound() < 0)
		goto fail;
	step = "setgroups";
	if (setgroups(0, NULL) < 0)
		goto fail;
	step = "setresgid";
	if (setresgid(t->gid, t->gid, t->gid) < 0)
		goto fail;
	step = "setresuid";
	if (setresuid(t->uid, t->uid, t->uid) < 0)
		goto fail;
	step = "capset";
	if (privs_capset_keep() < 0)
		goto fail;
	/* Ambient capabilities (from systemd, say) would survive nothing we do, but say so. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 && errno != EINVAL) {
		step = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
		goto fail;
	}
	step = "prctl(PR_SET_KEEPCAPS, 0)";
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0)
		goto fail;
	step = "prctl(PR_SET_NO_NEW_PRIVS)";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		goto fail;

	return privs_verify(t, err, errlen);
fail:
	snprintf(err, errlen, "switching to %s:%s: %s: %s%s", t->user, t->group, step,
		 strerror(errno),
		 errno == EPERM
			 ? " (needs root with CAP_SETUID, CAP_SETGID; "
			   "under systemd use User=, Group= and AmbientCapabilities= instead of -u)"
			 : "");
	return -1;
}
