/* SPDX-License-Identifier: MIT */
/*
 * test_mux.c: the streams protocol's state machine.
 *
 * 1. Every (role, state, last, event) is checked against the table below,
 *    a copy of mux.h's written as data: a pair it does not list must be a
 *    protocol error.
 * 2. A client and a server mux joined by two in-order channels run
 *    random legal schedules (apps attach, send, end, fail; sockets close
 *    late; reloads; records cross in flight): no protocol error may occur,
 *    and every data record is delivered to, or dropped by, the stream it
 *    was sent on.
 * 3. Rogue peers: the sequences an outside review sent over ALPN dbtls/1
 *    end the link.
 * 4. Random events from random states, each step checked against the
 *    table (the reference model): CLOSED is final, and an error always
 *    closes the link.
 */
#include <stdint.h>

#include "common/mux.h"
#include "harness.h"

static const char *const expected[] = {
	"idle ATTACH C * opening SEND_OPEN =",
	"idle OPEN S * open SEND_OK|START =",
	"idle PEER_END CS * closed CLOSE_LINK =",
	"idle RETIRE CS * retired RETIRE 1",
	"opening OK C * open START =",
	"opening REFUSE C * closed RETRY|CLOSE_LINK =",
	"opening PEER_END C * closed RETRY|CLOSE_LINK =",
	"opening LOCAL_FAIL C * closed CLOSE_LINK =",
	"opening RETIRE C * opening - 1",
	"open DATA CS * open DELIVER =",
	"open LOCAL_EOF C * fin_sent SEND_FIN =",
	"open LOCAL_EOF S 0 fin_sent SEND_FIN =",
	"open LOCAL_EOF S 1 fin_sent SEND_FIN_LAST =",
	"open FIN CS * fin_rcvd SHUT_LOCAL =",
	"open FIN_LAST C * fin_rcvd SHUT_LOCAL 1",
	"fin_sent DATA CS * fin_sent DELIVER =",
	"fin_sent FIN CS * done SHUT_LOCAL|CLOSE_LOCAL =",
	"fin_sent FIN_LAST C * done SHUT_LOCAL|CLOSE_LOCAL 1",
	"fin_rcvd LOCAL_EOF C * done SEND_FIN|CLOSE_LOCAL =",
	"fin_rcvd LOCAL_EOF S 0 done SEND_FIN|CLOSE_LOCAL =",
	"fin_rcvd LOCAL_EOF S 1 done SEND_FIN_LAST|CLOSE_LOCAL =",
	"open LOCAL_FAIL CS * abort_sent SEND_ABORT =",
	"fin_sent LOCAL_FAIL CS * abort_sent SEND_ABORT =",
	"fin_rcvd LOCAL_FAIL CS * aborted SEND_ABORT =",
	"open PEER_END CS * closed ABORT_LOCAL|CLOSE_LINK =",
	"fin_sent PEER_END CS * closed ABORT_LOCAL|CLOSE_LINK =",
	"fin_rcvd PEER_END CS * closed ABORT_LOCAL|CLOSE_LINK =",
	"open ABORT CS * aborted SEND_ABORT|ABORT_LOCAL =",
	"fin_sent ABORT CS * aborted ABORT_LOCAL =",
	"done ABORT CS * aborted ABORT_LOCAL =",
	"fin_rcvd ABORT CS * aborted SEND_ABORT|ABORT_LOCAL =",
	"done LOCAL_CLOSED CS 0 idle IDLE =",
	"done LOCAL_CLOSED CS 1 retired RETIRE =",
	"done OPEN S * next - =",
	"done LOCAL_FAIL CS * aborted SEND_ABORT =",
	"done PEER_END CS * closed DETACH|CLOSE_LINK =",
	"abort_sent DATA CS * abort_sent DROP =",
	"abort_sent FIN CS * aborted - =",
	"abort_sent FIN_LAST C * aborted - 1",
	"abort_sent ABORT CS * aborted - =",
	"abort_sent LOCAL_CLOSED CS * abort_wait - =",
	"abort_wait DATA CS * abort_wait DROP =",
	"abort_wait FIN CS 0 idle IDLE =",
	"abort_wait FIN CS 1 retired RETIRE =",
	"abort_wait FIN_LAST C * retired RETIRE 1",
	"abort_wait ABORT CS 0 idle IDLE =",
	"abort_wait ABORT CS 1 retired RETIRE =",
	"aborted LOCAL_CLOSED CS 0 idle IDLE =",
	"aborted LOCAL_CLOSED CS 1 retired RETIRE =",
	"aborted OPEN S * next - =",
	"abort_sent PEER_END CS * closed ABORT_LOCAL|CLOSE_LINK =",
	"aborted PEER_END CS * closed ABORT_LOCAL|CLOSE_LINK =",
	"next PEER_END S * closed ABORT_LOCAL|CLOSE_LINK =",
	"abort_wait PEER_END CS * closed CLOSE_LINK =",
	"next LOCAL_FAIL S * next SEND_ABORT =",
	"next ABORT S * next ABORT_LOCAL =",
	"aborted ABORT CS * aborted - =",
	"idle ABORT CS * idle - =",
	"opening ABORT C * opening - =",
	"retired ABORT CS * retired - =",
	"next LOCAL_CLOSED S 0 open SEND_OK|START =",
	"next LOCAL_CLOSED S 1 retired SEND_REFUSE|RETIRE =",
	"retired OPEN S * retired - =",
	"retired PEER_END CS * closed CLOSE_LINK =",
	"retired RETIRE CS * retired - =",
	"open RETIRE CS * open - 1",
	"fin_sent RETIRE CS * fin_sent - 1",
	"fin_rcvd RETIRE CS * fin_rcvd - 1",
	"done RETIRE CS * done - 1",
	"abort_sent RETIRE CS * abort_sent - 1",
	"abort_wait RETIRE CS * abort_wait - 1",
	"aborted RETIRE CS * aborted - 1",
	"next RETIRE S * next - 1",
};

