/* SPDX-License-Identifier: MIT */
/*
 * link.c: a TLS connection to the other agent or a native TLS client
 * (see link.h).  It owns the socket to the peer, the TLS state (tlsio),
 * the PostgreSQL negotiation before it, its timers, and, between agents,
 * the streams protocol (common/mux): every control record, every data
 * record and every event of the stream it carries goes through mux_next,
 * and the link carries out the actions it returns.
 *
 *   client:  DIALING -> [NEGOTIATING: SSLRequest, wait 'S'] -> HANDSHAKE
 *            -> READY
 *   server:  [NEGOTIATING: read SSLRequest, answer 'S'] -> HANDSHAKE
 *            -> READY
 *   READY:   -> RETIRING (close_notify sent, waiting for the peer's end)
 *   any:     -> CLOSING (waiting for close callbacks) -> freed
 *
 * A link that carries no streams protocol (TLS 1.2, a native client, a
 * PostgreSQL server with ssl=on) carries one stream: its EOF becomes
 * close_notify and FIN, the peer's end becomes the stream's, and the
 * link closes when both ways are over.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/allow.h"
#include "common/log.h"
#include "common/mux.h"
#include "common/tlsctx.h"
#include "common/tlsio.h"
#include "agent/dial.h"
#include "agent/handshake.h"
#include "agent/gen.h"
#include "agent/pgwire.h"
#include "agent/sock.h"
#include "agent/worker.h"
#include "agent/link_impl.h"

#define POOL_MAX_AGE_MS		30000	/* a kept client link's idle life */
#define FIRST_DATA_MS		120000	/* server: wait for the next stream */
#define REUSE_MAX_AGE_MS	600000	/* a link's life for new streams */

static const char *const state_names[] = {
	"dialing", "negotiating", "handshake", "ready", "retiring", "closing",
};

static void	mux_event(struct link *l, enum mux_event ev, const char *why);

void
link_log(struct link *l, enum log_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(lvl, "tunnel=%s link=%llu peer=%s %s", l->cfg->name,
	    (unsigned long long)l->id, l->peer, msg);
}

void
link_set_state(struct link *l, enum link_state s)
{
	link_log(l, LOG_LVL_DEBUG, "state %s -> %s", state_names[l->state],
	    state_names[s]);
	l->state = s;
}

const char *
link_peer_name(const struct link *l)
{
	return l->client ? "server" : "peer";
}

/* ---------------------------------------------------------------- close */

static void
link_unref(struct link *l)
{
	if (--l->refs > 0)
		return;
	tlsio_free(l->tio);
	gen_unref(l->gen);
	free(l);
}

static void
timer_closed_cb(uv_handle_t *h)
{
	link_unref(h->data);
}

static void
sock_closed(void *arg)
{
	link_unref(arg);
}

/* tls_desc: "TLSv1.3/TLS_AES_128_GCM_SHA256 resumed=no records=dbtls". */
static void
tls_desc(struct link *l, char *buf, size_t len)
{
	if (l->handshaken_at == 0 || l->tio == NULL)
		snprintf(buf, len, "none");
	else
		tlsio_describe(l->tio, buf, len);
}

/*
 * link_end: log the link's close line, tell its stream (retry, detach:
 * see link_user.lost), and close every handle; the last close callback
 * frees the link.  Callers return at once.
 */
