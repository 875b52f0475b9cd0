/* SPDX-License-Identifier: MIT */
/*
 * ledger.c: the set of (key, nonce) pairs sealed in this process, kept
 * as 16 bytes of SHA-256 each in an open-addressing table that doubles
 * at half full.  Test builds only: it grows with every record.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/ledger.h"

#define ENTRY	16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *table;		/* cap entries; all-zero means empty */
static size_t cap, count;

static size_t
slot_of(const uint8_t *e, size_t n)
{
	size_t h;

	memcpy(&h, e, sizeof(h));
	return h & (n - 1);
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
	uint8_t in[32 + 12], md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	int fresh;

	if (klen > 32)
		abort();
	memcpy(in, key, klen);
	memcpy(in + klen, nonce, 12);
	if (EVP_Digest(in, klen + 12, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();
	md[0] |= 1;		/* never the empty slot's all-zero */
	pthread_mutex_lock(&lock);
	if (2 * (count + 1) > cap)
		grow();
	fresh = insert(table, cap, md);
	count += (size_t)fresh;
	pthread_mutex_unlock(&lock);
	if (!fresh) {
		fprintf(stderr, "dbtls nonce ledger: %s sealed a record under "
		    "a (key, nonce) pair already used: nonce reuse\n", who);
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
