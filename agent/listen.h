/* SPDX-License-Identifier: MIT */
/*
 * listen.h: binding the sockets the agent listens on, at start-up, while
 * it may still be root.  Any failure is fatal, with what it was for.
 */
#ifndef AGENT_LISTEN_H
#define AGENT_LISTEN_H

#include <sys/types.h>

#include "common/addr.h"

/*
 * listen_open(a, &port, what, mode, uid, gid): a bound socket (not yet
 * listening) for a: TCP with SO_REUSEPORT, on *port (0: any; the port
 * chosen is written back); or a unix socket whose stale file is removed
 * (a live one is refused), then given mode, uid and gid (-1: leave) before
 * anyone can connect.  what names it in errors ("tunnel \"pg\"").
 */
int listen_open(const struct addr *a, unsigned short *port, const char *what,
    int mode, uid_t uid, gid_t gid);

#endif