void
link_end(struct link *l, int retry, int detach, const char *fmt, ...)
{
	const struct link_user *u = l->u;
	char reason[512], tls[160];
	enum log_level lvl;
	va_list ap;

	if (l->state == LINK_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (l->client && l->hooks->gone != NULL)
		l->hooks->gone(l);
	/* A server link that never got as far as a stream is worth an
	 * info line (who tried, why it failed); the rest is the streams'. */
	lvl = !l->client && l->state < LINK_READY ? LOG_LVL_INFO :
	    LOG_LVL_DEBUG;
	tls_desc(l, tls, sizeof(tls));
	link_log(l, lvl, "close identity=%s serial=%s tls=%s streams=%u "
	    "duration=%.3fs state=%s reason=\"%s\"",
	    l->ident[0] ? l->ident : "-", l->serial[0] ? l->serial : "-", tls,
	    l->uses + (l->u != NULL), (double)(uv_now(&l->w->loop) -
	    l->started) / 1000.0, state_names[l->state], reason);
	l->state = LINK_CLOSING;
	l->u = NULL;
	if (u != NULL)
		u->lost(l->uarg, reason, retry, detach);

	/* A close_notify tells the peer the end is on purpose. */
	if (l->handshaken_at != 0 && l->sock.connected) {
		tlsio_shutdown(l->tio);
		sock_write_last(&l->sock);
	}
	if (l->counted)
		atomic_fetch_sub(&l->t->active, 1);
	if (l->prev)
		l->prev->next = l->next;
	else
		l->w->links = l->next;
	if (l->next)
		l->next->prev = l->prev;
	dial_cancel(l->dial);
	l->dial = NULL;
	l->refs = 1 + sock_busy(&l->sock);
	uv_close((uv_handle_t *)&l->timer, timer_closed_cb);
	sock_close(&l->sock);
}

void
link_close(struct link *l, const char *why)
{
	link_end(l, 0, 0, "%s", why);
}

void
link_close_all(struct worker *w, const char *why)
{
	while (w->links != NULL)
		link_close(w->links, why);
}

static void timer_cb(uv_timer_t *timer);

void
link_timer_set(struct link *l, unsigned ms)
{
	uv_timer_stop(&l->timer);
	if (ms > 0)
		uv_timer_start(&l->timer, timer_cb, ms, 0);
}

int
link_flush(struct link *l)
{
	int rc;

	if (l->state == LINK_CLOSING)
		return -1;
	if ((rc = sock_flush(&l->sock)) != 0) {
		link_end(l, 0, 0, "write to %s: %s", link_peer_name(l),
		    uv_strerror(rc));
		return -1;
	}
	return 0;
}

void
link_retire(struct link *l, const char *why)
{
	int rc;

	if (l->state == LINK_CLOSING || l->state == LINK_RETIRING)
		return;
	if (l->client && l->hooks->gone != NULL)
		l->hooks->gone(l);	/* out of the pool */
	link_log(l, LOG_LVL_DEBUG, "retiring after %u stream(s): %s", l->uses,
	    why);
	snprintf(l->retiring, sizeof(l->retiring), "%s", why);
	link_set_state(l, LINK_RETIRING);
	link_timer_set(l, l->cfg->handshake_timeout_ms);
	tlsio_shutdown(l->tio);
	if ((rc = sock_shut(&l->sock)) != 0)
		link_end(l, 0, 0, "write to %s: %s", link_peer_name(l),
		    uv_strerror(rc));
}

/* retire_done: a retiring link ends once both ends have crossed. */
static void
retire_done(struct link *l)
{
	if (l->sock.eof && l->sock.shut_done)
		link_end(l, 0, 0, "%s", l->retiring);
}

static int
aged(const struct link *l)
{
	return !l->client && uv_now(&l->w->loop) - l->handshaken_at >
	    REUSE_MAX_AGE_MS;
}

int
link_stale(const struct link *l)
{
	return gen_stale(l->gen);
}

void
link_drop_stale(struct worker *w)
{
	struct link *l, *next;

	for (l = w->links; l != NULL; l = next) {
		next = l->next;
		if (l->state != LINK_READY || l->u != NULL || !link_stale(l))
			continue;
		if (l->streams)
			mux_event(l, MUX_EV_RETIRE, NULL);
		else
			link_retire(l, "idle since before a reload");
	}
}

static void
timer_cb(uv_timer_t *timer)
{
	struct link *l = timer->data;

	switch (l->state) {
	case LINK_DIALING:
		return;		/* the dial has its own timeout */
	case LINK_NEGOTIATING:
	case LINK_HANDSHAKE:
		link_end(l, 0, 0, "TLS handshake timed out");
		return;
	case LINK_READY:
		if (l->streams && l->mux.state == MUX_OPENING)
			link_end(l, 0, 0, "the server did not answer OPEN");
		else if (l->client)
			link_end(l, 0, 0, "kept connection unused for %u s",
			    POOL_MAX_AGE_MS / 1000);
		else
			link_end(l, 0, 0, "no new stream for %u s",
			    FIRST_DATA_MS / 1000);
		return;
	case LINK_RETIRING:
		link_end(l, 0, 0, "%s; the peer did not close", l->retiring);
		return;
	case LINK_CLOSING:
		return;
	}
}

/* ------------------------------------------------------------ streams */

/* idle: the link carries no stream now and waits for the next. */
static void
idle(struct link *l)
{
	int rc;

	l->u = NULL;
	l->paused = 0;
	link_timer_set(l, l->client ? POOL_MAX_AGE_MS : FIRST_DATA_MS);
	if ((rc = sock_read(&l->sock, 1)) != 0)
		link_end(l, 0, 0, "read from %s: %s", link_peer_name(l),
		    uv_strerror(rc));
	else if (l->client)
		l->hooks->idle(l);	/* the pool keeps or retires it */
}

/* start: the stream relays from now on (a server makes it first). */
static void
start(struct link *l)
{
	uv_timer_stop(&l->timer);
	if (!l->client && l->u == NULL) {
		l->hooks->serve(l);
		if (l->state == LINK_CLOSING)
			return;
		if (l->u == NULL) {
			link_end(l, 0, 0, "out of memory for a stream");
			return;
		}
	}
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
		snprintf(buf, len, "%s closed the connection", link_peer_name(l));
		return buf;
	default:
		return "the stream's socket failed after its end";
	}
}

