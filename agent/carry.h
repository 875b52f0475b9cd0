/* SPDX-License-Identifier: MIT */
/*
 * carry.h: a READY link's streams (carry.c); part of the link, see
 * link_impl.h.
 */
#ifndef AGENT_CARRY_H
#define AGENT_CARRY_H

#include "common/mux.h"

struct link;

/*
 * carry_event(l, ev, why): pass ev to the streams protocol and carry out
 * what it says (why: the reason, if ev ends something).
 */
void carry_event(struct link *l, enum mux_event ev, const char *why);

/* carry_records(l): decrypt all tlsio holds: to the stream or the mux. */
void carry_records(struct link *l);

/*
 * carry_peer_end(l, why): the peer's close_notify, or its TCP FIN after
 * one; carry_truncated(l, why): its TCP FIN without one.
 */
void carry_peer_end(struct link *l, const char *why);
void carry_truncated(struct link *l, const char *why);

/* carry_idle(l): no stream now: wait for the next (client: in the pool). */
void carry_idle(struct link *l);

/* carry_start(l): the stream relays from now on (a server makes it). */
void carry_start(struct link *l);

/* carry_one_ended(l): a one-stream link's stream sent its EOF. */
void carry_one_ended(struct link *l);

#endif