static const char *const action_names[] = {
	"SEND_OPEN",
	"SEND_OK",
	"SEND_REFUSE",
	"SEND_FIN",
	"SEND_FIN_LAST",
	"SEND_ABORT",
	"START",
	"DELIVER",
	"DROP",
	"SHUT_LOCAL",
	"CLOSE_LOCAL",
	"ABORT_LOCAL",
	"DETACH",
	"IDLE",
	"RETRY",
	"RETIRE",
	"CLOSE_LINK",
	"PROTOCOL_ERROR",
};

#define NACTIONS (sizeof(action_names) / sizeof(action_names[0]))
#define A_ERROR	 (MUX_A_PROTOCOL_ERROR | MUX_A_ABORT_LOCAL | MUX_A_CLOSE_LINK)

static int
state_of(const char *name)
{
	for (int s = 0; s < MUX_NSTATES; s++)
		if (strcmp(mux_state_name(s), name) == 0)
			return s;
	return -1;
}

static int
event_of(const char *name)
{
	for (int e = 0; e < MUX_NEVENTS; e++)
		if (strcmp(mux_event_name(e), name) == 0)
			return e;
	return -1;
}

static int
actions_of(const char *list)
{
	char buf[128], *tok, *save;
	int bits = 0;

	if (strcmp(list, "-") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, "|", &save); tok != NULL;
	     tok = strtok_r(NULL, "|", &save)) {
		size_t i;

		for (i = 0; i < NACTIONS; i++)
			if (strcmp(action_names[i], tok) == 0)
				break;
		if (i == NACTIONS)
			return -1;
		bits |= 1 << i;
	}
	return bits;
}

#define NROWS (sizeof(expected) / sizeof(expected[0]))

/* The table, parsed once. */
static struct row {
	int state, event, to, actions, last_after;
	char roles[4], last;
} rows[NROWS];

