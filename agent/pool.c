/* SPDX-License-Identifier: MIT */
/*
 * pool.c: kept client links (see pool.h).  The pool hears of its links
 * through the link_hooks it dials them with: idle() when one is ready
 * and carries no stream, gone() when one closes or retires.
 */
#include <stddef.h>

#include "agent/gen.h"
#include "agent/link.h"
#include "agent/worker.h"
#include "agent/pool.h"

#define POOL_MAX 64 /* kept per worker and tunnel */

static struct pool *
pool_of(struct link *l)
{
	return &link_worker(l)->pools[link_tunnel(l)->index];
}

/* unlist: take l out of its pool's ready list (it is there). */
static void
unlist(struct pool *p, struct link *l)
{
	struct link **pp;

	for (pp = &p->ready; *pp != NULL; pp = &link_pool_node(*pp)->next) {
		if (*pp == l) {
			*pp = link_pool_node(l)->next;
			break;
		}
	}
	link_pool_node(l)->listed = 0;
	p->nready--;
}

/* settled: a prewarmed link is no longer being set up. */
static void
settled(struct pool *p, struct link_pool_node *n)
{
	if (n->pending) {
		n->pending = 0;
		p->npending--;
	}
}

static void
pool_gone(struct link *l)
{
	struct link_pool_node *n = link_pool_node(l);
	struct pool *p = pool_of(l);

	settled(p, n);
	if (n->listed)
		unlist(p, l);
}

static void
pool_idle(struct link *l)
{
	struct link_pool_node *n = link_pool_node(l);
	struct pool *p = pool_of(l);

	settled(p, n);
	if (link_worker(l)->stopping || p->nready >= POOL_MAX) {
		link_retire(l, "enough connections kept");
		return;
	}
	if (link_stale(l)) {
		link_retire(l, "idle since before a reload");
		return;
	}
	n->listed = 1;
	n->next = p->ready;
	p->ready = l;
	p->nready++;
}

static const struct link_hooks pool_hooks = { pool_idle, pool_gone, NULL };

struct link *
pool_get(struct worker *w, struct tunnel *t, int fresh)
{
	struct pool *p = &w->pools[t->index];
	struct link *l;

	while (!fresh && (l = p->ready) != NULL) {
		unlist(p, l);
		if (!link_stale(l))
			return l;
		/* Made before a reload: its certificates may be stale. */
		link_retire(l, "prewarmed before a reload");
	}
	return link_dial(w, t, &pool_hooks);
}

void
pool_fill(struct worker *w)
{
	for (size_t i = 0; i < w->agent->ntunnels && !w->stopping; i++) {
		struct tunnel *t = &w->agent->tunnels[i];
		struct pool *p = &w->pools[i];
		struct gen *g = gen_current();
		unsigned want = g->cfg->tunnels[i].prewarm;

		gen_unref(g);
		while (p->nready + p->npending < want) {
			struct link *l;

			/* A failed dial frees its place (from the loop, as
			 * every dial failure): the worker's timer tries again
			 * in a second, at most prewarm at a time. */
			if ((l = link_dial(w, t, &pool_hooks)) == NULL)
				break;
			link_pool_node(l)->pending = 1;
			p->npending++;
		}
	}
}