/*
 * mux_event: pass ev to the streams protocol and carry out what it says
 * (why: the reason, if ev ends something).  A reload or the age limit is
 * given to it first, at every stream start and end, so that no stream
 * starts on a link that should retire.
 */
static void
mux_event(struct link *l, enum mux_event ev, const char *why)
{
	struct mux_step st;
	char buf[128];
	unsigned a;

	if (!l->mux.last && (ev == MUX_EV_OPEN || ev == MUX_EV_LOCAL_EOF ||
	    ev == MUX_EV_LOCAL_CLOSED) && (link_stale(l) || aged(l))) {
		mux_event(l, MUX_EV_RETIRE, NULL);
		if (l->state == LINK_CLOSING)
			return;
	}
	st = mux_next(&l->mux, ev);
	a = st.actions;
	if (ev != MUX_EV_DATA)
		link_log(l, LOG_LVL_DEBUG, "streams %s->%s on %s",
		    mux_state_name(st.from), mux_state_name(st.to),
		    mux_event_name(ev));
	if (a & MUX_A_PROTOCOL_ERROR) {
		/* Local events come from this agent: a bug, not the peer. */
		const char *who = ev <= MUX_EV_LOCAL_CLOSED ||
		    ev == MUX_EV_RETIRE ? "this agent" : link_peer_name(l);

		link_log(l, LOG_LVL_WARNING, "%s broke the streams protocol: "
		    "%s in state %s", who, mux_event_name(ev),
		    mux_state_name(st.from));
		link_end(l, 0, 0, "%s broke the streams protocol (%s in %s)",
		    who, mux_event_name(ev), mux_state_name(st.from));
		return;
	}
	send_controls(l, a);
	if (link_flush(l) != 0)
		return;
	if (a & MUX_A_START) {
		start(l);
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
	if (a & (MUX_A_IDLE | MUX_A_RETIRE) && st.from != MUX_IDLE)
		l->uses++;
	if (a & MUX_A_IDLE)
		idle(l);
	if (a & MUX_A_RETIRE) {
		snprintf(buf, sizeof(buf), st.from == MUX_IDLE &&
		    link_stale(l) ? "idle since before a reload" :
		    "retired after %u streams", l->uses);
		link_retire(l, buf);
	}
	if (a & MUX_A_CLOSE_LINK)
		link_end(l, (a & MUX_A_RETRY) != 0, (a & MUX_A_DETACH) != 0,
		    "%s", why_of(l, ev, why, buf, sizeof(buf)));
}

/* ------------------------------------------------------------ records */

/*
 * one_stream_ended: a link without the streams protocol carries one
 * stream: once both ways have ended, the stream closes its socket.
 */
static void
one_stream_ended(struct link *l)
{
	if (l->eof_sent && l->eof_rcvd && l->u != NULL)
		l->u->done(l->uarg);
}

/* peer_end: the peer's close_notify, or its side of TCP ended. */
static void
peer_end(struct link *l, const char *why)
{
	if (l->state == LINK_RETIRING) {
		retire_done(l);
	} else if (l->state != LINK_READY) {
		link_end(l, 0, 0, "%s closed the connection during TLS setup",
		    link_peer_name(l));
	} else if (l->streams) {
		mux_event(l, MUX_EV_PEER_END, why);
	} else if (l->u == NULL && l->used) {
		l->eof_rcvd = 1;	/* the stream is over: wait for our FIN */
		if (l->sock.shut_done)
			link_end(l, 0, 0, "both sides closed");
	} else if (l->u == NULL) {
		link_end(l, 0, 0, "%s closed the connection while it was kept",
		    link_peer_name(l));
	} else if (!l->eof_rcvd) {
		l->eof_rcvd = 1;
		l->u->peer_eof(l->uarg);
		one_stream_ended(l);
	}
}

/* decrypt: everything TLS can give, to the stream or the protocol. */
static void
decrypt(struct link *l)
{
	struct cq scratch = { 0 };
	enum tlsio_rc rc = TLSIO_AGAIN;

	for (;;) {
		int deliver = l->u != NULL && (!l->streams ||
		    mux_delivers(&l->mux));
		size_t space, got;
		/* Room for a whole record: opened in place, not copied. */
		char *room = deliver ? l->u->room(l->uarg, TLSIO_ROOM_MAX,
		    &space) : cq_room(&scratch, &l->w->pool, TLSIO_ROOM_MAX,
		    &space);

		if (room == NULL) {
			link_end(l, 0, 0, "out of memory");
			break;
		}
		rc = tlsio_read(l->tio, room, space, &got);
		if (rc == TLSIO_CONTROL) {
			if (!l->streams) {
				link_end(l, 0, 0, "%s sent a control record "
				    "outside the streams protocol",
				    link_peer_name(l));
				break;
			}
			mux_event(l, mux_control_event((uint8_t)room[0]),
			    NULL);
			if (l->state == LINK_CLOSING)
				break;
			continue;
		}
		if (got > 0 && l->streams)
			mux_event(l, MUX_EV_DATA, NULL);
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
			mux_event(l, MUX_EV_PEER_END, tlsio_error(l->tio));
		else
			link_end(l, 0, 0, "TLS error from %s: %s",
			    link_peer_name(l), tlsio_error(l->tio));
		return;
	}
	if (rc == TLSIO_CLOSED)
		peer_end(l, NULL);
}

/* ------------------------------------------------------------ ready */

void
link_ready(struct link *l)
{
	link_set_state(l, LINK_READY);
	uv_timer_stop(&l->timer);
	if (l->streams) {
		mux_init(&l->mux, l->client ? MUX_CLIENT : MUX_SERVER);
		if (l->u != NULL) {
			link_timer_set(l, l->cfg->handshake_timeout_ms);
			mux_event(l, MUX_EV_ATTACH, NULL);
		} else {
			idle(l);
		}
	} else if (l->client && l->u == NULL) {
		idle(l);	/* prewarmed: the first app takes it */
	} else {
		l->used = 1;
		start(l);
	}
	if (l->state != LINK_CLOSING)
		decrypt(l);	/* what came with the handshake */
}

int
link_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct link *l = SSL_get_app_data(ssl);
	SSL_SESSION **slot;

	if (l == NULL)
		return 0;
	slot = &l->w->sessions[l->t->index];
	SSL_SESSION_free(*slot);
	*slot = sess;
	l->w->session_gen[l->t->index] = l->gen->id;
	return 1;	/* we keep the reference */
}

