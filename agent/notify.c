/* SPDX-License-Identifier: MIT */
/*
 * notify.c: the sd_notify(3) datagram protocol, written out rather than
 * linking libsystemd for it: a unix datagram socket named by
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace) gets one
 * datagram of newline-separated "KEY=value" assignments per change.
 * That is the whole protocol, documented as stable by systemd; a
 * library for it would add a dependency and nothing else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "agent/notify.h"

static struct sockaddr_un addr;
static socklen_t addr_len;
static int fd = -1;
static unsigned watchdog_ms;

/* watchdog_ours: $WATCHDOG_PID, if set, is this process's pid. */
static int
watchdog_ours(const char *pid)
{
	char *end;
	long v;

	if (pid == NULL)
		return 1;
	errno = 0;
	v = strtol(pid, &end, 10);
	return end != pid && *end == '\0' && errno != ERANGE &&
	    v == (long)getpid();
}

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	size_t n;

	if (usec != NULL && watchdog_ours(pid)) {
		unsigned long long us = strtoull(usec, NULL, 10);

		watchdog_ms = us >= 2000 ? (unsigned)(us / 2000) : 0;
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(addr.sun_path))
		goto done;
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, n);
	if (path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract: no trailing NUL */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		log_warn("NOTIFY_SOCKET %s", path);
done:
	unsetenv("NOTIFY_SOCKET");
}

void
notify_send(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof(msg))
		return;
	if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&addr,
		addr_len) < 0 &&
	    errno != EAGAIN)
		log_warn("notify: %.*s", (int)strcspn(msg, "\n"), msg);
}

unsigned
notify_watchdog_ms(void)
{
	return watchdog_ms;
}
