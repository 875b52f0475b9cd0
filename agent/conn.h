/* SPDX-License-Identifier: MIT */
/*
 * conn.h: one tunnelled connection, from accept to the last close
 * callback.  All of it runs on its worker's loop thread.
 */
#ifndef AGENT_CONN_H
#define AGENT_CONN_H

#include <openssl/ssl.h>

struct listener;
struct worker;

/* conn_accept(l): accept one connection waiting on l and start it. */
void	conn_accept(struct listener *l);

/*
 * conn_pool_fill(w): top up w's prewarmed TLS connections for every client
 * tunnel with prewarm > 0.
 */
void	conn_pool_fill(struct worker *w);

/* conn_close_all(w, reason): close every connection of w. */
void	conn_close_all(struct worker *w, const char *reason);

/*
 * conn_drop_stale(w): close w's idle connections (prewarmed, or kept
 * between streams) made before the last reload.
 */
void	conn_drop_stale(struct worker *w);

/*
 * conn_new_session_cb: the SSL_CTX new-session callback of client tunnels;
 * keeps the newest session per worker and tunnel for resumption.
 */
int	conn_new_session_cb(SSL *ssl, SSL_SESSION *sess);

#endif