static void
parse_table(void)
{
	for (size_t i = 0; i < NROWS; i++) {
		char st[32], e[32], l[4], t[32], acts[128], la[4];
		struct row *r = &rows[i];

		if (sscanf(expected[i], "%31s %31s %3s %3s %31s %127s %3s", st,
			e, r->roles, l, t, acts, la) != 7) {
			fprintf(stderr, "bad row: %s\n", expected[i]);
			harness_failures++;
			continue;
		}
		r->state = state_of(st);
		r->event = event_of(e);
		r->to = state_of(t);
		r->actions = actions_of(acts);
		r->last = l[0];
		r->last_after = la[0] == '=' ? -1 : la[0] - '0';
		CHECK(r->state >= 0 && r->event >= 0 && r->to >= 0 &&
		    r->actions >= 0);
	}
}

/* What the table says for one pair; 0 if it does not list it. */
static int
lookup(int role, int state, int last, int ev, int *to, int *actions,
    int *last_after)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];

		if (r->state != state || r->event != ev ||
		    strchr(r->roles, role == MUX_CLIENT ? 'C' : 'S') == NULL ||
		    (r->last != '*' && r->last - '0' != last))
			continue;
		*to = r->to;
		*actions = r->actions;
		*last_after = r->last_after < 0 ? last : r->last_after;
		return 1;
	}
	return 0;
}

static void
walk_table(void)
{
	int pairs = 0, legal = 0;

	for (int role = MUX_CLIENT; role <= MUX_SERVER; role++)
		for (int s = 0; s < MUX_NSTATES; s++)
			for (int last = 0; last <= 1; last++)
				for (int ev = 0; ev < MUX_NEVENTS; ev++) {
					struct mux m = { role, s, last };
					struct mux_step st = mux_next(&m, ev);
					int to, acts, last_after;

					pairs++;
					CHECK_EQ(st.from, s);
					CHECK_EQ(st.to, m.state);
					if (s == MUX_CLOSED) {
						to = MUX_CLOSED, acts = 0,
						last_after = last;
					} else if (lookup(role, s, last, ev,
						       &to, &acts,
						       &last_after)) {
						legal++;
					} else {
						to = MUX_CLOSED, acts = A_ERROR,
						last_after = -1;
					}
					if ((int)st.to != to ||
					    (int)st.actions != acts ||
					    (last_after >= 0 &&
						m.last != last_after)) {
						fprintf(stderr,
						    "%s %s last=%d %s: got %s %#x last=%d,"
						    " want %s %#x last=%d\n",
						    role == MUX_CLIENT ?
							"client" :
							"server",
						    mux_state_name(s), last,
						    mux_event_name(ev),
						    mux_state_name(st.to),
						    st.actions, m.last,
						    mux_state_name(to), acts,
						    last_after);
						harness_failures++;
					}
				}
	printf("table: %d pairs walked, %d legal\n", pairs, legal);
}

/* ------------------------------------------------------- pair schedule */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

enum { MSG_CTL, MSG_DATA, MSG_END };

struct msg {
	int kind;
	uint8_t code;
	int tag; /* the sender's stream number */
};

#define QMAX 512

static char visited[2][MUX_NSTATES][MUX_NEVENTS];

struct chan {
	struct msg q[QMAX];
	int head, len;
};

/* The stream's socket: DRAINING closes gracefully (and may still fail),
 * CLOSING is being closed at once. */
enum { SOCK_NONE, SOCK_OPEN, SOCK_DRAINING, SOCK_CLOSING };

struct peer {
	struct mux m;
	int stream; /* streams started (client: attached) */
	int sock;
	int eof;  /* this stream's LOCAL_EOF given */
	int gone; /* link ended: takes nothing more */
	int shut; /* close_notify sent: sends nothing */
	struct chan *out;
	int errors, delivered, dropped, streams_done;
};

static void
chan_put(struct chan *c, int kind, uint8_t code, int tag)
{
	if (c->len == QMAX)
		return; /* schedules are short; never full */
	c->q[(c->head + c->len++) % QMAX] = (struct msg){ kind, code, tag };
}

