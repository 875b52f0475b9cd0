/* SPDX-License-Identifier: MIT */
/*
 * pool.h: a worker's client links that carry no stream: prewarmed ones
 * (prewarm = N per tunnel) and ones whose stream ended cleanly, kept for
 * the next app.  Each worker has its own, so taking one takes no lock.
 */
#ifndef AGENT_POOL_H
#define AGENT_POOL_H

struct link;
struct tunnel;
struct worker;

/* Kept links of one client tunnel in one worker. */
struct pool {
	struct link *ready; /* handshaken, waiting for an app */
	unsigned nready;
	unsigned npending; /* prewarm: not handshaken yet */
};

/*
 * pool_get(w, t, fresh): a link for a new app of client tunnel t: a kept
 * one made with the material in force (unless fresh), else a new one,
 * dialled now.  NULL if memory is short.
 */
struct link *pool_get(struct worker *w, struct tunnel *t, int fresh);

/* pool_fill(w): top up w's prewarmed links for every tunnel. */
void pool_fill(struct worker *w);

#endif
