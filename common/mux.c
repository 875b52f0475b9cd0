/* SPDX-License-Identifier: MIT */
/*
 * mux.c: the streams protocol's state machine (the table is in mux.h).
 * Pure: no I/O, no allocation, so every (state, event) pair can be walked
 * by a test and fuzzed.  Each state's switch lists its legal events; the
 * default of every switch is the protocol error.
 */
#include <stddef.h>

#include "common/mux.h"

#define A_ERROR	(MUX_A_PROTOCOL_ERROR | MUX_A_ABORT_LOCAL | MUX_A_CLOSE_LINK)

static const char *const state_names[MUX_NSTATES] = {
	"idle", "opening", "open", "fin_sent", "fin_rcvd", "done",
	"abort_sent", "abort_wait", "aborted", "next", "retired", "closed",
};

static const char *const event_names[MUX_NEVENTS] = {
	"ATTACH", "LOCAL_EOF", "LOCAL_FAIL", "LOCAL_CLOSED", "OPEN", "OK",
	"REFUSE", "FIN", "FIN_LAST", "ABORT", "BAD_CONTROL", "DATA",
	"PEER_END", "RETIRE",
};

void
mux_init(struct mux *m, enum mux_role role)
{
	m->role = role;
	m->state = MUX_IDLE;
	m->last = 0;
}

const char *
mux_state_name(enum mux_state s)
{
	return (unsigned)s < MUX_NSTATES ? state_names[s] : "?";
}

const char *
mux_event_name(enum mux_event ev)
{
	return (unsigned)ev < MUX_NEVENTS ? event_names[ev] : "?";
}

enum mux_event
mux_control_event(uint8_t code)
{
	switch (code) {
	case MUX_CTL_OPEN:
		return MUX_EV_OPEN;
	case MUX_CTL_FIN:
		return MUX_EV_FIN;
	case MUX_CTL_ABORT:
		return MUX_EV_ABORT;
	case MUX_CTL_FIN_LAST:
		return MUX_EV_FIN_LAST;
	case MUX_CTL_OK:
		return MUX_EV_OK;
	case MUX_CTL_REFUSE:
		return MUX_EV_REFUSE;
	default:
		return MUX_EV_BAD_CONTROL;
	}
}

uint8_t
mux_control_code(unsigned action)
{
	switch (action) {
	case MUX_A_SEND_OPEN:
		return MUX_CTL_OPEN;
	case MUX_A_SEND_OK:
		return MUX_CTL_OK;
	case MUX_A_SEND_REFUSE:
		return MUX_CTL_REFUSE;
	case MUX_A_SEND_FIN:
		return MUX_CTL_FIN;
	case MUX_A_SEND_FIN_LAST:
		return MUX_CTL_FIN_LAST;
	case MUX_A_SEND_ABORT:
		return MUX_CTL_ABORT;
	default:
		return 0;
	}
}

int
mux_delivers(const struct mux *m)
{
	return m->state == MUX_OPEN || m->state == MUX_FIN_SENT;
}

/* A FIN from us: FIN_LAST when a server's link takes no more streams. */
static unsigned
send_fin(const struct mux *m)
{
	return m->role == MUX_SERVER && m->last ? MUX_A_SEND_FIN_LAST :
	    MUX_A_SEND_FIN;
}

/* The stream is over: the link waits for the next, or retires. */
static void
stream_over(struct mux *m, struct mux_step *st)
{
	if (m->last) {
		st->to = MUX_RETIRED;
		st->actions |= MUX_A_RETIRE;
	} else {
		st->to = MUX_IDLE;
		st->actions |= MUX_A_IDLE;
	}
}

/*
 * fin_received: FIN, or (to a client) FIN_LAST, which also marks the
 * link's last stream.  0 if ev is neither for this role.
 */
static int
fin_received(struct mux *m, enum mux_event ev)
{
	if (ev == MUX_EV_FIN)
		return 1;
	if (ev == MUX_EV_FIN_LAST && m->role == MUX_CLIENT) {
		m->last = 1;
		return 1;
	}
	return 0;
}

