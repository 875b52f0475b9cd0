/* SPDX-License-Identifier: MIT */
/*
 * privdrop.c: root is needed only to bind listeners and read keys kept
 * from the agent's own user.  After that the agent becomes its user, and
 * a reload reads the files as that user, so the files' owners and modes
 * are checked in those terms before serving starts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/privdrop.h"

int
privdrop_become(const struct cfg *c, char *err, size_t len)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (c->user == NULL ||
	    (getuid() == c->uid && geteuid() == c->uid && getgid() == c->gid))
		return 0;
	if (geteuid() != 0) {
		snprintf(err, len,
		    "%s: user \"%s\" is set, so the agent must "
		    "start as root (it runs as uid %u)",
		    c->path, c->user, (unsigned)geteuid());
		return -1;
	}
	/* Groups first: once the uid is not root they cannot change. */
	if (setgroups(1, &c->gid) != 0 ||
	    setresgid(c->gid, c->gid, c->gid) != 0 ||
	    setresuid(c->uid, c->uid, c->uid) != 0) {
		snprintf(err, len,
		    "cannot become user \"%s\", group "
		    "\"%s\": %s",
		    c->user, c->group, strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != c->uid || eu != c->uid || su != c->uid || rg != c->gid ||
	    eg != c->gid || sg != c->gid ||
	    (c->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))) {
		snprintf(err, len,
		    "switching to user \"%s\" left other ids "
		    "behind",
		    c->user);
		return -1;
	}
	return 0;
}

/* readable: 0 if path can be read, else say so and how to mend it. */
static int
readable(const char *path, int line, const char *what, const char *tunnel,
    const struct cfg *c, char *err, size_t len)
{
	char where[PATH_MAX + 300];
	int e;

	if (access(path, what[0] == 'd' ? R_OK | X_OK : R_OK) == 0)
		return 0;
	e = errno;
	if (tunnel != NULL)
		snprintf(where, sizeof(where),
		    "%s:%d: tunnel \"%s\": %s "
		    "\"%s\"",
		    c->path, line, tunnel, what, path);
	else
		snprintf(where, sizeof(where), "%s: the config", c->path);
	snprintf(err, len,
	    "%s is not readable by user \"%s\", which the "
	    "agent becomes after start-up (%s); give %s read access%s",
	    where, c->user, strerror(e), c->group,
	    what[0] == 'd' ? " and search (x)" : "");
	return -1;
}

static int
readable_dir(const char *file, int line, const char *tunnel,
    const struct cfg *c, char *err, size_t len)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", file);
	return readable(dirname(copy), line, "directory", tunnel, c, err, len);
}

int
privdrop_readable(const struct cfg *c, char *err, size_t len)
{
	if (readable(c->path, 0, "config", NULL, c, err, len) != 0)
		return -1;
	for (size_t i = 0; i < c->ntunnels; i++) {
		const struct cfg_tunnel *t = &c->tunnels[i];
		const struct cfg_file *files[] = { &t->tls.cert, &t->tls.key,
			&t->tls.ca, &t->tls.crl };
		static const char *const names[] = { "cert", "key", "ca",
			"crl" };

		for (size_t j = 0; j < 4; j++) {
			const struct cfg_file *f = files[j];

			if (f->path == NULL)
				continue;
			if (readable(f->path, f->line, names[j], t->name, c,
				err, len) != 0 ||
			    (t->tls.watch &&
				readable_dir(f->path, f->line, t->name, c, err,
				    len) != 0))
				return -1;
		}
	}
	return 0;
}

int
privdrop_check(const struct cfg *c, char *err, size_t len)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (c->user == NULL || geteuid() != 0)
		return 0;
	if (pipe(fds) != 0 || (pid = fork()) < 0) {
		snprintf(err, len, "cannot check files as user \"%s\": %s",
		    c->user, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		if (privdrop_become(c, err, len) != 0 ||
		    privdrop_readable(c, err, len) != 0) {
			(void)!write(fds[1], err, strlen(err));
			_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], err, len - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		if (err[0] == '\0')
			snprintf(err, len,
			    "checking files as user \"%s\" "
			    "failed",
			    c->user);
		return -1;
	}
	return 0;
}
