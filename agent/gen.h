/* SPDX-License-Identifier: MIT */
/*
 * gen.h: one generation of reloadable state: the parsed config and a TLS
 * context per tunnel.  A reload builds a whole new generation and swaps
 * it in only if every part of it loaded; connections hold a reference to
 * the generation they started with, so they finish untouched on the old
 * certificates, and the old generation is freed when its last one closes.
 */
#ifndef AGENT_GEN_H
#define AGENT_GEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "common/cfg.h"

struct gen {
	atomic_int refs;
	unsigned long id;
	struct cfg *cfg;
	SSL_CTX **ctx;	    /* one per tunnel, same order as cfg */
	time_t *cert_until; /* per tunnel: the leaf's notAfter */
	time_t *ca_until;   /* the earliest notAfter in ca */
};

/*
 * gen_load(path, id, err, len): read the config at path and build every
 * TLS context.  Returns a generation holding one reference, or NULL with
 * "file:line: what" in err.
 */
struct gen *gen_load(const char *path, unsigned long id, char *err, size_t len);
/* gen_ref / gen_unref: take and drop a reference; the last frees it. */
struct gen *gen_ref(struct gen *g);
void gen_unref(struct gen *g);

/*
 * gen_current() returns a reference to the generation in force (from any
 * thread); gen_install(g) makes g current, taking over the caller's
 * reference, and drops the one on the previous generation.
 */
struct gen *gen_current(void);
void gen_install(struct gen *g);

/* gen_stale(g): 1 if a reload has replaced g since, else 0. */
int gen_stale(const struct gen *g);

#endif
