/* SPDX-License-Identifier: MIT */
/*
 * worker.h: the agent's runtime.  One struct agent holds what all threads
 * share (config, TLS contexts, listening sockets); each worker thread runs
 * its own libuv loop with its own listeners on those sockets, its own
 * links and streams, read buffer and chunk pool, so the data path takes
 * no lock.
 */
#ifndef AGENT_WORKER_H
#define AGENT_WORKER_H

#include <stdatomic.h>
#include <stdint.h>

#include <uv.h>
#include <openssl/ssl.h>

#include "common/cfg.h"
#include "common/cq.h"
#include "agent/sock.h"
#include "agent/stats.h"

#define WORKER_READ_SIZE (256 * 1024UL)

struct link;
struct pool;
struct stream;
struct worker;

/*
 * One configured tunnel at run time; shared by all workers.  cfg points
 * into the first generation, which the agent keeps: only what a reload
 * cannot change (name, mode, addresses) may be read through it.
 */
struct tunnel {
	const struct cfg_tunnel *cfg;
	size_t index;
	int *fds;	    /* a listening socket per worker */
	atomic_uint active; /* all workers: app connections
					   (client), links (server) */
};

struct agent {
	struct gen *first;
	struct tunnel *tunnels;
	size_t ntunnels;
	unsigned nworkers;
	struct worker *workers;
	atomic_uint_fast64_t next_conn_id;
	atomic_int trim_wanted; /* a worker freed its spare chunks */
	atomic_uint streams;	/* app connections open, all workers */
	atomic_int ready;	/* serving, not draining */
	atomic_int draining;
	_Atomic uint64_t main_beat; /* uv_hrtime of the main loop's tick */
};

struct listener {
	union sock_handle h;
	struct worker *w;
	struct tunnel *t;
};

struct worker {
	struct agent *agent;
	unsigned index;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t stop;
	uv_async_t drain;	    /* stop taking new connections */
	uv_async_t reloaded;	    /* a new generation is in force */
	struct listener *listeners; /* one per tunnel */
	struct link *links;	    /* for shutdown and reload */
	struct stream *streams;	    /* open streams, for shutdown */
	struct cq_pool pool;
	SSL_SESSION **sessions;	    /* client tunnels: last session */
	unsigned long *session_gen; /* generation each was made with */
	char *readbuf;		    /* every read of this loop lands here */
	struct pool *pools;	    /* one per tunnel */
	struct stats_tunnel *stats; /* one per tunnel, this worker's */
	uv_timer_t pool_timer;	    /* refills the pools, trims memory */
	uint64_t busy_mark;	    /* activity seen at the last tick */
	uint64_t trim_mark;	    /* activity at the last trim */
	int stopping;		    /* draining or stopped: keep nothing */
	_Atomic uint64_t beat;	    /* uv_hrtime of the last tick */
	int listening;
};

/*
 * worker_start(a, index): set up worker index of a: its loop, listeners
 * and timers, all it opens, without starting its thread.
 * Returns 0 or a libuv error code.
 */
int worker_start(struct agent *a, unsigned index);
/* worker_run(w): start the worker's thread, once it is set up. */
int worker_run(struct worker *w);
/*
 * worker_reloaded(w): tell the worker a reload happened, so that it
 * retires idle links of the old generation; thread-safe.
 */
void worker_reloaded(struct worker *w);
/* worker_stop(w): ask the worker to close everything; thread-safe. */
void worker_stop(struct worker *w);
/*
 * worker_drain(w): stop taking connections and close idle ones; open app
 * connections go on until they end or worker_stop(); thread-safe.
 */
void worker_drain(struct worker *w);
/* worker_join(w): wait for the thread and release its resources. */
void worker_join(struct worker *w);

#endif
