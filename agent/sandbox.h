/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h: what a bug in the running agent could still do.  After
 * start-up (listeners bound, keys read, root given up) and before any
 * thread exists, the agent confines itself: Landlock leaves it reading
 * only its config, certificates, keys, CAs and CRLs (their directories,
 * for reloads), the few files name resolution reads and /proc/self, and
 * removing its pidfile and sockets; seccomp leaves it the system calls it
 * makes, and kills it at any other.
 */
#ifndef AGENT_SANDBOX_H
#define AGENT_SANDBOX_H

#include <stddef.h>

#include "common/cfg.h"

/*
 * sandbox_enter(c, said, len): confine the process as c allows
 * (sandbox = false: not at all).  0 with what is active in said ("Landlock
 * ABI 7 and seccomp"), or -1 with why in said (a part the kernel offers
 * that could not be set up: the agent does not run half-confined).
 */
int sandbox_enter(const struct cfg *c, char *said, size_t len);

#ifdef DBTLS_SANITIZED
/*
 * sandbox_escape_test(): the test builds only: on SIGUSR2 the agent tries
 * what $DBTLS_TEST_ESCAPE lists, comma-separated ("read:PATH",
 * "write:PATH", "exec:PATH"), and logs each outcome; under the sandbox
 * reads and writes are refused and exec kills the process.
 */
void sandbox_escape_test(void);
#endif

#endif
