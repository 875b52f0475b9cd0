/* SPDX-License-Identifier: MIT */
/* listen.c: TCP and unix listening sockets, bound before the loops run. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "agent/listen.h"

/* unix_prepare: remove a stale socket file; refuse a live one. */
static void
unix_prepare(const char *path, const char *what)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		fatalx("%s: %s exists and is not a socket", what, path);
	/* A struct addr's path: addr_parse() held it to sun_path's size. */
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		fatalx("%s: %s is in use by another process", what, path);
	close(fd);
	if (unlink(path) != 0)
		fatal("%s: remove stale socket %s", what, path);
}

static int
listen_unix(const char *path, const char *what, int mode, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	unix_prepare(path, what);
	memcpy(sun.sun_path, path, strlen(path) + 1); /* as in unix_prepare */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fatal("%s: cannot listen on unix:%s", what, path);
	/* Before listen(): nobody connects under the umask's mode. */
	if (mode >= 0 && chmod(path, (mode_t)mode) != 0)
		fatal("%s: chmod unix:%s", what, path);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(path, uid, gid) != 0)
		fatal("%s: chown unix:%s", what, path);
	return fd;
}

/* listen_tcp: one SO_REUSEPORT socket; port 0 is resolved by the first. */
static int
listen_tcp(const char *host, unsigned short *port, const char *what)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
		.ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char portstr[8];
	int fd, one = 1, rc;

	snprintf(portstr, sizeof(portstr), "%u", *port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0)
		fatalx("%s: cannot resolve listen host \"%s\": %s", what, host,
		    gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		fatal("setsockopt");
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0)
		fatal("%s: cannot listen on %s:%u", what, host, *port);
	if (*port == 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		getsockname(fd, (struct sockaddr *)&ss, &len);
		*port = ntohs(ss.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&ss)->sin6_port :
			((struct sockaddr_in *)&ss)->sin_port);
	}
	freeaddrinfo(res);
	return fd;
}

int
listen_open(const struct addr *a, unsigned short *port, const char *what,
    int mode, uid_t uid, gid_t gid)
{
	if (a->kind == ADDR_UNIX)
		return listen_unix(a->path, what, mode, uid, gid);
	return listen_tcp(a->host, port, what);
}
