/* SPDX-License-Identifier: MIT */
/*
 * mux.h: the streams protocol between two dbtls agents, as a pure state
 * machine (no sockets, no libuv, no TLS).  Two agents that agreed on ALPN
 * "dbtls/1" carry one app connection ("stream") after another over one TLS
 * connection ("link"), framed by one-byte control records.  Each side of
 * a link keeps one struct mux; every event is passed to mux_next(), which
 * returns the new state and the actions the caller must take.  Any event
 * that the table below does not list for a state is a protocol error that
 * ends the link.
 *
 * Control records: OPEN (client: an app attached), OK / REFUSE (server:
 * the stream is taken, or not: the client then moves the app, of which
 * nothing was forwarded, to a new link), FIN (this side's socket reached
 * EOF), FIN_LAST (server: FIN, and no stream after this one), ABORT (this
 * side's socket failed; the other closes its socket, drops what is still
 * in flight for the stream, and answers ABORT unless its FIN had already
 * ended its side).
 *
 * "last" is the one bit beside the state: set by RETIRE (a reload, or the
 * link's age limit) or by a FIN_LAST received; a stream that ends with it
 * set retires the link instead of keeping it, and a server then sends
 * FIN_LAST for FIN.
 *
 *   state       event         side  -> state       actions
 *   IDLE        ATTACH        C        OPENING     SEND_OPEN
 *   IDLE        OPEN          S        OPEN        SEND_OK START
 *   IDLE        PEER_END      CS       CLOSED      CLOSE_LINK
 *   IDLE        RETIRE        CS       RETIRED     RETIRE
 *   OPENING     OK            C        OPEN        START
 *   OPENING     REFUSE        C        CLOSED      RETRY CLOSE_LINK
 *   OPENING     PEER_END      C        CLOSED      RETRY CLOSE_LINK
 *   OPENING     LOCAL_FAIL    C        CLOSED      CLOSE_LINK
 *   OPEN        DATA          CS       OPEN        DELIVER
 *   OPEN        LOCAL_EOF     CS       FIN_SENT    SEND_FIN (*)
 *   OPEN        FIN           CS       FIN_RCVD    SHUT_LOCAL
 *   OPEN        FIN_LAST      C        FIN_RCVD    SHUT_LOCAL (last)
 *   FIN_SENT    DATA          CS       FIN_SENT    DELIVER
 *   FIN_SENT    FIN           CS       DONE        SHUT_LOCAL CLOSE_LOCAL
 *   FIN_SENT    FIN_LAST      C        DONE        SHUT_LOCAL CLOSE_LOCAL
 *                                                  (last)
 *   FIN_RCVD    LOCAL_EOF     CS       DONE        SEND_FIN CLOSE_LOCAL (*)
 *   OPEN, FIN_SENT:
 *               LOCAL_FAIL    CS       ABORT_SENT  SEND_ABORT
 *   FIN_RCVD, DONE:
 *               LOCAL_FAIL    CS       ABORTED     SEND_ABORT
 *   OPEN, FIN_RCVD:
 *               ABORT         CS       ABORTED     SEND_ABORT ABORT_LOCAL
 *   FIN_SENT, DONE:
 *               ABORT         CS       ABORTED     ABORT_LOCAL
 *   OPEN, FIN_SENT, FIN_RCVD:
 *               PEER_END      CS       CLOSED      ABORT_LOCAL CLOSE_LINK
 *   DONE        LOCAL_CLOSED  CS       IDLE        IDLE (**)
 *   DONE        OPEN          S        NEXT        -
 *   DONE        PEER_END      CS       CLOSED      DETACH CLOSE_LINK
 *   ABORT_SENT  DATA          CS       ABORT_SENT  DROP
 *   ABORT_SENT  ABORT, FIN    CS       ABORTED     - (FIN_LAST: C, last)
 *   ABORT_SENT  LOCAL_CLOSED  CS       ABORT_WAIT  -
 *   ABORT_WAIT  DATA          CS       ABORT_WAIT  DROP
 *   ABORT_WAIT  ABORT, FIN    CS       IDLE        IDLE (**) (FIN_LAST: C)
 *   ABORTED     LOCAL_CLOSED  CS       IDLE        IDLE (**)
 *   ABORTED     OPEN          S        NEXT        -
 *   ABORT_SENT, ABORTED, NEXT:
 *               PEER_END      CS       CLOSED      ABORT_LOCAL CLOSE_LINK
 *   ABORT_WAIT  PEER_END      CS       CLOSED      CLOSE_LINK
 *   NEXT        LOCAL_FAIL    S        NEXT        SEND_ABORT
 *   NEXT        LOCAL_CLOSED  S        OPEN        SEND_OK START
 *                             (last:   RETIRED     SEND_REFUSE RETIRE)
 *   NEXT        ABORT         S        NEXT        ABORT_LOCAL (***)
 *   IDLE, OPENING (C), ABORTED, RETIRED:
 *               ABORT         CS       (same)      - (***)
 *   RETIRED     OPEN          S        RETIRED     - (close_notify is out)
 *   RETIRED     PEER_END      CS       CLOSED      CLOSE_LINK
 *   RETIRED     RETIRE        CS       RETIRED     -
 *   OPENING .. NEXT RETIRE    CS       (same)      (last)
 *   CLOSED      any           CS       CLOSED      -
 *   any other pair                     CLOSED      PROTOCOL_ERROR
 *                                                  ABORT_LOCAL CLOSE_LINK
 *
 *   (*)  a server with last set sends FIN_LAST instead of FIN.
 *   (**) with last set: RETIRED and RETIRE instead of IDLE and IDLE.
 *   (***) a late ABORT: each side ends its half of a stream with exactly
 *        one record, FIN or ABORT, and answers an ABORT only if it had
 *        sent neither.  A side whose socket fails after its FIN still
 *        sends ABORT; the peer may by then have finished the stream, and
 *        a client started the next, but that ABORT comes before any OK
 *        or OPEN of the next stream, so it can only be for the last one:
 *        it aborts that stream's socket if it is still closing, and is
 *        otherwise ignored.
 *
 * So by construction: no data is delivered outside an open stream whose
 * OPEN the server answered (data in IDLE, OPENING, NEXT, DONE or after a
 * FIN is a protocol error), and the server starts a stream only once the
 * previous stream's socket is closed (NEXT waits for LOCAL_CLOSED).
 */
