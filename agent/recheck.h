/* SPDX-License-Identifier: MIT */
/*
 * recheck.h: does a peer accepted at its handshake still pass?  After a
 * reload (a CRL that now revokes it, an allow list without it, a CA
 * removed) and at every stream start, the peer's certificate is checked
 * again against the configuration in force.
 */
#ifndef AGENT_RECHECK_H
#define AGENT_RECHECK_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "agent/gen.h"

/* What the handshake verified, kept (OpenSSL may drop its own copy once
 * session tickets are made). */
struct recheck_peer {
	X509 *leaf;
	STACK_OF(X509) * chain;	  /* as the peer sent it */
	X509_VERIFY_PARAM *param; /* purpose, the name checked */
};

/* recheck_keep(p, ssl): keep ssl's peer, right after the handshake: 0, or
 * -1 (out of memory).  recheck_free(p) lets it go. */
int recheck_keep(struct recheck_peer *p, SSL *ssl);
void recheck_free(struct recheck_peer *p);

/*
 * recheck_peer(p, g, index, why, len): 1 if the kept peer still passes
 * tunnel index of generation g: its chain verifies against g's CA file
 * and CRL (the time is not checked again: close_expired is for that) and
 * its certificate matches g's allow list; else 0 with the reason in why.
 */
int recheck_peer(const struct recheck_peer *p, const struct gen *g,
    size_t index, char *why, size_t len);

#endif
