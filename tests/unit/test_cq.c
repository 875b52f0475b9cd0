/* SPDX-License-Identifier: MIT */
/* test_cq.c: the chunked FIFO keeps bytes in order and frees when empty. */
#include "common/cq.h"
#include "harness.h"

int
main(void)
{
	struct cq_pool pool;
	struct cq q = { 0 };
	struct cq_span sp[8];
	static char in[3 * CQ_CHUNK_SIZE + 100], out[sizeof(in)];
	size_t got = 0, space;
	int n;

	cq_pool_init(&pool, 2);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 31 + 7);
	CHECK_EQ(cq_append(&q, &pool, in, sizeof(in)), 0);
	CHECK_EQ(q.len, sizeof(in));
	n = cq_spans(&q, 0, sp, 8);
	CHECK_EQ(n, 4);
	/* Skipping bytes starts the spans further in. */
	n = cq_spans(&q, CQ_CHUNK_SIZE + 5, sp, 8);
	CHECK_EQ(n, 3);
	CHECK(sp[0].base[0] == in[CQ_CHUNK_SIZE + 5]);

	/* Consume in odd steps, reading as we go. */
	while (q.len > 0) {
		size_t step = 777;

		n = cq_spans(&q, 0, sp, 1);
		CHECK_EQ(n, 1);
		if (step > sp[0].len)
			step = sp[0].len;
		memcpy(out + got, sp[0].base, step);
		got += step;
		cq_consume(&q, &pool, step);
	}
	CHECK_EQ(got, sizeof(in));
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	CHECK(q.head == NULL && q.tail == NULL);
	CHECK_EQ(pool.nspare, 2); /* capped at max_spare */

	/* Room then a zero commit leaves an empty chunk that consume(0)
	 * drops: an idle queue holds no memory. */
	CHECK(cq_room(&q, &pool, 1, &space) != NULL);
	CHECK_EQ(space, CQ_CHUNK_SIZE);
	cq_commit(&q, 0);
	cq_consume(&q, &pool, 0);
	CHECK(q.head == NULL);

	/* A minimum the tail cannot hold starts a new chunk. */
	CHECK_EQ(cq_append(&q, &pool, in, CQ_CHUNK_SIZE - 100), 0);
	CHECK(cq_room(&q, &pool, 100, &space) != NULL);
	CHECK_EQ(space, 100);
	CHECK(cq_room(&q, &pool, 101, &space) != NULL);
	CHECK_EQ(space, CQ_CHUNK_SIZE);
	cq_commit(&q, 1);
	CHECK_EQ(q.len, CQ_CHUNK_SIZE - 99);
	CHECK(cq_room(&q, &pool, CQ_CHUNK_SIZE + 1, &space) == NULL);
	cq_clear(&q, &pool);

	CHECK_EQ(cq_append(&q, &pool, in, 10), 0);
	cq_clear(&q, &pool);
	CHECK_EQ(q.len, 0);
	CHECK(q.head == NULL);
	cq_pool_drain(&pool);
	CHECK_EQ(pool.nspare, 0);
	return harness_done("test_cq");
}
