/* SPDX-License-Identifier: MIT */
/*
 * link.c: a TLS connection to the other agent or a native TLS client
 * (see link.h): its birth (dialled or accepted), its socket, timers,
 * retirement and close, and the interface its stream uses.  How it gets
 * to READY is handshake.c's; what it does with the streams it carries
 * (the streams protocol, records) is carry.c's.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "common/mux.h"
#include "common/tlsio.h"
#include "agent/carry.h"
#include "agent/dial.h"
#include "agent/handshake.h"
#include "agent/gen.h"
#include "agent/sock.h"
#include "agent/worker.h"
#include "agent/link_impl.h"
#include "agent/recheck.h"

#define REUSE_MAX_AGE_MS 600000 /* a link's life for new streams */

static const char *const state_names[] = { "dialing", "negotiating",
	"handshake", "ready", "retiring", "closing" };

void
link_log(struct link *l, enum log_level lvl, const char *fmt, ...)
{
	char msg[2048];
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
	sock_clear(&l->sock);
	tlsio_free(l->tio);
	recheck_free(&l->peer_cert);
	gen_unref(l->gen);
	stats_sub(&l->st->links_open, 1);
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
	char reason[512], tls[160], qid[330], qreason[1030];
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
	link_log(l, lvl,
	    "close identity=%s serial=%s tls=%s streams=%u "
	    "duration=%.3fs state=%s reason=%s",
	    log_quote(qid, sizeof(qid), l->ident[0] ? l->ident : "-"),
	    l->serial[0] ? l->serial : "-", tls, l->uses + (l->u != NULL),
	    (double)(uv_now(&l->w->loop) - l->started) / 1000.0,
	    state_names[l->state], log_quote(qreason, sizeof(qreason), reason));
	l->state = LINK_CLOSING;
	l->u = NULL;
	if (u != NULL)
		u->lost(l->uarg, reason, retry, detach);

	/* A close_notify tells the peer the end is on purpose; a link cut
	 * short says so with a reset instead. */
	if (l->cut) {
		sock_reset(&l->sock);
	} else if (l->handshaken_at != 0 && l->sock.connected) {
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
		l->hooks->gone(l); /* out of the pool */
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

void
link_retire_done(struct link *l)
{
	if (l->sock.eof && l->sock.shut_done)
		link_end(l, 0, 0, "%s", l->retiring);
}

int
link_aged(const struct link *l)
{
	return !l->client &&
	    uv_now(&l->w->loop) - l->handshaken_at > REUSE_MAX_AGE_MS;
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
			carry_event(l, MUX_EV_RETIRE, NULL);
		else
			link_retire(l, "idle since before a reload");
	}
}

/* peer_fails: the peer no longer passes g; why says how. */
static int
peer_fails(struct link *l, const struct gen *g, char *why, size_t len)
{
	if (l->tio == NULL || l->handshaken_at == 0 || l->state == LINK_CLOSING)
		return 0;
	return !recheck_peer(&l->peer_cert, g, l->t->index, why, len);
}

static void
end_peer(struct link *l, const char *what, const char *why)
{
	char qid[330];

	link_log(l, LOG_LVL_WARNING,
	    "%s identity=%s: %s; closing it and the "
	    "app connections it carries",
	    what, log_quote(qid, sizeof(qid), l->ident[0] ? l->ident : "-"),
	    why);
	link_end(l, 0, 0, "%s: %s", what, why);
}

void
link_recheck_all(struct worker *w)
{
	struct gen *g = gen_current();
	struct link *l, *next;
	char why[512];

	for (l = w->links; l != NULL && g->cfg->close_on_revoke; l = next) {
		next = l->next;
		if (peer_fails(l, g, why, sizeof(why)))
			end_peer(l, "after the reload, the peer fails", why);
	}
	gen_unref(g);
}

int
link_recheck(struct link *l)
{
	struct gen *g;
	char why[512];
	int fails;

	if (!gen_stale(l->gen))
		return 1;
	g = gen_current();
	fails = peer_fails(l, g, why, sizeof(why));
	gen_unref(g);
	if (fails)
		end_peer(l, "a new stream's peer fails", why);
	return !fails;
}

void
link_close_expired(struct worker *w)
{
	struct gen *g = gen_current();
	time_t now = time(NULL);
	struct link *l, *next;

	for (l = w->links; l != NULL && g->cfg->close_expired; l = next) {
		next = l->next;
		if (l->peer_until != 0 && l->peer_until <= now &&
		    l->state != LINK_CLOSING)
			end_peer(l, "the peer's certificate expired",
			    "close_expired is set");
	}
	gen_unref(g);
}

void
link_drain_all(struct worker *w)
{
	struct link *l, *next;

	for (l = w->links; l != NULL; l = next) {
		next = l->next;
		if (l->state == LINK_READY && l->streams)
			carry_event(l, MUX_EV_RETIRE, NULL);
		else if (l->u == NULL && l->state != LINK_RETIRING)
			link_close(l, "agent draining");
	}
}

static void
timer_cb(uv_timer_t *timer)
{
	struct link *l = timer->data;

	switch (l->state) {
	case LINK_DIALING:
		return; /* the dial has its own timeout */
	case LINK_NEGOTIATING:
	case LINK_HANDSHAKE:
		link_refused(l, REFUSED_TIMEOUT);
		link_end(l, 0, 0, "TLS handshake timed out");
		return;
	case LINK_READY:
		if (l->streams && l->mux.state == MUX_OPENING)
			link_end(l, 1, 0, "the server did not answer OPEN");
		else if (l->streams &&
		    (l->mux.state == MUX_ABORT_SENT ||
			l->mux.state == MUX_ABORT_WAIT))
			link_end(l, 0, 0, "%s did not answer ABORT",
			    link_peer_name(l));
		else if (l->u != NULL)
			return; /* a stream's own timers rule */
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
			carry_event(l, MUX_EV_ATTACH, NULL);
		} else {
			carry_idle(l);
		}
	} else if (l->client && l->u == NULL) {
		carry_idle(l); /* prewarmed: the first app takes it */
	} else {
		l->used = 1;
		carry_start(l);
	}
	if (l->state != LINK_CLOSING)
		carry_records(l); /* what came with the handshake */
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
	return 1; /* we keep the reference */
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
	tlsio_feed(l->tio, p, n); /* lent until tlsio_feed_end */
	carry_records(l);
	if (l->state != LINK_CLOSING && tlsio_feed_end(l->tio) != 0)
		link_end(l, 0, 0, "out of memory");
}

