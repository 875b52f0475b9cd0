/* SPDX-License-Identifier: MIT */
/*
 * stats.h: the figures /metrics shows.  Each worker has its own counters
 * for each tunnel and is their only writer, so counting takes no lock and
 * no shared cache line on the data path; the metrics thread reads them
 * (relaxed atomics) and sums the workers.
 */
#ifndef AGENT_STATS_H
#define AGENT_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* dbtls_refused_total's reason label, in this order (stats_refusal_name). */
enum stats_refusal {
	REFUSED_NOT_ALLOWED, /* certificate valid, not in allow */
	REFUSED_NO_CERTIFICATE,
	REFUSED_HANDSHAKE, /* TLS failed: chain, CA, revoked, version */
	REFUSED_TIMEOUT,   /* handshake_timeout passed */
	REFUSED_MAX_CONNECTIONS,
	REFUSED_PLAINTEXT, /* a client or server without TLS */
	REFUSED_PROTOCOL,  /* bytes out of place, missing ALPN */
	REFUSED_N
};

enum stats_target { TARGET_AGENT, TARGET_DATABASE, TARGET_N };

/* Histogram buckets' upper bounds in seconds; one more for +Inf. */
#define STATS_BUCKETS 14
extern const double stats_bounds[STATS_BUCKETS];

struct stats_hist {
	_Atomic uint64_t bucket[STATS_BUCKETS + 1]; /* not summed */
	_Atomic uint64_t sum_ns;
};

/* One tunnel's figures in one worker. */
struct stats_tunnel {
	_Atomic uint64_t conns_total, conns_open;
	_Atomic uint64_t to_db, from_db;
	_Atomic uint64_t links_open, streams_total;
	_Atomic uint64_t handshakes[2]; /* [resumed] */
	_Atomic uint64_t refused[REFUSED_N];
	struct stats_hist handshake;
	struct stats_hist dial[TARGET_N];
};

/* Process-wide figures, written by the main thread. */
struct stats_process {
	_Atomic uint64_t reloads[2]; /* [ok] */
	double start_time;	     /* Unix seconds */
};
extern struct stats_process stats_process;

/* The one writer's add and subtract: no read-modify-write instruction. */
static inline void
stats_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static inline void
stats_sub(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) - n,
	    memory_order_relaxed);
}

static inline uint64_t
stats_get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* stats_observe(h, ns): one duration into its bucket. */
void stats_observe(struct stats_hist *h, uint64_t ns);
const char *stats_refusal_name(enum stats_refusal r);
const char *stats_target_name(enum stats_target t);

#endif
