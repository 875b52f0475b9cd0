/* SPDX-License-Identifier: MIT */
/*
 * link_impl.h: the inside of a link, shared by link.c (its life, its
 * socket, the streams it carries) and handshake.c (how it gets to READY).
 * Nothing else includes it.
 */
#ifndef AGENT_LINK_IMPL_H
#define AGENT_LINK_IMPL_H

#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "common/log.h"
#include "common/mux.h"
#include "agent/sock.h"
#include "agent/link.h"
#include "agent/recheck.h"
#include "agent/stats.h"

#define POOL_MAX_AGE_MS 30000  /* a kept client link's idle life */
#define FIRST_DATA_MS	120000 /* server: wait for the next stream */

/* link_refused(l, r): count why a link is refused before it served. */
#define link_refused(l, r) stats_add(&(l)->st->refused[(r)], 1)

enum link_state {
	LINK_DIALING,	  /* client: connecting to the server agent */
	LINK_NEGOTIATING, /* PostgreSQL SSLRequest exchange */
	LINK_HANDSHAKE,	  /* TLS handshake */
	LINK_READY,	  /* handshaken: carries streams */
	LINK_RETIRING,	  /* close_notify sent; waiting for the peer */
	LINK_CLOSING,	  /* waiting for close callbacks */
};

struct link {
	struct worker *w;
	struct tunnel *t;
	struct gen *gen;	      /* config and TLS material, held */
	const struct cfg_tunnel *cfg; /* this tunnel in gen */
	const struct link_hooks *hooks;
	uint64_t id;
	enum link_state state;
	struct sock sock;
	struct dial *dial; /* while dialling */
	struct tlsio *tio;
	uv_timer_t timer;
	int refs; /* close callbacks still due */
	unsigned client:1;
	unsigned streams:1;    /* agreed on ALPN dbtls/1 */
	unsigned direct_tls:1; /* ClientHello, no 'S' */
	unsigned counted:1;    /* a max_connections slot */
	unsigned paused:1;     /* the stream's queue is full */
	unsigned eof_sent:1;   /* one-stream links: each way */
	unsigned eof_rcvd:1;
	unsigned used:1; /* one-stream links: it was */
	unsigned cut:1;	 /* ends with a reset, no close_notify */
	struct mux mux;
	const struct link_user *u; /* the stream it carries, or NULL */
	void *uarg;
	char retiring[48]; /* why, once RETIRING */
	uint64_t started;
	uint64_t handshaken_at;
	uint64_t dial_ns, hs_ns;       /* uv_hrtime at each start */
	time_t peer_until;	       /* the peer's notAfter, or 0 */
	struct recheck_peer peer_cert; /* for link_recheck */
	struct stats_tunnel *st;
	unsigned uses; /* streams carried so far */
	struct link_pool_node pool;
	uint8_t sniff[8]; /* a pg exchange's start */
	size_t nsniff;
	char peer[64];
	char ident[160];
	char serial[72];	  /* the peer's certificate's */
	struct link *prev, *next; /* the worker's list */
};

/* link.c, for handshake.c and carry.c. */
void link_end(struct link *l, int retry, int detach, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void link_log(struct link *l, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void link_set_state(struct link *l, enum link_state s);
void link_timer_set(struct link *l, unsigned ms);
/* link_flush(l): send what TLS produced.  0, or -1: the link closed. */
int link_flush(struct link *l);
/* link_ready(l): the handshake is done and the peer verified. */
void link_ready(struct link *l);
const char *link_peer_name(const struct link *l);
/* link_aged(l): past its age limit for new streams (server). */
int link_aged(const struct link *l);
/* link_retire_done(l): a retiring link ends once both ends crossed. */
void link_retire_done(struct link *l);

#endif
