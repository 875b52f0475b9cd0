/* SPDX-License-Identifier: MIT */
/*
 * mux.c: the streams protocol's state machine (the table is in mux.h).
 * Pure: no I/O, no allocation, so every (state, event) pair can be walked
 * by a test and fuzzed.  Each state's switch lists its legal events; the
 * default of every switch is the protocol error.
 */
#include <stddef.h>

#include "common/mux.h"

static const char *const state_names[MUX_NSTATES] = { "idle", "opening", "open",
	"fin_sent", "fin_rcvd", "done", "abort_sent", "abort_wait", "aborted",
	"next", "retired", "closed" };

static const char *const event_names[MUX_NEVENTS] = { "ATTACH", "LOCAL_EOF",
	"LOCAL_FAIL", "LOCAL_CLOSED", "OPEN", "OK", "REFUSE", "FIN", "FIN_LAST",
	"ABORT", "BAD_CONTROL", "DATA", "PEER_END", "RETIRE" };

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

/* go: the transition is legal: to state to, with actions. */
static int
go(struct mux_step *st, enum mux_state to, unsigned actions)
{
	st->to = to;
	st->actions = actions;
	return 1;
}

/* stream_over: the stream is done: wait for the next, or retire. */
static int
stream_over(struct mux *m, struct mux_step *st)
{
	return m->last ? go(st, MUX_RETIRED, MUX_A_RETIRE) :
			 go(st, MUX_IDLE, MUX_A_IDLE);
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

/*
 * Each next_*() handles the events legal in its states and returns 1,
 * or 0 for any other: the protocol error, in mux_next() alone.
 */
static int
next_idle(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_ATTACH:
		return m->role == MUX_CLIENT &&
		    go(st, MUX_OPENING, MUX_A_SEND_OPEN);
	case MUX_EV_OPEN:
		return m->role == MUX_SERVER &&
		    go(st, MUX_OPEN, MUX_A_SEND_OK | MUX_A_START);
	case MUX_EV_PEER_END:
		return go(st, MUX_CLOSED, MUX_A_CLOSE_LINK);
	case MUX_EV_RETIRE:
		m->last = 1;
		return go(st, MUX_RETIRED, MUX_A_RETIRE);
	case MUX_EV_ABORT: /* a late one, for the last stream */
		return go(st, MUX_IDLE, 0);
	default:
		return 0;
	}
}

static int
next_opening(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_OK:
		return go(st, MUX_OPEN, MUX_A_START);
	case MUX_EV_REFUSE:
	case MUX_EV_PEER_END:
		return go(st, MUX_CLOSED, MUX_A_RETRY | MUX_A_CLOSE_LINK);
	case MUX_EV_LOCAL_FAIL:
		return go(st, MUX_CLOSED, MUX_A_CLOSE_LINK);
	case MUX_EV_ABORT: /* a late one, for the last stream */
		return go(st, MUX_OPENING, 0);
	default:
		return 0;
	}
}

/* OPEN, FIN_SENT, FIN_RCVD: a stream with at least one way open. */
static int
next_streaming(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	enum mux_state s = m->state;

	if (fin_received(m, ev))
		return s != MUX_FIN_RCVD &&
		    (s == MUX_OPEN ? go(st, MUX_FIN_RCVD, MUX_A_SHUT_LOCAL) :
				     go(st, MUX_DONE,
					 MUX_A_SHUT_LOCAL | MUX_A_CLOSE_LOCAL));
	switch (ev) {
	case MUX_EV_DATA: /* not after the peer's FIN */
		return s != MUX_FIN_RCVD && go(st, s, MUX_A_DELIVER);
	case MUX_EV_LOCAL_EOF:
		return s != MUX_FIN_SENT &&
		    (s == MUX_OPEN ?
			    go(st, MUX_FIN_SENT, send_fin(m)) :
			    go(st, MUX_DONE, send_fin(m) | MUX_A_CLOSE_LOCAL));
	case MUX_EV_LOCAL_FAIL:
		/* After the peer's FIN there is nothing to wait for. */
		return go(st, s == MUX_FIN_RCVD ? MUX_ABORTED : MUX_ABORT_SENT,
		    MUX_A_SEND_ABORT);
	case MUX_EV_ABORT:
		/* Answered, unless our FIN already ended our side. */
		return go(st, MUX_ABORTED,
		    MUX_A_ABORT_LOCAL |
			(s == MUX_FIN_SENT ? 0 : MUX_A_SEND_ABORT));
	case MUX_EV_PEER_END:
		return go(st, MUX_CLOSED, MUX_A_ABORT_LOCAL | MUX_A_CLOSE_LINK);
	default:
		return 0;
	}
}

static int
next_done(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_LOCAL_CLOSED:
		return stream_over(m, st);
	case MUX_EV_OPEN: /* early: answered once the socket is closed */
		return m->role == MUX_SERVER && go(st, MUX_NEXT, 0);
	case MUX_EV_LOCAL_FAIL: /* both FINs are in: no answer to wait for */
		return go(st, MUX_ABORTED, MUX_A_SEND_ABORT);
	case MUX_EV_ABORT: /* the peer failed after its FIN: no answer */
		return go(st, MUX_ABORTED, MUX_A_ABORT_LOCAL);
	case MUX_EV_PEER_END: /* the stream had ended: it closes itself */
		return go(st, MUX_CLOSED, MUX_A_DETACH | MUX_A_CLOSE_LINK);
	default:
		return 0;
	}
}

