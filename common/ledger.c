/* SPDX-License-Identifier: MIT */
/*
 * ledger.c: the set of (key, nonce) pairs sealed in this process, kept
 * whole (so two pairs never look alike) in an open-addressing table that
 * doubles at half full.  It allocates with malloc, not OpenSSL, so tests
 * that make OpenSSL's allocations fail do not touch it.  Test builds
 * only: it grows with every record.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ledger.h"

#define ENTRY (1 + 32 + 12) /* key length, key, nonce */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *table; /* cap entries; all-zero means empty */
static size_t cap, count;

/* slot_of: FNV-1a over the entry, for its first slot. */
static size_t
slot_of(const uint8_t *e, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < ENTRY; i++)
		h = (h ^ e[i]) * 0x100000001b3ULL;
	return (size_t)h & (n - 1);
}

/* insert: 1 if e was new, 0 if it was there. */
static int
insert(uint8_t *t, size_t n, const uint8_t *e)
{
	static const uint8_t zero[ENTRY];

	for (size_t i = slot_of(e, n);; i = (i + 1) & (n - 1)) {
		uint8_t *s = t + i * ENTRY;

		if (memcmp(s, zero, ENTRY) == 0) {
			memcpy(s, e, ENTRY);
			return 1;
		}
		if (memcmp(s, e, ENTRY) == 0)
			return 0;
	}
}

static void
grow(void)
{
	static const uint8_t zero[ENTRY];
	size_t ncap = cap ? cap * 2 : 1 << 16;
	uint8_t *t = calloc(ncap, ENTRY);

	if (t == NULL) {
		fprintf(stderr, "dbtls nonce ledger: out of memory\n");
		abort();
	}
	for (size_t i = 0; i < cap; i++)
		if (memcmp(table + i * ENTRY, zero, ENTRY) != 0)
			(void)insert(t, ncap, table + i * ENTRY);
	free(table);
	table = t;
	cap = ncap;
}

void
ledger_note(const uint8_t *key, size_t klen, const uint8_t nonce[12],
    const char *who)
{
	uint8_t e[ENTRY] = { 0 };
	int fresh;

	if (klen == 0 || klen > 32)
		abort();
	e[0] = (uint8_t)klen; /* never 0: an empty slot is all zeros */
	memcpy(e + 1, key, klen);
	memcpy(e + 1 + 32, nonce, 12);
	pthread_mutex_lock(&lock);
	if (2 * (count + 1) > cap)
		grow();
	fresh = insert(table, cap, e);
	count += (size_t)fresh;
	pthread_mutex_unlock(&lock);
	if (!fresh) {
		fprintf(stderr,
		    "dbtls nonce ledger: %s sealed a record under "
		    "a (key, nonce) pair already used: nonce reuse\n",
		    who);
		abort();
	}
}

size_t
ledger_count(void)
{
	size_t n;

	pthread_mutex_lock(&lock);
	n = count;
	pthread_mutex_unlock(&lock);
	return n;
}
