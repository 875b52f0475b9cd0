/* SPDX-License-Identifier: MIT */
/*
 * sock.h: one socket of the agent (TCP or unix) and the bytes queued for
 * it.  It writes what is queued, synchronously when the kernel takes it,
 * else with one uv_write in flight; shuts the write side once the queue
 * has drained, if asked; and reports reads, EOF, failures and completions
 * to its owner through the callbacks it was given.  Links and streams
 * each embed one; a sock knows neither.
 */
#ifndef AGENT_SOCK_H
#define AGENT_SOCK_H

#include <stddef.h>

#include <uv.h>

#include "common/cfg.h"
#include "common/cq.h"

struct worker;
struct sock;

/*
 * What a sock tells its owner (arg).  data() lends bytes read until it
 * returns; failed() reports an asynchronous read, write or connection
 * error (err is a libuv code); closed() comes last, after sock_close():
 * the owner may free the sock then.  Synchronous errors are returned by
 * the call that met them instead.
 */
struct sock_ops {
	void (*data)(void *arg, const char *p, size_t n);
	void (*eof)(void *arg);
	void (*failed)(void *arg, int err, const char *what);
	void (*written)(void *arg); /* some of the queue went out */
	void (*shut)(void *arg);    /* the write side is shut */
	void (*closed)(void *arg);
};

/* A TCP socket or a unix one, as libuv sees either. */
union sock_handle {
	uv_handle_t handle;
	uv_stream_t stream;
	uv_tcp_t tcp;
	uv_pipe_t pipe;
};

struct sock {
	union sock_handle h;
	struct worker *w;
	const struct sock_ops *ops;
	void *arg;
	const char *name; /* "app", "server", "peer" or "db" */
	unsigned open:1;  /* initialised, not closed */
	unsigned connected:1;
	unsigned reading:1;
	unsigned eof:1;	      /* nothing more will be read */
	unsigned want_shut:1; /* shut once out drains */
	unsigned shut_sent:1;
	unsigned shut_done:1;
	unsigned closing:1; /* its close callback is due */
	struct cq out;	    /* bytes to write */
	size_t inflight;    /* of out, in uv_write */
	void (*reopen_cb)(struct sock *s);
	void *reopen_arg; /* the dial that reopens it */
	uv_write_t wreq;
	uv_shutdown_t sreq;
};

/* sock_setup(s, w, ops, arg, name): an unopened sock of worker w. */
void sock_setup(struct sock *s, struct worker *w, const struct sock_ops *ops,
    void *arg, const char *name);

/*
 * sock_open(s, is_unix): initialise the handle (a pipe or a TCP socket).
 * 0 or a libuv error.  Once open, sock_close() must be called, and
 * ops->closed() then follows.
 */
int sock_open(struct sock *s, int is_unix);

/* sock_accept(s, server): open s and accept server's waiting connection. */
int sock_accept(struct sock *s, uv_stream_t *server);

/* sock_peer(s, buf, len): the peer's address, "[::1]:5432" or "unix". */
void sock_peer(struct sock *s, char *buf, size_t len);

/*
 * sock_connected(s, t): the socket is connected: no Nagle, and for TCP a
 * dead peer noticed in bounded time, set here rather than left to what
 * libuv or the kernel chooses: keepalive probes after t's keepalive idle
 * seconds, keepalive_interval apart, keepalive_count of them; and
 * TCP_USER_TIMEOUT (user_timeout) for data never acknowledged.
 */
void sock_connected(struct sock *s, const struct cfg_tunnel *t);

/* sock_read(s, on): start or stop reading.  0 or a libuv error. */
int sock_read(struct sock *s, int on);

/*
 * sock_flush(s): write what is queued, then the pending shutdown.
 * sock_append(s, p, n): queue a copy of n bytes and flush.
 * sock_shut(s): shut the write side once the queue has drained.
 * Each returns 0 or a libuv error.
 */
int sock_flush(struct sock *s);
int sock_append(struct sock *s, const void *p, size_t n);
int sock_shut(struct sock *s);

/* sock_room / sock_commit: write straight into the queue (cq_room). */
char *sock_room(struct sock *s, size_t min, size_t *space);
void sock_commit(struct sock *s, size_t n);

/* sock_trim(s): free a chunk sock_room() took that nothing went into. */
void sock_trim(struct sock *s);

/* sock_queued(s): bytes waiting to be written. */
size_t sock_queued(const struct sock *s);

/*
 * sock_write_last(s): one best-effort synchronous write of the queue,
 * for a close_notify just before closing.
 */
void sock_write_last(struct sock *s);

/*
 * sock_close(s): stop reading and close the handle (if open); queued
 * bytes are dropped.  ops->closed() follows, unless reopen_cb is set:
 * then reopen_cb(s) is called instead (dialling the next address), and
 * the queue and a pending shutdown are kept for the next connection.
 */
void sock_close(struct sock *s);

/*
 * sock_reset(s): sock_close(), but a TCP peer gets a reset, not a FIN:
 * the end of what it was sent is not the end of the stream.  A unix
 * socket has no reset; it is closed.
 */
void sock_reset(struct sock *s);

/* sock_clear(s): drop what is queued (its owner is being freed). */
void sock_clear(struct sock *s);

/* sock_busy(s): 1 while the handle is open or its close is still due. */
int sock_busy(const struct sock *s);

#endif