/* Events legal in every stream state the same way. */
static int
stream_common(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_RETIRE:
		m->last = 1;
		return 1;
	case MUX_EV_PEER_END:
		st->to = MUX_CLOSED;
		st->actions = MUX_A_ABORT_LOCAL | MUX_A_CLOSE_LINK;
		return 1;
	default:
		return 0;
	}
}

static void
next_idle(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_ATTACH:
		if (m->role != MUX_CLIENT)
			break;
		st->to = MUX_OPENING;
		st->actions = MUX_A_SEND_OPEN;
		return;
	case MUX_EV_OPEN:
		if (m->role != MUX_SERVER)
			break;
		st->to = MUX_OPEN;
		st->actions = MUX_A_SEND_OK | MUX_A_START;
		return;
	case MUX_EV_PEER_END:
		st->to = MUX_CLOSED;
		st->actions = MUX_A_CLOSE_LINK;
		return;
	case MUX_EV_RETIRE:
		m->last = 1;
		st->to = MUX_RETIRED;
		st->actions = MUX_A_RETIRE;
		return;
	default:
		break;
	}
	st->to = MUX_CLOSED;
	st->actions = A_ERROR;
}

static void
next_opening(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_OK:
		st->to = MUX_OPEN;
		st->actions = MUX_A_START;
		return;
	case MUX_EV_REFUSE:
	case MUX_EV_PEER_END:
		st->to = MUX_CLOSED;
		st->actions = MUX_A_RETRY | MUX_A_CLOSE_LINK;
		return;
	case MUX_EV_LOCAL_FAIL:
		st->to = MUX_CLOSED;
		st->actions = MUX_A_CLOSE_LINK;
		return;
	case MUX_EV_RETIRE:
		m->last = 1;
		return;
	default:
		break;
	}
	st->to = MUX_CLOSED;
	st->actions = A_ERROR;
}

/* OPEN, FIN_SENT, FIN_RCVD: a stream with at least one way open. */
static void
next_streaming(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	enum mux_state s = m->state;

	if (stream_common(m, ev, st))
		return;
	if (fin_received(m, ev) && s != MUX_FIN_RCVD) {
		st->to = s == MUX_OPEN ? MUX_FIN_RCVD : MUX_DONE;
		st->actions = MUX_A_SHUT_LOCAL |
		    (s == MUX_FIN_SENT ? MUX_A_CLOSE_LOCAL : 0);
		return;
	}
	switch (ev) {
	case MUX_EV_DATA:
		if (s == MUX_FIN_RCVD)
			break;		/* data after the peer's FIN */
		st->actions = MUX_A_DELIVER;
		return;
	case MUX_EV_LOCAL_EOF:
		if (s == MUX_FIN_SENT)
			break;
		st->to = s == MUX_OPEN ? MUX_FIN_SENT : MUX_DONE;
		st->actions = send_fin(m) |
		    (s == MUX_FIN_RCVD ? MUX_A_CLOSE_LOCAL : 0);
		return;
	case MUX_EV_LOCAL_FAIL:
		if (s == MUX_FIN_SENT) {
			/* Our FIN is out: the peer may have ended the stream
			 * already, so an ABORT could reach its next one. */
			st->to = MUX_CLOSED;
			st->actions = MUX_A_CLOSE_LINK;
			return;
		}
		st->to = MUX_ABORT_SENT;
		st->actions = MUX_A_SEND_ABORT;
		return;
	case MUX_EV_ABORT:
		st->to = MUX_ABORTED;
		st->actions = MUX_A_SEND_ABORT | MUX_A_ABORT_LOCAL;
		return;
	default:
		break;
	}
	st->to = MUX_CLOSED;
	st->actions = A_ERROR;
}

static void
next_done(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_LOCAL_CLOSED:
		stream_over(m, st);
		return;
	case MUX_EV_OPEN:
		if (m->role != MUX_SERVER)
			break;
		st->to = MUX_NEXT;
		return;
	case MUX_EV_LOCAL_FAIL:
		/* Too late for an ABORT: the peer may have moved on. */
		st->to = MUX_CLOSED;
		st->actions = MUX_A_CLOSE_LINK;
		return;
	case MUX_EV_PEER_END:
		st->to = MUX_CLOSED;
		st->actions = MUX_A_DETACH | MUX_A_CLOSE_LINK;
		return;
	case MUX_EV_RETIRE:
		m->last = 1;
		return;
	default:
		break;
	}
	st->to = MUX_CLOSED;
	st->actions = A_ERROR;
}

