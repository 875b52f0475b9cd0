/* SPDX-License-Identifier: MIT */
/*
 * tlsin.h: a TLS connection's incoming ciphertext.  The caller lends the
 * bytes it just read from the socket; they are read in place, and only
 * what is left at the end of a loan (at most a partial record) is
 * copied, into a "spill" buffer that exists only while it holds bytes.
 * It knows TLS record headers, nothing of keys or OpenSSL.
 */
#ifndef COMMON_TLSIN_H
#define COMMON_TLSIN_H

#include <stddef.h>
#include <stdint.h>

struct tlsin {
	const uint8_t *in; /* lent by tlsin_lend */
	size_t in_len;
	uint8_t *spill; /* unread bytes kept across loans */
	size_t spill_off;
	size_t spill_len;
	int lost; /* a loan could not be kept */
};

/*
 * tlsin_lend(q, p, n): lend n bytes at p until tlsin_end(q), which keeps
 * a copy of what was not read and returns 0, or -1 if memory was short
 * and bytes were lost (here or at a lend): the stream is then broken.
 */
void tlsin_lend(struct tlsin *q, const void *p, size_t n);
int tlsin_end(struct tlsin *q);

/* tlsin_read(q, buf, want): copy up to want bytes out (for OpenSSL). */
size_t tlsin_read(struct tlsin *q, void *buf, size_t want);

/* tlsin_pending(q): bytes held, lent or kept. */
size_t tlsin_pending(const struct tlsin *q);

/*
 * tlsin_record(q, &rec, &len): point *rec at the next whole TLS 1.3
 * record, contiguous (a record begun in the spill is completed there).
 * TLSIN_RECORD, TLSIN_PARTIAL (not all here yet), TLSIN_BAD_HEADER (not
 * one a TLS 1.3 peer sends after its handshake: *rec points at its
 * header), or TLSIN_NOMEM.  tlsin_drop(q, len) then consumes it.
 */
enum { TLSIN_RECORD, TLSIN_PARTIAL, TLSIN_BAD_HEADER, TLSIN_NOMEM };
int tlsin_record(struct tlsin *q, const uint8_t **rec, size_t *len);
void tlsin_drop(struct tlsin *q, size_t len);

/* tlsin_clear(q): free what is kept. */
void tlsin_clear(struct tlsin *q);

#endif
