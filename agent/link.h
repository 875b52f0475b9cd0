/* SPDX-License-Identifier: MIT */
/*
 * link.h: one TLS connection to the other agent, or to a native TLS
 * client (psql, a driver): dialled or accepted, PostgreSQL's SSLRequest
 * negotiation, the handshake and peer checks, records through tlsio,
 * keepalive, and retirement.  A link between two agents that agreed on
 * ALPN "dbtls/1" carries one stream after another (common/mux.h); any
 * other link carries exactly one.  The stream it carries is its "user",
 * known only through the callbacks below.
 */
#ifndef AGENT_LINK_H
#define AGENT_LINK_H

#include <stddef.h>

#include <openssl/ssl.h>

struct gen;
struct link;
struct listener;
struct tunnel;
struct worker;

/*
 * How a link tells its stream (arg) what happens.  start(): relay from
 * now on.  room()/commit(): decrypted bytes are written straight into the
 * stream's queue; flush() follows a batch.  peer_eof(): the other side
 * ended its direction.  done(): both directions are over: close the
 * socket once its writes are shut.  writable(): the link's queue shrank.
 * abort(why): end the stream now; the link stays and still expects
 * link_stream_closed().  lost(why, retry): the link is gone; retry is 1
 * when none of the stream's bytes were forwarded, so another link may
 * take it; detach is 1 when the stream had finished and may close on its
 * own.  After lost() the link calls nothing more and must not be used.
 */
struct link_user {
	void (*start)(void *arg);
	char *(*room)(void *arg, size_t min, size_t *space);
	void (*commit)(void *arg, size_t n);
	void (*flush)(void *arg);
	void (*peer_eof)(void *arg);
	void (*done)(void *arg);
	void (*writable)(void *arg);
	void (*abort)(void *arg, const char *why);
	void (*lost)(void *arg, const char *why, int retry, int detach);
};

/*
 * How a link tells who made it.  idle(l): a client link is ready and
 * carries no stream (prewarmed, or its stream ended cleanly): park it
 * or retire it.  gone(l): a client link is closing or retiring: forget
 * it.  serve(l): a server link starts a stream: attach one to it.
 */
struct link_hooks {
	void (*idle)(struct link *l);
	void (*gone)(struct link *l);
	void (*serve)(struct link *l);
};

/* Where the pool keeps a client link (pool.c owns these fields). */
struct link_pool_node {
	struct link *next;
	unsigned listed:1;  /* in the ready list */
	unsigned pending:1; /* prewarm, still being set up */
};

/*
 * link_dial(w, t, hooks): a client link of tunnel t, dialled now with
 * the generation in force.  NULL if memory is short.
 */
struct link *link_dial(struct worker *w, struct tunnel *t,
    const struct link_hooks *hooks);

/* link_accept(l, hooks): accept a server link waiting on listener l. */
void link_accept(struct listener *l, const struct link_hooks *hooks);

/*
 * link_attach(l, u, arg): the stream arg is carried by l from now on.
 * A client link in the pool sends OPEN; one still being set up starts
 * the stream when it is ready.  u is borrowed for the link's life.
 */
void link_attach(struct link *l, const struct link_user *u, void *arg);

/*
 * The stream's side of things.  link_send(): encrypt n bytes for the
 * peer (0, or -1: the link failed and lost() was called).
 * link_send_eof(): the stream's socket reached EOF.  link_stream_failed():
 * it failed; the stream closes it.  link_stream_closed(): it is closed:
 * the link forgets the stream.  link_pause(): stop (1) or resume (0)
 * reading from the peer, for flow control.  link_queued(): ciphertext
 * waiting to be written.
 */
int link_send(struct link *l, const void *p, size_t n);
void link_send_eof(struct link *l);
void link_stream_failed(struct link *l);
void link_stream_closed(struct link *l);
void link_pause(struct link *l, int paused);
size_t link_queued(const struct link *l);

/*
 * link_describe(l, buf, len): "identity=CN=app1 serial=0A.. tls=TLSv1.3/
 * TLS_AES_128_GCM_SHA256 resumed=no records=dbtls link=7 use=1" for a
 * stream's log lines.  link_peer(l): the peer's address.
 */
void link_describe(struct link *l, char *buf, size_t len);
const char *link_peer(const struct link *l);

/*
 * link_stale(l): made before the last reload.  link_keeps(l): it carries
 * one stream after another (the streams protocol).  The rest: l's parts.
 */
int link_stale(const struct link *l);
int link_keeps(const struct link *l);
struct link_pool_node *link_pool_node(struct link *l);
struct tunnel *link_tunnel(const struct link *l);
struct gen *link_gen(const struct link *l); /* borrowed */
struct worker *link_worker(const struct link *l);

/*
 * link_retire(l, why): end an idle link gracefully (close_notify, then
 * wait for the peer's); link_close(l, why): end it now.
 */
void link_retire(struct link *l, const char *why);
void link_close(struct link *l, const char *why);

/* link_close_all(w, why), link_drop_stale(w): every link of w; every
 * idle server link made before the last reload. */
void link_close_all(struct worker *w, const char *why);
void link_drop_stale(struct worker *w);
/*
 * link_recheck_all(w): after a reload with close_on_revoke, every link of
 * w whose peer no longer passes (revoked, not allowed, its CA gone) ends,
 * and the app connections it carries with it, each saying why.
 * link_close_expired(w): with close_expired, links whose peer certificate
 * has expired end.
 */
void link_recheck_all(struct worker *w);
void link_close_expired(struct worker *w);
/* link_recheck(l): 1 if l's peer passes the generation in force (always,
 * when l's own is it); else 0, with l ended.  At every stream start. */
int link_recheck(struct link *l);
/*
 * link_drain_all(w): the agent drains: idle links close (close_notify),
 * links between agents carrying a stream retire after it, and the
 * rest end with their stream.
 */
void link_drain_all(struct worker *w);

/* link_new_session_cb: SSL_CTX new-session callback of client tunnels. */
int link_new_session_cb(SSL *ssl, SSL_SESSION *sess);

#endif
