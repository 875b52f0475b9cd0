/* SPDX-License-Identifier: MIT */
/*
 * dial.h: connect a sock to an address: resolve a host name (off the
 * loop thread, by libuv), try each address it gives in turn, and give up
 * at a timeout.  Client links dial the server agent with it, server
 * streams the database.  A dial owns itself: it frees itself once its
 * last callback has come, after it reported or was cancelled.
 */
#ifndef AGENT_DIAL_H
#define AGENT_DIAL_H

struct addr;
struct dial;
struct sock;

/*
 * done(arg, status, why): the sock is connected (status 0), or the dial
 * failed (a libuv code, and why: "connect to db 127.0.0.1:5432:
 * connection refused", "connect to server timed out", ...).  Called once,
 * never after dial_cancel().
 */
typedef void (*dial_done_cb)(void *arg, int status, const char *why);

/*
 * dial_start(s, to, timeout_ms, done, arg): open s (set up, not open)
 * and connect it to *to (borrowed until done).  Returns the dial, or
 * NULL if memory is short.  Every failure, even one met at once, is
 * reported through done() from the loop.
 */
struct dial *dial_start(struct sock *s, const struct addr *to,
    unsigned timeout_ms, dial_done_cb done, void *arg);

/*
 * dial_cancel(d): the owner is closing: d reports nothing more.  The
 * owner still calls sock_close() on the sock (if open) and waits for its
 * closed callback before freeing it.
 */
void dial_cancel(struct dial *d);

#endif
