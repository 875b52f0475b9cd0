/* SPDX-License-Identifier: MIT */
/*
 * carry.c: what a READY link does with the streams it carries.  Between
 * two agents every event of the stream protocol (control and data
 * records, the stream's socket reaching EOF, failing or closing, a
 * reload) goes through mux_next (common/mux.h), and the actions it
 * returns are carried out here: control records sent, the stream
 * started, told to shut, close or abort, the link kept, retired or
 * closed.  A link without the protocol carries one stream, whose end is
 * the TLS connection's.  Part of the link: see link_impl.h.
 */
#include <stdio.h>

#include <uv.h>

#include "common/cq.h"
#include "common/mux.h"
#include "common/tlsio.h"
#include "agent/worker.h"
#include "agent/link_impl.h"
#include "agent/carry.h"

void
carry_idle(struct link *l)
{
	int rc;

	l->u = NULL;
	l->paused = 0;
	link_timer_set(l, l->client ? POOL_MAX_AGE_MS : FIRST_DATA_MS);
	if ((rc = sock_read(&l->sock, 1)) != 0)
		link_end(l, 0, 0, "read from %s: %s", link_peer_name(l),
		    uv_strerror(rc));
	else if (l->client)
		l->hooks->idle(l); /* the pool keeps or retires it */
}

void
carry_start(struct link *l)
{
	uv_timer_stop(&l->timer);
	if (!l->client && l->u == NULL) {
		/* Each stream is a new admission: the peer must pass the
		 * config in force, not only the one it was let in by. */
		if (!link_recheck(l))
			return;
		l->hooks->serve(l);
		if (l->state == LINK_CLOSING)
			return;
		if (l->u == NULL) {
			link_end(l, 0, 0, "out of memory for a stream");
			return;
		}
	}
	if (l->streams)
		stats_add(&l->st->streams_total, 1);
	l->u->start(l->uarg);
}

static void
send_controls(struct link *l, unsigned actions)
{
	for (unsigned bit = MUX_A_SEND_OPEN; bit <= MUX_A_SEND_ABORT;
	     bit <<= 1) {
		if (!(actions & bit) || l->state == LINK_RETIRING)
			continue;
		if (tlsio_control(l->tio, mux_control_code(bit)) != 0) {
			link_end(l, 0, 0, "TLS error: %s", tlsio_error(l->tio));
			return;
		}
	}
}

/* why_of: the reason a mux action ends a stream or the link. */
static const char *
why_of(struct link *l, enum mux_event ev, const char *why, char *buf,
    size_t len)
{
	if (why != NULL)
		return why;
	switch (ev) {
	case MUX_EV_REFUSE:
		return "the server refused a new stream";
	case MUX_EV_ABORT:
		snprintf(buf, len, "%s aborted the stream", link_peer_name(l));
		return buf;
	case MUX_EV_PEER_END:
		snprintf(buf, len, "%s closed the connection",
		    link_peer_name(l));
		return buf;
	default:
		return "the stream ended before the server answered OPEN";
	}
}

/*
 * carry_event: pass ev to the streams protocol and carry out what it says
 * (why: the reason, if ev ends something).  A reload or the age limit is
 * given to it first, at every stream start and end, so that no stream
 * starts on a link that should retire.  That call, with MUX_EV_RETIRE,
 * fails the test that makes it: the recursion is one level deep.
 */
void
/* NOLINTNEXTLINE(misc-no-recursion): one level deep, as said above */
carry_event(struct link *l, enum mux_event ev, const char *why)
{
	struct mux_step st;
	char buf[128];
	unsigned a;

	if (!l->mux.last &&
	    (ev == MUX_EV_OPEN || ev == MUX_EV_LOCAL_EOF ||
		ev == MUX_EV_LOCAL_CLOSED) &&
	    (link_stale(l) || link_aged(l))) {
		carry_event(l, MUX_EV_RETIRE, NULL);
		if (l->state == LINK_CLOSING)
			return;
	}
	st = mux_next(&l->mux, ev);
	a = st.actions;
	if (a == MUX_A_DELIVER || a == MUX_A_DROP)
		return; /* a data record: the caller commits it */
	link_log(l, LOG_LVL_DEBUG, "streams %s->%s on %s",
	    mux_state_name(st.from), mux_state_name(st.to), mux_event_name(ev));
	if (a & MUX_A_PROTOCOL_ERROR) {
		/* Local events come from this agent: a bug, not the peer. */
		const char *who = ev <= MUX_EV_LOCAL_CLOSED ||
			ev == MUX_EV_RETIRE ?
		    "this agent" :
		    link_peer_name(l);

		link_log(l, LOG_LVL_WARNING,
		    "%s broke the streams protocol: "
		    "%s in state %s",
		    who, mux_event_name(ev), mux_state_name(st.from));
		link_end(l, 0, 0, "%s broke the streams protocol (%s in %s)",
		    who, mux_event_name(ev), mux_state_name(st.from));
		return;
	}
	send_controls(l, a);
	if (link_flush(l) != 0)
		return;
	/* The peer must answer our ABORT in time. */
	if (st.to == MUX_ABORT_SENT && st.from != MUX_ABORT_SENT)
		link_timer_set(l, l->cfg->handshake_timeout_ms);
	if (a & MUX_A_START) {
		carry_start(l);
		if (l->state == LINK_CLOSING)
			return;
	}
	if (l->u != NULL && (a & MUX_A_SHUT_LOCAL))
		l->u->peer_eof(l->uarg);
	if (l->u != NULL && (a & MUX_A_CLOSE_LOCAL))
		l->u->done(l->uarg);
	if (l->u != NULL && (a & MUX_A_ABORT_LOCAL) && !(a & MUX_A_CLOSE_LINK))
		l->u->abort(l->uarg, why_of(l, ev, why, buf, sizeof(buf)));
	if (l->state == LINK_CLOSING)
		return;
	if (a & MUX_A_IDLE)
		carry_idle(l);
	if (a & MUX_A_RETIRE) {
		snprintf(buf, sizeof(buf),
		    st.from == MUX_IDLE && link_stale(l) ?
			"idle since before a reload" :
			"retired after %u streams",
		    l->uses);
		link_retire(l, buf);
	}
	if (a & MUX_A_CLOSE_LINK)
		link_end(l, (a & MUX_A_RETRY) != 0, (a & MUX_A_DETACH) != 0,
		    "%s", why_of(l, ev, why, buf, sizeof(buf)));
}