/* ------------------------------------------------------------ socket */

static void
sock_data(void *arg, const char *p, size_t n)
{
	struct link *l = arg;

	if (l->state < LINK_READY) {
		handshake_feed(l, p, n);
		return;
	}
	tlsio_feed(l->tio, p, n);	/* lent until tlsio_feed_end */
	decrypt(l);
	if (l->state != LINK_CLOSING && tlsio_feed_end(l->tio) != 0)
		link_end(l, 0, 0, "out of memory");
}

static void
sock_eof(void *arg)
{
	peer_end(arg, NULL);
}

static void
sock_failed(void *arg, int err, const char *what)
{
	struct link *l = arg;
	char why[256];

	snprintf(why, sizeof(why), "%s %s: %s", what, link_peer_name(l),
	    uv_strerror(err));
	if (l->state == LINK_READY && l->streams)
		mux_event(l, MUX_EV_PEER_END, why);
	else
		link_end(l, 0, 0, "%s", why);
}

static void
sock_written(void *arg)
{
	struct link *l = arg;

	if (l->u != NULL)
		l->u->writable(l->uarg);
}

static void
sock_shut_done(void *arg)
{
	struct link *l = arg;

	if (l->state == LINK_RETIRING)
		retire_done(l);
	else if (!l->streams && l->used && l->u == NULL)
		link_end(l, 0, 0, "both sides closed");
}

