/* SPDX-License-Identifier: MIT */
/*
 * handshake.h: a link's way to READY (PostgreSQL negotiation, TLS
 * handshake, peer checks); part of the link, see link_impl.h.  On
 * success it calls link_ready(), on failure link_end().
 */
#ifndef AGENT_HANDSHAKE_H
#define AGENT_HANDSHAKE_H

#include <stddef.h>

struct link;

/*
 * handshake_begin(l): l's socket is connected (dialled or accepted):
 * send the SSLRequest (client postgresql) or wait for the client's, or
 * start TLS.
 */
void handshake_begin(struct link *l);

/* handshake_feed(l, p, n): bytes from the peer before READY (lent). */
void handshake_feed(struct link *l, const char *p, size_t n);

#endif
