/* SPDX-License-Identifier: MIT */
/*
 * cq.h: a byte FIFO made of fixed-size chunks.  Bytes never move once
 * written, so a region handed to an asynchronous write stays valid while
 * more is appended behind it.  An empty queue holds no memory: idle
 * connections cost nothing here.  Chunks come from a per-thread pool.
 */
#ifndef COMMON_CQ_H
#define COMMON_CQ_H

#include <stddef.h>

/* Two whole TLS records of 16 KiB fit in a chunk. */
#define CQ_CHUNK_SIZE (33 * 1024UL)

struct cq_chunk;

/* cq_pool: spare chunks of one thread; not locked. */
struct cq_pool {
	struct cq_chunk *spare;
	size_t nspare;
	size_t max_spare;
	unsigned long gets; /* chunks handed out, ever */
};

struct cq {
	struct cq_chunk *head;
	struct cq_chunk *tail;
	size_t len; /* bytes queued */
};

/* One contiguous run of queued bytes. */
struct cq_span {
	char *base;
	size_t len;
};

/* cq_pool_drain(p): free the spare chunks (when idle, and at the end). */
void cq_pool_init(struct cq_pool *p, size_t max_spare);
void cq_pool_drain(struct cq_pool *p);

/*
 * cq_room(q, p, min, &space): a pointer to free space at the tail, at
 * least min (1 to CQ_CHUNK_SIZE) bytes, *space bytes long, in a new chunk
 * if the last has less; NULL if memory is short.  Nothing is queued until
 * cq_commit(q, n), n <= *space.
 */
char *cq_room(struct cq *q, struct cq_pool *p, size_t min, size_t *space);
void cq_commit(struct cq *q, size_t n);

/* cq_append(q, p, data, n): copy n bytes in.  0, or -1 if memory is short. */
int cq_append(struct cq *q, struct cq_pool *p, const void *data, size_t n);

/*
 * cq_spans(q, skip, out, max): describe up to max runs of queued bytes,
 * starting skip bytes past the head.  Returns the number filled.
 */
int cq_spans(const struct cq *q, size_t skip, struct cq_span *out, int max);

/* cq_consume(q, p, n): drop n bytes from the head, freeing empty chunks. */
void cq_consume(struct cq *q, struct cq_pool *p, size_t n);

/* cq_clear(q, p): drop everything. */
void cq_clear(struct cq *q, struct cq_pool *p);

#endif
