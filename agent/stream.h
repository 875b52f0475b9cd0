/* SPDX-License-Identifier: MIT */
/*
 * stream.h: one app connection and its database connection, from the
 * agent's side: in client mode the app's accepted socket, in server mode
 * the socket dialled to the database, and the link that carries the
 * stream between them.  It owns the plain socket, the app's bytes held
 * until the link may carry them, flow control between the two queues,
 * byte counters, the idle timeout, and the open and close log lines of
 * the app connection.
 */
#ifndef AGENT_STREAM_H
#define AGENT_STREAM_H

struct link;
struct listener;
struct worker;

/* stream_accept(l): client: accept an app waiting on l and carry it. */
void stream_accept(struct listener *l);

/*
 * stream_serve(link): server: a stream starts on link (the link_hooks
 * serve callback): make one, attach it, and dial the database.
 */
void stream_serve(struct link *link);

/* stream_close_all(w, why): end every stream of w now. */
void stream_close_all(struct worker *w, const char *why);

#endif
