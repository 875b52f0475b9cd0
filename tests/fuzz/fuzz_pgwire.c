/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pgwire.c: a PostgreSQL client's first bytes, classified whole and
 * gathered in pieces: both must agree, and never read past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pgwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[8];
	size_t have = 0, off = 0;
	enum pg_first k = pgwire_classify(data, size), k8 = PG_NEED_MORE;

	if (k < PG_NEED_MORE || k > PG_BAD || pgwire_first_name(k) == NULL)
		abort();
	/* Gather in pieces of 1..4 bytes, as reads might come. */
	while (off < size) {
		size_t piece = 1 + (data[off] & 3), used;

		if (piece > size - off)
			piece = size - off;
		used = pgwire_sniff(buf, &have, data + off, piece, &k8);
		if (used > piece || have > sizeof(buf))
			abort();
		off += used;
		if (used < piece || have == sizeof(buf))
			break;
	}
	/* The first 8 bytes, gathered, say what they say whole. */
	if (k8 != pgwire_classify(data, size < 8 ? size : 8))
		abort();
	return 0;
}
