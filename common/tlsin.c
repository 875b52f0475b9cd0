/* SPDX-License-Identifier: MIT */
/*
 * tlsin.c: incoming ciphertext, lent and spilled (see tlsin.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/rec13.h"
#include "common/tlsin.h"

/* keep: append bytes to the spill buffer.  0, or -1 if memory is short. */
static int
keep(struct tlsin *q, const uint8_t *p, size_t n)
{
	uint8_t *s;

	if (n == 0)
		return 0;
	if (q->spill_off > 0) { /* compact before growing */
		memmove(q->spill, q->spill + q->spill_off, q->spill_len);
		q->spill_off = 0;
	}
	if ((s = realloc(q->spill, q->spill_len + n)) == NULL)
		return -1;
	memcpy(s + q->spill_len, p, n);
	q->spill = s;
	q->spill_len += n;
	return 0;
}

/* take: consume n bytes, from the spill if it holds any, else the loan. */
static void
take(struct tlsin *q, size_t n)
{
	if (q->spill_len > 0) {
		q->spill_off += n;
		q->spill_len -= n;
		if (q->spill_len == 0)
			tlsin_clear(q); /* idle connections keep nothing */
		return;
	}
	q->in += n;
	q->in_len -= n;
}

/* top_up: move lent bytes to the spill until it holds want bytes. */
static int
top_up(struct tlsin *q, size_t want)
{
	size_t n = want - q->spill_len;

	if (q->spill_len >= want)
		return 0;
	if (n > q->in_len)
		n = q->in_len;
	if (keep(q, q->in, n) != 0)
		return -1;
	q->in += n;
	q->in_len -= n;
	return 0;
}

void
tlsin_lend(struct tlsin *q, const void *p, size_t n)
{
	/* A second loan before the first is used up: keep the first, or
	 * remember that bytes were lost so tlsin_end() fails. */
	if (q->in_len > 0 && keep(q, q->in, q->in_len) != 0)
		q->lost = 1;
	q->in = p;
	q->in_len = n;
}

int
tlsin_end(struct tlsin *q)
{
	int rc = keep(q, q->in, q->in_len);

	q->in = NULL;
	q->in_len = 0;
	return rc != 0 || q->lost ? -1 : 0;
}

size_t
tlsin_read(struct tlsin *q, void *buf, size_t want)
{
	size_t have = q->spill_len > 0 ? q->spill_len : q->in_len;
	size_t n = have < want ? have : want;

	if (n > 0) {
		memcpy(buf, q->spill_len > 0 ? q->spill + q->spill_off : q->in,
		    n);
		take(q, n);
	}
	return n;
}

size_t
tlsin_pending(const struct tlsin *q)
{
	return q->spill_len + q->in_len;
}

int
tlsin_record(struct tlsin *q, const uint8_t **rec, size_t *len)
{
	const uint8_t *p = q->in;
	size_t have = q->in_len;

	if (q->spill_len > 0) {
		if (top_up(q, REC13_HEADER) != 0)
			return TLSIN_NOMEM;
		p = q->spill + q->spill_off;
		have = q->spill_len;
	}
	if (have < REC13_HEADER)
		return TLSIN_PARTIAL;
	if ((*len = rec13_length(p)) == 0) {
		*rec = p;
		return TLSIN_BAD_HEADER;
	}
	if (q->spill_len > 0) {
		if (top_up(q, *len) != 0)
			return TLSIN_NOMEM;
		p = q->spill + q->spill_off;
		have = q->spill_len;
	}
	if (have < *len)
		return TLSIN_PARTIAL;
	*rec = p;
	return TLSIN_RECORD;
}

void
tlsin_drop(struct tlsin *q, size_t len)
{
	take(q, len);
}

void
tlsin_clear(struct tlsin *q)
{
	free(q->spill);
	q->spill = NULL;
	q->spill_off = q->spill_len = 0;
}