static const struct sock_ops link_sock_ops = {
	sock_data, sock_eof, sock_failed, sock_written, sock_shut_done,
	sock_closed,
};

/* ------------------------------------------------------------ the stream's */

void
link_attach(struct link *l, const struct link_user *u, void *arg)
{
	l->u = u;
	l->uarg = arg;
	l->paused = 0;
	if (l->state != LINK_READY || !l->client)
		return;		/* link_ready() or start() goes on */
	if (l->streams) {
		link_timer_set(l, l->cfg->handshake_timeout_ms);
		mux_event(l, MUX_EV_ATTACH, NULL);
	} else {
		l->used = 1;	/* a prewarmed one-stream link */
		start(l);
	}
}

int
link_send(struct link *l, const void *p, size_t n)
{
	if (tlsio_write(l->tio, p, n) != 0) {
		link_end(l, 0, 0, "TLS error: %s", tlsio_error(l->tio));
		return -1;
	}
	return link_flush(l);
}

void
link_send_eof(struct link *l)
{
	int rc;

	if (l->streams) {
		mux_event(l, MUX_EV_LOCAL_EOF, NULL);
		return;
	}
	l->eof_sent = 1;
	tlsio_shutdown(l->tio);
	if ((rc = sock_shut(&l->sock)) != 0) {
		link_end(l, 0, 0, "write to %s: %s", link_peer_name(l),
		    uv_strerror(rc));
		return;
	}
	one_stream_ended(l);
}

void
link_stream_failed(struct link *l)
{
	if (l->streams && l->state == LINK_READY)
		mux_event(l, MUX_EV_LOCAL_FAIL, NULL);
	else
		link_close(l, "the stream's socket failed");
}

void
link_stream_closed(struct link *l)
{
	l->u = NULL;
	if (l->paused)		/* what still comes is the link's to read */
		link_pause(l, 0);
	if (l->state == LINK_CLOSING)
		return;
	if (l->streams) {
		mux_event(l, MUX_EV_LOCAL_CLOSED, NULL);
	} else if (l->state != LINK_READY || !l->eof_sent || !l->eof_rcvd) {
		link_close(l, "the stream ended");
	} else if (l->sock.shut_done) {
		link_end(l, 0, 0, "both sides closed");
	}
}

void
link_pause(struct link *l, int paused)
{
	int rc;

	l->paused = paused != 0;
	if (l->state == LINK_READY &&
	    (rc = sock_read(&l->sock, !l->paused)) != 0)
		link_end(l, 0, 0, "read from %s: %s", link_peer_name(l),
		    uv_strerror(rc));
}

size_t
link_queued(const struct link *l)
{
	return sock_queued(&l->sock);
}

void
link_describe(struct link *l, char *buf, size_t len)
{
	char tls[160];

	tls_desc(l, tls, sizeof(tls));
	snprintf(buf, len, "identity=%s serial=%s tls=%s link=%llu use=%u",
	    l->ident[0] ? l->ident : "-", l->serial[0] ? l->serial : "-", tls,
	    (unsigned long long)l->id, l->uses + 1);
}