static void
apply(struct peer *p, enum mux_event ev, int tag)
{
	struct mux_step st;
	unsigned a;

	if (p->gone)
		return;
	visited[p->m.role][p->m.state][ev] = 1;
	st = mux_next(&p->m, ev);
	a = st.actions;
	if (a & MUX_A_PROTOCOL_ERROR) {
		fprintf(stderr, "%s: protocol error: %s in %s\n",
		    p->m.role == MUX_CLIENT ? "client" : "server",
		    mux_event_name(ev), mux_state_name(st.from));
		p->errors++;
	}
	if (ev == MUX_EV_FIN || ev == MUX_EV_FIN_LAST)
		CHECK_EQ(tag, p->stream); /* this stream's end */
	if (ev == MUX_EV_ABORT) {
		/* One that acts is for this stream; one ignored, a late one
		 * for the stream that just ended (a client may be on the
		 * next already). */
		if (a != 0 || st.from == MUX_ABORT_SENT ||
		    st.from == MUX_ABORT_WAIT)
			CHECK_EQ(tag, p->stream);
		else
			CHECK(tag == p->stream || tag == p->stream - 1);
	}
	if (a & (MUX_A_DELIVER | MUX_A_DROP)) {
		CHECK_EQ(tag, p->stream); /* never another stream's */
		CHECK(p->sock != SOCK_NONE || (a & MUX_A_DROP));
		if (a & MUX_A_DELIVER)
			p->delivered++;
		else
			p->dropped++;
	}
	for (unsigned bit = MUX_A_SEND_OPEN; bit <= MUX_A_SEND_ABORT; bit <<= 1)
		if ((a & bit) && !p->shut)
			chan_put(p->out, MSG_CTL, mux_control_code(bit),
			    p->stream);
	if (a & MUX_A_START) {
		if (p->m.role == MUX_SERVER) {
			CHECK_EQ(p->sock, SOCK_NONE); /* last one closed */
			p->stream++;
			p->sock = SOCK_OPEN;
			p->eof = 0;
		}
	}
	if ((a & MUX_A_CLOSE_LOCAL) && p->sock == SOCK_OPEN)
		p->sock = SOCK_DRAINING;
	if ((a & MUX_A_ABORT_LOCAL) && p->sock != SOCK_NONE)
		p->sock = SOCK_CLOSING;
	if (a & (MUX_A_IDLE | MUX_A_RETIRE) && st.from != MUX_IDLE)
		p->streams_done++;
	if ((a & (MUX_A_RETIRE | MUX_A_CLOSE_LINK)) && !p->shut) {
		chan_put(p->out, MSG_END, 0, p->stream);
		p->shut = 1;
	}
	if (a & MUX_A_CLOSE_LINK)
		p->gone = 1;
}

/* One random step of p that its app, socket or agent may take now. */
static void
local_step(struct peer *p)
{
	enum mux_state s = p->m.state;

	switch (rnd(6)) {
	case 0:
		if (p->m.role == MUX_CLIENT && s == MUX_IDLE) {
			p->stream++;
			p->sock = SOCK_OPEN;
			p->eof = 0;
			apply(p, MUX_EV_ATTACH, 0);
		}
		break;
	case 1: /* the app or database sends */
		if ((s == MUX_OPEN || s == MUX_FIN_RCVD) && !p->shut)
			chan_put(p->out, MSG_DATA, 0, p->stream);
		break;
	case 2:
		if ((s == MUX_OPEN || s == MUX_FIN_RCVD) && !p->eof) {
			p->eof = 1;
			apply(p, MUX_EV_LOCAL_EOF, 0);
		}
		break;
	case 3: /* a reset, a refused dial, a failed write */
		if ((p->sock == SOCK_OPEN || p->sock == SOCK_DRAINING) &&
		    rnd(4) == 0) {
			p->sock = SOCK_CLOSING; /* the stream closes it */
			apply(p, MUX_EV_LOCAL_FAIL, 0);
		}
		break;
	case 4:
		if (p->sock == SOCK_DRAINING || p->sock == SOCK_CLOSING) {
			p->sock = SOCK_NONE;
			apply(p, MUX_EV_LOCAL_CLOSED, 0);
		}
		break;
	case 5:
		if (rnd(30) == 0)
			apply(p, MUX_EV_RETIRE, 0);
		break;
	}
}

