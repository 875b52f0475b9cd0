/* SPDX-License-Identifier: MIT */
/*
 * cq.c: chunked byte FIFO.  Invariant: every chunk holds at least one
 * unconsumed byte or is the tail; a queue with len == 0 holds no chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "common/cq.h"

struct cq_chunk {
	struct cq_chunk *next;
	size_t start; /* first unconsumed byte */
	size_t end;   /* one past the last written byte */
	char data[CQ_CHUNK_SIZE];
};

void
cq_pool_init(struct cq_pool *p, size_t max_spare)
{
	p->spare = NULL;
	p->nspare = 0;
	p->max_spare = max_spare;
	p->gets = 0;
}

void
cq_pool_drain(struct cq_pool *p)
{
	while (p->spare != NULL) {
		struct cq_chunk *c = p->spare;

		p->spare = c->next;
		free(c);
	}
	p->nspare = 0;
}

static struct cq_chunk *
chunk_get(struct cq_pool *p)
{
	struct cq_chunk *c = p->spare;

	p->gets++;
	if (c != NULL) {
		p->spare = c->next;
		p->nspare--;
	} else if ((c = malloc(sizeof(*c))) == NULL) {
		return NULL;
	}
	c->next = NULL;
	c->start = c->end = 0;
	return c;
}

static void
chunk_put(struct cq_pool *p, struct cq_chunk *c)
{
	if (p->nspare >= p->max_spare) {
		free(c);
		return;
	}
	c->next = p->spare;
	p->spare = c;
	p->nspare++;
}

char *
cq_room(struct cq *q, struct cq_pool *p, size_t min, size_t *space)
{
	struct cq_chunk *c = q->tail;

	if (min == 0 || min > CQ_CHUNK_SIZE)
		return NULL;
	if (c == NULL || CQ_CHUNK_SIZE - c->end < min) {
		if ((c = chunk_get(p)) == NULL)
			return NULL;
		if (q->tail != NULL)
			q->tail->next = c;
		else
			q->head = c;
		q->tail = c;
	}
	*space = CQ_CHUNK_SIZE - c->end;
	return c->data + c->end;
}

void
cq_commit(struct cq *q, size_t n)
{
	q->tail->end += n;
	q->len += n;
}

int
cq_append(struct cq *q, struct cq_pool *p, const void *data, size_t n)
{
	const char *s = data;

	while (n > 0) {
		size_t space;
		char *dst = cq_room(q, p, 1, &space);

		if (dst == NULL)
			return -1;
		if (space > n)
			space = n;
		memcpy(dst, s, space);
		cq_commit(q, space);
		s += space;
		n -= space;
	}
	return 0;
}

int
cq_spans(const struct cq *q, size_t skip, struct cq_span *out, int max)
{
	int n = 0;

	for (struct cq_chunk *c = q->head; c != NULL && n < max; c = c->next) {
		size_t have = c->end - c->start;

		if (skip >= have) {
			skip -= have;
			continue;
		}
		out[n].base = c->data + c->start + skip;
		out[n].len = have - skip;
		skip = 0;
		n++;
	}
	return n;
}

void
cq_consume(struct cq *q, struct cq_pool *p, size_t n)
{
	q->len -= n;
	while (n > 0) {
		struct cq_chunk *c = q->head;
		size_t have;

		if (c == NULL)
			abort(); /* n was more than q held: the caller's bug */
		have = c->end - c->start;
		if (n < have) {
			c->start += n;
			return;
		}
		n -= have;
		q->head = c->next;
		if (q->head == NULL)
			q->tail = NULL;
		chunk_put(p, c);
	}
	/* An emptied tail chunk goes back to the pool too. */
	if (q->len == 0 && q->head != NULL) {
		chunk_put(p, q->head);
		q->head = q->tail = NULL;
	}
}

void
cq_clear(struct cq *q, struct cq_pool *p)
{
	while (q->head != NULL) {
		struct cq_chunk *c = q->head;

		q->head = c->next;
		chunk_put(p, c);
	}
	q->tail = NULL;
	q->len = 0;
}