const char *
link_peer(const struct link *l)
{
	return l->peer;
}

struct link_pool_node *
link_pool_node(struct link *l)
{
	return &l->pool;
}

struct tunnel *
link_tunnel(const struct link *l)
{
	return l->t;
}

struct worker *
link_worker(const struct link *l)
{
	return l->w;
}

int
link_keeps(const struct link *l)
{
	return l->streams;
}

/* ------------------------------------------------------------ birth */

static struct link *
link_new(struct worker *w, struct tunnel *t, const struct link_hooks *hooks)
{
	struct link *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warnx("tunnel=%s: out of memory for a connection",
		    t->cfg->name);
		return NULL;
	}
	l->w = w;
	l->t = t;
	l->hooks = hooks;
	l->gen = gen_current();
	l->cfg = &l->gen->cfg->tunnels[t->index];
	l->client = l->cfg->mode == CFG_MODE_CLIENT;
	l->id = atomic_fetch_add(&w->agent->next_conn_id, 1) + 1;
	l->started = uv_now(&w->loop);
	snprintf(l->peer, sizeof(l->peer), "-");
	sock_setup(&l->sock, w, &link_sock_ops, l, l->client ? "server" :
	    "peer");
	uv_timer_init(&w->loop, &l->timer);
	l->timer.data = l;
	if ((l->next = w->links) != NULL)
		l->next->prev = l;
	w->links = l;
	return l;
}

/* connected_cb: the server agent answered: negotiate or handshake. */
static void
connected_cb(void *arg, int status, const char *why)
{
	struct link *l = arg;
	int rc;

	l->dial = NULL;
	if (status != 0) {
		link_end(l, 0, 0, "%s", why);
		return;
	}
	sock_connected(&l->sock, l->cfg->keepalive_s);
	if ((rc = sock_read(&l->sock, 1)) != 0) {
		link_end(l, 0, 0, "read from server: %s", uv_strerror(rc));
		return;
	}
	handshake_begin(l);
}

struct link *
link_dial(struct worker *w, struct tunnel *t, const struct link_hooks *hooks)
{
	struct link *l;
	int rc;

	if ((l = link_new(w, t, hooks)) == NULL)
		return NULL;
	l->state = LINK_DIALING;
	if ((l->dial = dial_start(&l->sock, &l->cfg->connect,
	    l->cfg->connect_timeout_ms, connected_cb, l, &rc)) == NULL) {
		link_end(l, 0, 0, "connect to server: %s", uv_strerror(rc));
		return NULL;
	}
	return l;
}

void
link_accept(struct listener *lis, const struct link_hooks *hooks)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss), rc;
	struct link *l;

	if ((l = link_new(lis->w, lis->t, hooks)) == NULL)
		return;
	l->state = LINK_HANDSHAKE;
	if ((rc = sock_accept(&l->sock, &lis->h.stream)) != 0) {
		link_end(l, 0, 0, "accept: %s", uv_strerror(rc));
		return;
	}
	if (l->sock.h.handle.type == UV_TCP && uv_tcp_getpeername(
	    &l->sock.h.tcp, (struct sockaddr *)&ss, &sslen) == 0)
		addr_sockaddr_format((struct sockaddr *)&ss, l->peer,
		    sizeof(l->peer));
	else if (l->sock.h.handle.type == UV_NAMED_PIPE)
		snprintf(l->peer, sizeof(l->peer), "unix");
	sock_connected(&l->sock, l->cfg->keepalive_s);
	if (atomic_fetch_add(&l->t->active, 1) >= l->cfg->max_connections) {
		atomic_fetch_sub(&l->t->active, 1);
		link_end(l, 0, 0, "max_connections (%u) reached",
		    l->cfg->max_connections);
		return;
	}
	l->counted = 1;
	link_log(l, LOG_LVL_DEBUG, "accepted");
	if ((rc = sock_read(&l->sock, 1)) != 0) {
		link_end(l, 0, 0, "read from peer: %s", uv_strerror(rc));
		return;
	}
	handshake_begin(l);
}