/* ABORT_SENT, ABORT_WAIT: waiting for the peer's ABORT. */
static void
next_aborting(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	int waiting = m->state == MUX_ABORT_WAIT;

	if (fin_received(m, ev) || ev == MUX_EV_DATA) {
		st->actions = MUX_A_DROP;	/* in flight before our ABORT */
		return;
	}
	switch (ev) {
	case MUX_EV_ABORT:
		if (waiting)
			stream_over(m, st);
		else
			st->to = MUX_ABORTED;
		return;
	case MUX_EV_LOCAL_CLOSED:
		if (waiting)
			break;
		st->to = MUX_ABORT_WAIT;
		return;
	case MUX_EV_PEER_END:
		st->to = MUX_CLOSED;
		st->actions = MUX_A_CLOSE_LINK |
		    (waiting ? 0 : MUX_A_ABORT_LOCAL);
		return;
	case MUX_EV_RETIRE:
		m->last = 1;
		return;
	default:
		break;
	}
	st->to = MUX_CLOSED;
	st->actions = A_ERROR;
}

/* ABORTED, NEXT: the socket is closing; nothing may come for it. */
static void
next_closing(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	if (stream_common(m, ev, st))
		return;
	switch (ev) {
	case MUX_EV_LOCAL_FAIL:	/* the last stream's socket, draining */
		if (m->state != MUX_NEXT)
			break;
		st->to = MUX_CLOSED;
		st->actions = MUX_A_CLOSE_LINK;
		return;
	case MUX_EV_LOCAL_CLOSED:
		if (m->state == MUX_ABORTED) {
			stream_over(m, st);
		} else if (m->last) {
			st->to = MUX_RETIRED;
			st->actions = MUX_A_SEND_REFUSE | MUX_A_RETIRE;
		} else {
			st->to = MUX_OPEN;
			st->actions = MUX_A_SEND_OK | MUX_A_START;
		}
		return;
	case MUX_EV_OPEN:
		if (m->role != MUX_SERVER || m->state != MUX_ABORTED)
			break;
		st->to = MUX_NEXT;
		return;
	default:
		break;
	}
	st->to = MUX_CLOSED;
	st->actions = A_ERROR;
}

static void
next_retired(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_OPEN:	/* our close_notify, already sent, answers */
		if (m->role != MUX_SERVER)
			break;
		return;
	case MUX_EV_PEER_END:
		st->to = MUX_CLOSED;
		st->actions = MUX_A_CLOSE_LINK;
		return;
	case MUX_EV_RETIRE:
		return;
	default:
		break;
	}
	st->to = MUX_CLOSED;
	st->actions = A_ERROR;
}

struct mux_step
mux_next(struct mux *m, enum mux_event ev)
{
	struct mux_step st = { m->state, m->state, 0 };

	switch (m->state) {
	case MUX_IDLE:
		next_idle(m, ev, &st);
		break;
	case MUX_OPENING:
		if (m->role == MUX_CLIENT)
			next_opening(m, ev, &st);
		else
			st.to = MUX_CLOSED, st.actions = A_ERROR;
		break;
	case MUX_OPEN:
	case MUX_FIN_SENT:
	case MUX_FIN_RCVD:
		next_streaming(m, ev, &st);
		break;
	case MUX_DONE:
		next_done(m, ev, &st);
		break;
	case MUX_ABORT_SENT:
	case MUX_ABORT_WAIT:
		next_aborting(m, ev, &st);
		break;
	case MUX_ABORTED:
	case MUX_NEXT:
		if (m->state == MUX_NEXT && m->role != MUX_SERVER)
			st.to = MUX_CLOSED, st.actions = A_ERROR;
		else
			next_closing(m, ev, &st);
		break;
	case MUX_RETIRED:
		next_retired(m, ev, &st);
		break;
	case MUX_CLOSED:
	default:
		st.to = MUX_CLOSED;	/* the link is ending: nothing more */
		break;
	}
	m->state = st.to;
	return st;
}