/*
 * ABORT_SENT, ABORT_WAIT: waiting for the record that ends the peer's
 * side: its ABORT, or the FIN it had sent before ours reached it.
 */
static int
next_aborting(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	int waiting = m->state == MUX_ABORT_WAIT;

	if (ev == MUX_EV_DATA)
		return go(st, m->state, MUX_A_DROP); /* sent before it */
	if (fin_received(m, ev) || ev == MUX_EV_ABORT)
		return waiting ? stream_over(m, st) : go(st, MUX_ABORTED, 0);
	switch (ev) {
	case MUX_EV_LOCAL_CLOSED:
		return !waiting && go(st, MUX_ABORT_WAIT, 0);
	case MUX_EV_PEER_END:
		return go(st, MUX_CLOSED,
		    MUX_A_CLOSE_LINK | (waiting ? 0 : MUX_A_ABORT_LOCAL));
	default:
		return 0;
	}
}

/* ABORTED, NEXT: the socket is closing; nothing may come for it. */
static int
next_closing(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	int next = m->state == MUX_NEXT;

	switch (ev) {
	case MUX_EV_LOCAL_CLOSED:
		if (!next)
			return stream_over(m, st);
		return m->last ?
		    go(st, MUX_RETIRED, MUX_A_SEND_REFUSE | MUX_A_RETIRE) :
		    go(st, MUX_OPEN, MUX_A_SEND_OK | MUX_A_START);
	case MUX_EV_OPEN:
		return m->role == MUX_SERVER && !next && go(st, MUX_NEXT, 0);
	case MUX_EV_LOCAL_FAIL: /* the last stream's socket, draining */
		return next && go(st, MUX_NEXT, MUX_A_SEND_ABORT);
	case MUX_EV_ABORT: /* a late one, for the last stream */
		return go(st, m->state, next ? MUX_A_ABORT_LOCAL : 0);
	case MUX_EV_PEER_END:
		return go(st, MUX_CLOSED, MUX_A_ABORT_LOCAL | MUX_A_CLOSE_LINK);
	default:
		return 0;
	}
}

static int
next_retired(struct mux *m, enum mux_event ev, struct mux_step *st)
{
	switch (ev) {
	case MUX_EV_OPEN: /* our close_notify, already sent, answers */
		return m->role == MUX_SERVER && go(st, MUX_RETIRED, 0);
	case MUX_EV_PEER_END:
		return go(st, MUX_CLOSED, MUX_A_CLOSE_LINK);
	case MUX_EV_RETIRE:
	case MUX_EV_ABORT: /* a late one, for the last stream */
		return go(st, MUX_RETIRED, 0);
	default:
		return 0;
	}
}

/* in_stream: a state between a stream's start and the link's next. */
static int
in_stream(const struct mux *m)
{
	switch (m->state) {
	case MUX_OPENING:
		return m->role == MUX_CLIENT;
	case MUX_NEXT:
		return m->role == MUX_SERVER;
	case MUX_OPEN:
	case MUX_FIN_SENT:
	case MUX_FIN_RCVD:
	case MUX_DONE:
	case MUX_ABORT_SENT:
	case MUX_ABORT_WAIT:
	case MUX_ABORTED:
		return 1;
	default:
		return 0;
	}
}

struct mux_step
mux_next(struct mux *m, enum mux_event ev)
{
	struct mux_step st = { m->state, m->state, 0 };
	int legal = 0;

	if (m->state == MUX_CLOSED)
		return st; /* the link is ending: nothing more */
	if (ev == MUX_EV_RETIRE && in_stream(m)) {
		m->last = 1; /* the stream goes on; the link ends after */
		return st;
	}
	switch (m->state) {
	case MUX_IDLE:
		legal = next_idle(m, ev, &st);
		break;
	case MUX_OPENING:
		legal = m->role == MUX_CLIENT && next_opening(m, ev, &st);
		break;
	case MUX_OPEN:
	case MUX_FIN_SENT:
	case MUX_FIN_RCVD:
		legal = next_streaming(m, ev, &st);
		break;
	case MUX_DONE:
		legal = next_done(m, ev, &st);
		break;
	case MUX_ABORT_SENT:
	case MUX_ABORT_WAIT:
		legal = next_aborting(m, ev, &st);
		break;
	case MUX_ABORTED:
	case MUX_NEXT:
		legal = (m->state != MUX_NEXT || m->role == MUX_SERVER) &&
		    next_closing(m, ev, &st);
		break;
	case MUX_RETIRED:
		legal = next_retired(m, ev, &st);
		break;
	default:
		break;
	}
	if (!legal) {
		st.to = MUX_CLOSED;
		st.actions = MUX_A_PROTOCOL_ERROR | MUX_A_ABORT_LOCAL |
		    MUX_A_CLOSE_LINK;
	}
	m->state = st.to;
	return st;
}