#ifndef COMMON_MUX_H
#define COMMON_MUX_H

#include <stdint.h>

/* Control record codes on the wire (one byte, TLS content type 224). */
enum mux_ctl {
	MUX_CTL_OPEN = 1,
	MUX_CTL_FIN = 2,
	MUX_CTL_ABORT = 3,
	MUX_CTL_FIN_LAST = 4,
	MUX_CTL_OK = 5,
	MUX_CTL_REFUSE = 6,
};

enum mux_role { MUX_CLIENT, MUX_SERVER };

enum mux_state {
	MUX_IDLE,	/* no stream: client pooled, server waiting for OPEN */
	MUX_OPENING,	/* client: OPEN sent, waiting for OK or REFUSE */
	MUX_OPEN,	/* a stream, both directions open */
	MUX_FIN_SENT,	/* our socket reached EOF; the peer still sends */
	MUX_FIN_RCVD,	/* the peer's side ended; ours still sends */
	MUX_DONE,	/* both FINs crossed: the socket closes gracefully */
	MUX_ABORT_SENT, /* we aborted: socket closing, waiting for ABORT */
	MUX_ABORT_WAIT, /* we aborted, socket closed, waiting for ABORT */
	MUX_ABORTED,	/* both ABORTs crossed: the socket is closing */
	MUX_NEXT,	/* server: OPEN came while the last socket closes */
	MUX_RETIRED,	/* no more streams: close_notify sent */
	MUX_CLOSED,	/* the link ends */
	MUX_NSTATES
};

enum mux_event {
	MUX_EV_ATTACH,	     /* client: an app takes the idle link */
	MUX_EV_LOCAL_EOF,    /* the stream's socket reached EOF */
	MUX_EV_LOCAL_FAIL,   /* the stream's socket failed or was refused */
	MUX_EV_LOCAL_CLOSED, /* the stream's socket is closed */
	MUX_EV_OPEN,	     /* control records received ... */
	MUX_EV_OK,
	MUX_EV_REFUSE,
	MUX_EV_FIN,
	MUX_EV_FIN_LAST,
	MUX_EV_ABORT,
	MUX_EV_BAD_CONTROL, /* ... one of no known code */
	MUX_EV_DATA,	    /* a data record received */
	MUX_EV_PEER_END,    /* close_notify, or the connection ended */
	MUX_EV_RETIRE,	    /* a reload, or the link's age limit */
	MUX_NEVENTS
};

/* Actions, a bit each; several may come from one event. */
enum mux_action {
	MUX_A_SEND_OPEN = 1 << 0,
	MUX_A_SEND_OK = 1 << 1,
	MUX_A_SEND_REFUSE = 1 << 2,
	MUX_A_SEND_FIN = 1 << 3,
	MUX_A_SEND_FIN_LAST = 1 << 4,
	MUX_A_SEND_ABORT = 1 << 5,
	MUX_A_START = 1 << 6,		/* the stream relays from now on */
	MUX_A_DELIVER = 1 << 7,		/* pass the data to the stream */
	MUX_A_DROP = 1 << 8,		/* discard it (an aborted stream's) */
	MUX_A_SHUT_LOCAL = 1 << 9,	/* shut the socket's writes, drained */
	MUX_A_CLOSE_LOCAL = 1 << 10,	/* close it once its writes are shut */
	MUX_A_ABORT_LOCAL = 1 << 11,	/* close it now, dropping its queue */
	MUX_A_DETACH = 1 << 12,		/* it finishes without the link */
	MUX_A_IDLE = 1 << 13,		/* the link waits for the next stream */
	MUX_A_RETRY = 1 << 14,		/* client: move the app to a new link */
	MUX_A_RETIRE = 1 << 15,		/* close_notify, end at the peer's */
	MUX_A_CLOSE_LINK = 1 << 16,	/* end the link now */
	MUX_A_PROTOCOL_ERROR = 1 << 17, /* ... because the pair was illegal */
};

struct mux {
	enum mux_role role;
	enum mux_state state;
	int last; /* no stream after the current one */
};

struct mux_step {
	enum mux_state from;
	enum mux_state to;
	unsigned actions; /* enum mux_action bits */
};

/* mux_init(m, role): a link that has just agreed on streams: IDLE. */
void mux_init(struct mux *m, enum mux_role role);

/* mux_next(m, ev): apply ev to m; returns the transition taken. */
struct mux_step mux_next(struct mux *m, enum mux_event ev);

/*
 * mux_control_event(code): the event for a received control record code
 * (MUX_EV_BAD_CONTROL for an unknown one).  mux_control_code(action): the
 * code a MUX_A_SEND_* bit sends.
 */
enum mux_event mux_control_event(uint8_t code);
uint8_t mux_control_code(unsigned action);

/* mux_delivers(m): 1 if data received now goes to the stream. */
int mux_delivers(const struct mux *m);

/* Names for log lines: "idle", "open", "fin_sent", ...; "OPEN", "DATA". */
const char *mux_state_name(enum mux_state s);
const char *mux_event_name(enum mux_event ev);

#endif