/* Deliver the next message waiting for p, if any. */
static void
remote_step(struct peer *p, struct chan *in)
{
	struct msg m;

	if (in->len == 0)
		return;
	m = in->q[in->head];
	in->head = (in->head + 1) % QMAX;
	in->len--;
	if (m.kind == MSG_DATA)
		apply(p, MUX_EV_DATA, m.tag);
	else if (m.kind == MSG_END)
		apply(p, MUX_EV_PEER_END, m.tag);
	else
		apply(p, mux_control_event(m.code), m.tag);
}

static void
schedules(void)
{
	static struct chan c2s, s2c;
	long delivered = 0, dropped = 0, streams = 0, errors = 0;
	int pairs = 0;

	for (int run = 0; run < 20000; run++) {
		struct peer c = { .out = &c2s }, s = { .out = &s2c };

		memset(&c2s, 0, sizeof(c2s));
		memset(&s2c, 0, sizeof(s2c));
		mux_init(&c.m, MUX_CLIENT);
		mux_init(&s.m, MUX_SERVER);
		for (int step = 0; step < 400; step++) {
			switch (rnd(4)) {
			case 0:
				local_step(&c);
				break;
			case 1:
				local_step(&s);
				break;
			case 2:
				remote_step(&c, &s2c);
				break;
			case 3:
				remote_step(&s, &c2s);
				break;
			}
		}
		CHECK(c.m.state < MUX_NSTATES && s.m.state < MUX_NSTATES);
		delivered += c.delivered + s.delivered;
		dropped += c.dropped + s.dropped;
		streams += s.streams_done;
		errors += c.errors + s.errors;
	}
	CHECK_EQ(errors, 0);
	for (int r = 0; r < 2; r++)
		for (int st = 0; st < MUX_NSTATES; st++)
			for (int ev = 0; ev < MUX_NEVENTS; ev++)
				pairs += visited[r][st][ev];
	CHECK(delivered > 20000 && dropped > 1000 && streams > 10000);
	CHECK(pairs > 85); /* nearly every legal pair, races included */
	printf("schedules: 20000 runs, %ld streams ended on the server, "
	       "%ld records delivered, %ld dropped, %ld protocol errors, "
	       "%d (role, state, event) pairs seen\n",
	    streams, delivered, dropped, errors, pairs);
}

/* ------------------------------------------------------------- rogues */

/* run(role, events...): apply the events; returns the last step. */
static struct mux_step
run(struct mux *m, const enum mux_event *evs, int n)
{
	struct mux_step st = { 0, 0, 0 };

	for (int i = 0; i < n; i++)
		st = mux_next(m, evs[i]);
	return st;
}

#define RUN(m, ...)                                                 \
	run((m), (const enum mux_event[]){ __VA_ARGS__ },           \
	    (int)(sizeof((const enum mux_event[]){ __VA_ARGS__ }) / \
		sizeof(enum mux_event)))

