/* SPDX-License-Identifier: MIT */
/*
 * reload.h: taking new certificates, keys, CAs, CRLs and allow lists
 * while running: on SIGHUP, and with reload = "watch" when the files
 * change.  Also the certificate expiry warnings, at start and daily.
 * Runs on the main thread's loop, never on a worker's.
 */
#ifndef AGENT_RELOAD_H
#define AGENT_RELOAD_H

#include <uv.h>

struct gen;

/*
 * reload_start(loop, path, g, installed): handle SIGHUP on loop, watch the
 * files of g if it asks for it, and warn about expiring certificates now
 * and daily; installed() runs after each new generation is in force.  0
 * or a libuv error.
 */
int reload_start(uv_loop_t *loop, const char *path, struct gen *g,
    void (*installed)(void));
/* reload_stop(): close the handles reload_start opened. */
void reload_stop(void);
/* reload_now(why): build a new generation; install it if it loads. */
int reload_now(const char *why);
/* reload_expiry_check(g): log each certificate near or past its end. */
void reload_expiry_check(struct gen *g);

#endif