/* ------------------------------------------------------------ records */

/*
 * carry_one_ended: a link without the streams protocol carries one
 * stream: once both ways have ended, the stream closes its socket.
 */
void
carry_one_ended(struct link *l)
{
	if (l->eof_sent && l->eof_rcvd && l->u != NULL)
		l->u->done(l->uarg);
}

/* carry_peer_end: the peer's close_notify, or its side of TCP ended. */
void
carry_peer_end(struct link *l, const char *why)
{
	if (l->state == LINK_RETIRING) {
		link_retire_done(l);
	} else if (l->state != LINK_READY) {
		link_end(l, 0, 0, "%s closed the connection during TLS setup",
		    link_peer_name(l));
	} else if (l->streams) {
		carry_event(l, MUX_EV_PEER_END, why);
	} else if (l->u == NULL && l->used) {
		l->eof_rcvd = 1; /* stream over: wait for our FIN */
		if (l->sock.shut_done)
			link_end(l, 0, 0, "both sides closed");
	} else if (l->u == NULL) {
		link_end(l, 0, 0, "%s closed the connection while it was kept",
		    link_peer_name(l));
	} else if (!l->eof_rcvd) {
		l->eof_rcvd = 1;
		l->u->peer_eof(l->uarg);
		carry_one_ended(l);
	}
}

/*
 * carry_truncated: TCP ended without a close_notify.  A stream in
 * flight is cut short, and the other side of it is reset, never shut,
 * so that nobody takes what arrived for all of it.
 */
void
carry_truncated(struct link *l, const char *why)
{
	if (l->streams) {
		l->cut = 1;
		carry_event(l, MUX_EV_PEER_END, why);
	} else if (l->u != NULL && !l->eof_rcvd) {
		l->cut = 1;
		link_end(l, 0, 0, "%s", why);
	} else {
		carry_peer_end(l, why); /* nothing was in flight */
	}
}

/* carry_records: all TLS can give, to the stream or the protocol. */
void
carry_records(struct link *l)
{
	struct cq scratch = { 0 };
	enum tlsio_rc rc = TLSIO_AGAIN;

	for (;;) {
		int deliver = l->u != NULL &&
		    (!l->streams || mux_delivers(&l->mux));
		size_t space, got;
		/* Room for a whole record: opened in place, not copied. */
		char *room = deliver ?
		    l->u->room(l->uarg, TLSIO_ROOM_MAX, &space) :
		    cq_room(&scratch, &l->w->pool, TLSIO_ROOM_MAX, &space);

		if (room == NULL) {
			link_end(l, 0, 0, "out of memory");
			break;
		}
		rc = tlsio_read(l->tio, room, space, &got);
		if (rc == TLSIO_CONTROL) {
			if (!l->streams) {
				link_end(l, 0, 0,
				    "%s sent a control record "
				    "outside the streams protocol",
				    link_peer_name(l));
				break;
			}
			carry_event(l, mux_control_event((uint8_t)room[0]),
			    NULL);
			if (l->state == LINK_CLOSING)
				break;
			continue;
		}
		if (got > 0 && l->streams)
			carry_event(l, MUX_EV_DATA, NULL);
		else if (got > 0 && !deliver)
			link_end(l, 0, 0, "%s sent data on a kept connection",
			    link_peer_name(l));
		if (l->state == LINK_CLOSING)
			break;
		/* The protocol delivers only when the stream has room. */
		if (got > 0 && deliver && l->u != NULL)
			l->u->commit(l->uarg, got);
		if (rc != TLSIO_OK)
			break;
	}
	cq_clear(&scratch, &l->w->pool);
	if (l->state == LINK_CLOSING)
		return;
	if (l->u != NULL) {
		l->u->flush(l->uarg);
		if (l->state == LINK_CLOSING)
			return;
	}
	if (link_flush(l) != 0)
		return;
	if (rc == TLSIO_FAILED) {
		if (l->streams && l->mux.state == MUX_OPENING)
			carry_event(l, MUX_EV_PEER_END, tlsio_error(l->tio));
		else
			link_end(l, 0, 0, "TLS error from %s: %s",
			    link_peer_name(l), tlsio_error(l->tio));
		return;
	}
	if (rc == TLSIO_CLOSED)
		carry_peer_end(l, NULL);
}
