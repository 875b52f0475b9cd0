/* SPDX-License-Identifier: MIT */
/*
 * harness.h: the few assertions the unit tests need.  A failed check
 * prints file, line and both values, and the test exits non-zero.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
			    __LINE__, #cond);                                  \
			harness_failures++;                                    \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		long long va_ = (long long)(a), vb_ = (long long)(b);      \
		if (va_ != vb_) {                                          \
			fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", \
			    __FILE__, __LINE__, #a, #b, va_, vb_);         \
			harness_failures++;                                \
		}                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                   \
	do {                                                              \
		const char *sa_ = (a), *sb_ = (b);                        \
		if (sa_ == NULL || strcmp(sa_, sb_) != 0) {               \
			fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n",  \
			    __FILE__, __LINE__, #a, sa_ ? sa_ : "(null)", \
			    sb_);                                         \
			harness_failures++;                               \
		}                                                         \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                            \
	do {                                                                   \
		const char *h_ = (hay);                                        \
		if (h_ == NULL || strstr(h_, (needle)) == NULL) {              \
			fprintf(stderr, "%s:%d: \"%s\" lacks \"%s\"\n",        \
			    __FILE__, __LINE__, h_ ? h_ : "(null)", (needle)); \
			harness_failures++;                                    \
		}                                                              \
	} while (0)

/* harness_rand(state): xorshift64, the same stream for the same seed. */
static inline uint32_t
harness_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)*state;
}

static inline int
harness_done(const char *name)
{
	if (harness_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name,
		    harness_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