static void
rogues(void)
{
	struct mux m;
	struct mux_step st;

	/* A server: data before any OPEN. */
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_DATA);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	/* The next stream's bytes while the last one's socket drains. */
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_OPEN, MUX_EV_DATA, MUX_EV_FIN, MUX_EV_LOCAL_EOF,
	    MUX_EV_DATA);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	CHECK_EQ(m.state, MUX_CLOSED);
	/* ... or behind an early OPEN, before the OK. */
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_OPEN, MUX_EV_FIN, MUX_EV_LOCAL_EOF, MUX_EV_OPEN,
	    MUX_EV_DATA);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	/* An early OPEN is only answered once the last socket is closed. */
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_OPEN, MUX_EV_FIN, MUX_EV_LOCAL_EOF, MUX_EV_OPEN);
	CHECK_EQ(st.actions, 0);
	st = mux_next(&m, MUX_EV_LOCAL_CLOSED);
	CHECK_EQ(st.actions, MUX_A_SEND_OK | MUX_A_START);
	/* Two OPENs in a row. */
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_OPEN, MUX_EV_OPEN);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	/* After an ABORT crossed ours, nothing more for that stream. */
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_OPEN, MUX_EV_ABORT, MUX_EV_DATA);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	/* A client: data, FIN or a second OK before the server's OK. */
	mux_init(&m, MUX_CLIENT);
	st = RUN(&m, MUX_EV_ATTACH, MUX_EV_DATA);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	mux_init(&m, MUX_CLIENT);
	st = RUN(&m, MUX_EV_ATTACH, MUX_EV_FIN);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	mux_init(&m, MUX_CLIENT);
	st = RUN(&m, MUX_EV_ATTACH, MUX_EV_OK, MUX_EV_OK);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	/* Unknown codes, OPEN to a client, FIN_LAST to a server. */
	mux_init(&m, MUX_CLIENT);
	st = RUN(&m, MUX_EV_ATTACH, MUX_EV_OK, MUX_EV_BAD_CONTROL);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	CHECK_EQ(mux_control_event(0), MUX_EV_BAD_CONTROL);
	CHECK_EQ(mux_control_event(7), MUX_EV_BAD_CONTROL);
	CHECK_EQ(mux_control_event(255), MUX_EV_BAD_CONTROL);
	mux_init(&m, MUX_CLIENT);
	st = RUN(&m, MUX_EV_OPEN);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_OPEN, MUX_EV_FIN_LAST);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	/* Data after the peer's FIN. */
	mux_init(&m, MUX_CLIENT);
	st = RUN(&m, MUX_EV_ATTACH, MUX_EV_OK, MUX_EV_FIN, MUX_EV_DATA);
	CHECK(st.actions & MUX_A_PROTOCOL_ERROR);
	/* A stream ended by ABORTs keeps the age limit: RETIRE, then the
	 * stream's end retires the link. */
	mux_init(&m, MUX_SERVER);
	st = RUN(&m, MUX_EV_OPEN, MUX_EV_LOCAL_FAIL, MUX_EV_RETIRE,
	    MUX_EV_ABORT, MUX_EV_LOCAL_CLOSED);
	CHECK_EQ(st.to, MUX_RETIRED);
	CHECK(st.actions & MUX_A_RETIRE);
	st = mux_next(&m, MUX_EV_OPEN);
	CHECK_EQ(st.actions, 0); /* the close_notify answers it */
	/* Codes round-trip. */
	for (unsigned bit = MUX_A_SEND_OPEN; bit <= MUX_A_SEND_ABORT;
	     bit <<= 1) {
		uint8_t code = mux_control_code(bit);

		CHECK(code != 0);
		CHECK(mux_control_event(code) != MUX_EV_BAD_CONTROL);
	}
	CHECK_EQ(mux_control_code(MUX_A_START), 0);
}

static void
random_walks(void)
{
	for (int run = 0; run < 100000; run++) {
		struct mux m = { rnd(2), rnd(MUX_NSTATES), rnd(2) };

		for (int i = 0; i < 50; i++) {
			int closed = m.state == MUX_CLOSED;
			int ev = rnd(MUX_NEVENTS);
			int to, acts, last_after;
			struct mux_step st;

			/* The reference: the table as data, above. */
			if (closed)
				to = MUX_CLOSED, acts = 0;
			else if (!lookup(m.role, m.state, m.last, ev, &to,
				     &acts, &last_after))
				to = MUX_CLOSED, acts = A_ERROR;
			st = mux_next(&m, ev);
			CHECK_EQ(st.to, to);
			CHECK_EQ(st.actions, acts);
			CHECK(m.state < MUX_NSTATES);
			CHECK(!closed ||
			    (m.state == MUX_CLOSED && st.actions == 0));
			if (st.actions & MUX_A_PROTOCOL_ERROR)
				CHECK(m.state == MUX_CLOSED &&
				    (st.actions & MUX_A_CLOSE_LINK));
			if (st.actions & MUX_A_CLOSE_LINK)
				CHECK_EQ(m.state, MUX_CLOSED);
			CHECK(
			    !(st.actions & MUX_A_DELIVER) || mux_delivers(&m));
		}
	}
	CHECK_STR(mux_state_name(MUX_NSTATES), "?");
	CHECK_STR(mux_event_name(MUX_NEVENTS), "?");
}

int
main(void)
{
	parse_table();
	walk_table();
	schedules();
	rogues();
	random_walks();
	return harness_done("test_mux");
}