static void
sock_eof(void *arg)
{
	struct link *l = arg;

	if (l->state == LINK_READY && !tlsio_peer_closed(l->tio)) {
		char why[200];

		snprintf(why, sizeof(why),
		    "%s ended TCP without close_notify: "
		    "truncated",
		    link_peer_name(l));
		carry_truncated(l, why);
		return;
	}
	carry_peer_end(l, NULL);
}

static void
sock_failed(void *arg, int err, const char *what)
{
	struct link *l = arg;
	char why[256];

	snprintf(why, sizeof(why), "%s %s: %s", what, link_peer_name(l),
	    uv_strerror(err));
	if (l->state == LINK_READY && l->streams)
		carry_event(l, MUX_EV_PEER_END, why);
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
		link_retire_done(l);
	else if (!l->streams && l->used && l->u == NULL)
		link_end(l, 0, 0, "both sides closed");
}

static const struct sock_ops link_sock_ops = {
	sock_data,
	sock_eof,
	sock_failed,
	sock_written,
	sock_shut_done,
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
		return; /* link_ready() or start() goes on */
	if (l->streams) {
		link_timer_set(l, l->cfg->handshake_timeout_ms);
		carry_event(l, MUX_EV_ATTACH, NULL);
	} else {
		l->used = 1; /* a prewarmed one-stream link */
		carry_start(l);
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
		carry_event(l, MUX_EV_LOCAL_EOF, NULL);
		return;
	}
	l->eof_sent = 1;
	tlsio_shutdown(l->tio);
	if ((rc = sock_shut(&l->sock)) != 0) {
		link_end(l, 0, 0, "write to %s: %s", link_peer_name(l),
		    uv_strerror(rc));
		return;
	}
	carry_one_ended(l);
}

void
link_stream_failed(struct link *l)
{
	const struct link_user *u = l->u;

	if (l->client && l->state < LINK_READY && u != NULL) {
		/* Nothing was sent for it yet: the link goes on, and the
		 * pool keeps it for the next app. */
		l->u = NULL;
		u->lost(l->uarg, "the stream ended first", 0, 1);
	} else if (l->streams && l->state == LINK_READY) {
		carry_event(l, MUX_EV_LOCAL_FAIL, NULL);
	} else {
		/* The peer must not take the end for a complete stream. */
		l->cut = l->state == LINK_READY;
		link_close(l, "the stream's socket failed");
	}
}

void
link_stream_closed(struct link *l)
{
	l->u = NULL;
	l->uses++;
	if (l->paused) /* what still comes is the link's to read */
		link_pause(l, 0);
	if (l->state == LINK_CLOSING)
		return;
	if (l->streams) {
		carry_event(l, MUX_EV_LOCAL_CLOSED, NULL);
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
	char tls[160], qid[330];

	tls_desc(l, tls, sizeof(tls));
	snprintf(buf, len, "identity=%s serial=%s tls=%s link=%llu use=%u",
	    log_quote(qid, sizeof(qid), l->ident[0] ? l->ident : "-"),
	    l->serial[0] ? l->serial : "-", tls, (unsigned long long)l->id,
	    l->uses + 1);
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

struct gen *
link_gen(const struct link *l)
{
	return l->gen;
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
	l->st = &w->stats[t->index];
	stats_add(&l->st->links_open, 1);
	snprintf(l->peer, sizeof(l->peer), "-");
	sock_setup(&l->sock, w, &link_sock_ops, l,
	    l->client ? "server" : "peer");
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
	stats_observe(&l->st->dial[TARGET_AGENT], uv_hrtime() - l->dial_ns);
	sock_connected(&l->sock, l->cfg);
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

	if ((l = link_new(w, t, hooks)) == NULL)
		return NULL;
	l->state = LINK_DIALING;
	l->dial_ns = uv_hrtime();
	if ((l->dial = dial_start(&l->sock, &l->cfg->connect,
		 l->cfg->connect_timeout_ms, connected_cb, l)) == NULL) {
		link_end(l, 0, 0, "out of memory");
		return NULL;
	}
	return l;
}

void
link_accept(struct listener *lis, const struct link_hooks *hooks)
{
	struct link *l;
	int rc;

	if ((l = link_new(lis->w, lis->t, hooks)) == NULL)
		return;
	l->state = LINK_HANDSHAKE;
	if ((rc = sock_accept(&l->sock, &lis->h.stream)) != 0) {
		link_end(l, 0, 0, "accept: %s", uv_strerror(rc));
		return;
	}
	sock_peer(&l->sock, l->peer, sizeof(l->peer));
	sock_connected(&l->sock, l->cfg);
	if (atomic_fetch_add(&l->t->active, 1) >= l->cfg->max_connections) {
		atomic_fetch_sub(&l->t->active, 1);
		link_refused(l, REFUSED_MAX_CONNECTIONS);
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
