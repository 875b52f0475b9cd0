/* SPDX-License-Identifier: MIT */
/*
 * stream.c: one app connection (see stream.h).
 *
 *   client:  WAITING (app bytes held while the link is set up or its
 *            OPEN is answered) -> RELAYING
 *   server:  CONNECTING (dialling the database; for postgresql and
 *            mongodb over a one-stream link, only once the first bytes
 *            arrive) -> RELAYING
 *   any:     -> CLOSING (waiting for close callbacks) -> freed
 *
 * Relay: bytes read from the plain socket go to the link, which encrypts
 * them into its own queue; the link decrypts the peer's bytes straight
 * into this stream's queue.  The plain socket stops reading while the
 * link's queue is above FLOW_HIGH, and the link stops reading while this
 * stream's queue is, each resuming below FLOW_LOW: memory per stream is
 * bounded.  The link says when the peer's side has ended (shut our
 * writes once drained) and when both have (close once shut); this stream
 * tells the link when its socket reaches EOF, fails, and is closed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/cq.h"
#include "common/log.h"
#include "agent/dial.h"
#include "agent/gen.h"
#include "agent/link.h"
#include "agent/pgwire.h"
#include "agent/pool.h"
#include "agent/sock.h"
#include "agent/worker.h"
#include "agent/stream.h"

#define FLOW_HIGH     (256 * 1024UL)
#define FLOW_LOW      (64 * 1024UL)
#define MAX_SPANS     16
#define FIRST_DATA_MS 120000 /* server: wait for the first bytes */

enum stream_state {
	STREAM_WAITING,	   /* client: the link is not carrying it yet */
	STREAM_CONNECTING, /* server: the database is being dialled */
	STREAM_RELAYING,   /* both sides up, bytes flow */
	STREAM_CLOSING,	   /* waiting for close callbacks */
};

static const char *const state_names[] = { "waiting", "connecting", "relaying",
	"closing" };

struct stream {
	struct worker *w;
	struct tunnel *t;
	struct gen *gen; /* config, held */
	const struct cfg_tunnel *cfg;
	uint64_t id;
	enum stream_state state;
	struct sock sock;  /* the app's or the database's */
	struct link *link; /* NULL once it is gone */
	struct dial *dial; /* server: while dialling */
	uv_timer_t timer;
	int refs; /* close callbacks still due */
	unsigned client:1;
	unsigned app_negotiating:1; /* client pg: filtering */
	unsigned counted:1;	    /* a max_connections slot */
	unsigned in_stats:1;	    /* in connections_open */
	unsigned started:1;	    /* the link carries it */
	unsigned retried:1;	    /* client: moved to a new one */
	unsigned dial_on_data:1;    /* server: at first bytes */
	unsigned ending:1;	    /* close once shut */
	unsigned reset:1;	    /* cut short: reset, not FIN */
	unsigned link_paused:1;
	struct cq held;	  /* client: app bytes before start */
	uint8_t sniff[8]; /* the app's first packet */
	size_t nsniff;
	struct stats_tunnel *st;
	uint64_t dial_ns;  /* uv_hrtime at the dial */
	uint64_t plain_in; /* bytes read from the socket */
	uint64_t link_in;  /* bytes the link delivered */
	uint64_t started_at;
	uint64_t last_active;
	char peer[64];
	char *lost_desc;	    /* the link's, once gone */
	struct stream *prev, *next; /* the worker's list */
};

static const struct link_user stream_user;
static const struct sock_ops stream_sock_ops;
static void stream_end(struct stream *s, int failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void flow(struct stream *s);

static void stream_log(struct stream *s, enum log_level lvl, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
stream_log(struct stream *s, enum log_level lvl, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(lvl, "tunnel=%s conn=%llu peer=%s %s", s->cfg->name,
	    (unsigned long long)s->id, s->peer, msg);
}

static void
set_state(struct stream *s, enum stream_state st)
{
	if (s->state != st)
		stream_log(s, LOG_LVL_DEBUG, "state %s -> %s",
		    state_names[s->state], state_names[st]);
	s->state = st;
}

/* describe: the link's part of the open and close lines. */
static void
describe(struct stream *s, char *buf, size_t len)
{
	if (s->link != NULL && s->started)
		link_describe(s->link, buf, len);
	else
		/* lost_desc is NULL when it never had a link */
		snprintf(buf, len, "%s",
		    s->lost_desc != NULL ? s->lost_desc :
					   "identity=\"-\" serial=- tls=none");
}

/* ---------------------------------------------------------------- close */

static void
stream_unref(struct stream *s)
{
	if (--s->refs > 0)
		return;
	/* Its socket is closed now: the link may take the next stream. */
	if (s->link != NULL)
		link_stream_closed(s->link);
	/* A socket never opened, or closed while dialling, still holds
	 * what was queued for it. */
	sock_clear(&s->sock);
	atomic_fetch_sub(&s->w->agent->streams, 1);
	if (s->in_stats)
		stats_sub(&s->st->conns_open, 1);
	cq_clear(&s->held, &s->w->pool);
	gen_unref(s->gen);
	free(s->lost_desc);
	free(s);
}

static void
timer_closed_cb(uv_handle_t *h)
{
	stream_unref(h->data);
}

static void
sock_closed(void *arg)
{
	stream_unref(arg);
}

/*
 * stream_end: log the close line and close the socket.  failed: the
 * stream ends by itself (its socket failed or was refused, a timeout), so
 * the link aborts it; else the link ended it (an ABORT, both ways done,
 * the link gone) or the agent stops.  The last close callback tells the
 * link and frees the stream; callers return at once.
 */
static void
stream_end(struct stream *s, int failed, const char *fmt, ...)
{
	uint64_t up = s->client ? s->plain_in : s->link_in;
	uint64_t down = s->client ? s->link_in : s->plain_in;
	char reason[512], qreason[1030], desc[520];
	va_list ap;

	if (s->state == STREAM_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	describe(s, desc, sizeof(desc));
	stream_log(s, LOG_LVL_INFO,
	    "close %s to_db=%llu from_db=%llu "
	    "duration=%.3fs state=%s reason=%s",
	    desc, (unsigned long long)up, (unsigned long long)down,
	    (double)(uv_now(&s->w->loop) - s->started_at) / 1000.0,
	    state_names[s->state], log_quote(qreason, sizeof(qreason), reason));
	s->state = STREAM_CLOSING;
	s->dial_on_data = 0;
	/* Unless the link ended it, the link must stop carrying it now. */
	if (failed && s->link != NULL)
		link_stream_failed(s->link); /* may call lost() */
	if (s->counted)
		atomic_fetch_sub(&s->t->active, 1);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->w->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	dial_cancel(s->dial);
	s->dial = NULL;
	s->refs = 1 + sock_busy(&s->sock);
	uv_close((uv_handle_t *)&s->timer, timer_closed_cb);
	if (s->reset)
		sock_reset(&s->sock);
	else
		sock_close(&s->sock);
}

/* Cut short, and said so: each stream's other side is reset (through
 * an ABORT, or a link closed without close_notify), never shut. */
void
stream_close_all(struct worker *w, const char *why)
{
	while (w->streams != NULL) {
		w->streams->reset = 1;
		stream_end(w->streams, 1, "%s", why);
	}
}

static void
timer_cb(uv_timer_t *timer)
{
	struct stream *s = timer->data;
	uint64_t idle = uv_now(&s->w->loop) - s->last_active;

	if (s->dial_on_data) {
		stream_end(s, 1, "peer sent nothing after the handshake");
	} else if (s->state == STREAM_RELAYING) {
		if (idle >= s->cfg->idle_timeout_ms) {
			stream_end(s, 1, "idle for %.1fs", (double)idle / 1000);
			return;
		}
		uv_timer_start(&s->timer, timer_cb,
		    s->cfg->idle_timeout_ms - idle, 0);
	}
}

/* ---------------------------------------------------------------- flow */

/*
 * flow: start or stop reading each side from how full the queue it feeds
 * is, with hysteresis.  Called after every read and every write.
 */
static void
flow(struct stream *s)
{
	size_t q = s->held.len + (s->link != NULL ? link_queued(s->link) : 0);

	if (s->state == STREAM_CLOSING)
		return;
	if (s->sock.connected && !s->sock.eof) {
		int rc = 0;

		if (!s->sock.reading && q < FLOW_LOW)
			rc = sock_read(&s->sock, 1);
		else if (s->sock.reading && q > FLOW_HIGH)
			rc = sock_read(&s->sock, 0);
		if (rc != 0) {
			stream_end(s, 1, "read from %s: %s", s->sock.name,
			    uv_strerror(rc));
			return;
		}
	}
	if (s->link == NULL || !s->started)
		return;
	q = sock_queued(&s->sock);
	if (!s->link_paused && q > FLOW_HIGH) {
		s->link_paused = 1;
		link_pause(s->link, 1);
	} else if (s->link_paused && q < FLOW_LOW) {
		s->link_paused = 0;
		link_pause(s->link, 0);
	}
}

/* flush: write what is queued for the socket.  0, or -1: closing. */
static int
flush(struct stream *s)
{
	int rc;

	if ((rc = sock_flush(&s->sock)) != 0) {
		stream_end(s, 1, "write to %s: %s", s->sock.name,
		    uv_strerror(rc));
		return -1;
	}
	return s->state == STREAM_CLOSING ? -1 : 0;
}

/* ---------------------------------------------------------------- start */

static void
log_open(struct stream *s)
{
	char desc[520];

	describe(s, desc, sizeof(desc));
	stream_log(s, LOG_LVL_INFO, "open %s", desc);
}

static void
connected_cb(void *arg, int status, const char *why)
{
	struct stream *s = arg;

	s->dial = NULL;
	if (status != 0) {
		stream_end(s, 1, "%s", why);
		return;
	}
	stats_observe(&s->st->dial[TARGET_DATABASE], uv_hrtime() - s->dial_ns);
	sock_connected(&s->sock, s->cfg);
	set_state(s, STREAM_RELAYING);
	uv_timer_stop(&s->timer);
	if (s->cfg->idle_timeout_ms > 0)
		uv_timer_start(&s->timer, timer_cb, s->cfg->idle_timeout_ms, 0);
	log_open(s);
	if (flush(s) == 0)
		flow(s);
}

/* dial_db: server: connect to the database. */
static void
dial_db(struct stream *s)
{
	s->dial_on_data = 0;
	uv_timer_stop(&s->timer);
	set_state(s, STREAM_CONNECTING);
	s->dial_ns = uv_hrtime();
	if ((s->dial = dial_start(&s->sock, &s->cfg->connect,
		 s->cfg->connect_timeout_ms, connected_cb, s)) == NULL)
		stream_end(s, 1, "out of memory for a database connection");
}

/* send_held: client: the app's bytes that waited for the link. */
static int
send_held(struct stream *s)
{
	struct cq_span sp[MAX_SPANS];

	while (s->held.len > 0) {
		int n;

		n = cq_spans(&s->held, 0, sp, MAX_SPANS);
		for (int i = 0; i < n; i++)
			if (link_send(s->link, sp[i].base, sp[i].len) != 0 ||
			    s->state == STREAM_CLOSING)
				return -1;
		for (int i = 0; i < n; i++)
			cq_consume(&s->held, &s->w->pool, sp[i].len);
	}
	return 0;
}

/* u_start: the link carries this stream from now on. */
static void
u_start(void *arg)
{
	struct stream *s = arg;

	s->started = 1;
	if (!s->client) {
		/* PostgreSQL and MongoDB clients speak first, so over a
		 * one-stream link the database is dialled at the first
		 * bytes: prewarmed links cost it nothing.  A "tcp" service
		 * may speak first (MySQL, SMTP): dialled at once, as for
		 * every stream an OPEN asked for. */
		if (s->cfg->proto == CFG_PROTO_TCP || link_keeps(s->link)) {
			dial_db(s);
		} else {
			s->dial_on_data = 1;
			uv_timer_start(&s->timer, timer_cb, FIRST_DATA_MS, 0);
		}
		return;
	}
	set_state(s, STREAM_RELAYING);
	if (s->cfg->idle_timeout_ms > 0)
		uv_timer_start(&s->timer, timer_cb, s->cfg->idle_timeout_ms, 0);
	log_open(s);
	if (send_held(s) != 0)
		return;
	if (s->sock.eof)
		link_send_eof(s->link);
	if (s->state != STREAM_CLOSING)
		flow(s);
}

/* ---------------------------------------------------------------- link's */

static char *
u_room(void *arg, size_t min, size_t *space)
{
	struct stream *s = arg;

	return sock_room(&s->sock, min, space);
}

static void
u_commit(void *arg, size_t n)
{
	struct stream *s = arg;

	sock_commit(&s->sock, n);
	s->link_in += n;
	stats_add(s->client ? &s->st->from_db : &s->st->to_db, n);
	s->last_active = uv_now(&s->w->loop);
}

static void
u_flush(void *arg)
{
	struct stream *s = arg;

	sock_trim(&s->sock); /* a chunk no record went into */
	if (s->state == STREAM_CLOSING)
		return;
	if (s->dial_on_data && sock_queued(&s->sock) > 0) {
		dial_db(s);
		return;
	}
	if (flush(s) == 0)
		flow(s);
}

static void
u_peer_eof(void *arg)
{
	struct stream *s = arg;
	int rc;

	if (s->dial_on_data) {
		stream_end(s, 1, "peer closed before sending anything");
		return;
	}
	if ((rc = sock_shut(&s->sock)) != 0)
		stream_end(s, 1, "write to %s: %s", s->sock.name,
		    uv_strerror(rc));
}

static void
u_done(void *arg)
{
	struct stream *s = arg;

	s->ending = 1;
	if (s->sock.shut_done)
		stream_end(s, 0, "both sides closed%s",
		    s->link != NULL && link_keeps(s->link) ?
			"; TLS connection kept" :
			"");
}

static void
u_writable(void *arg)
{
	flow(arg);
}

/* The other side was cut short: so is this one (a reset, never a FIN). */
static void
u_abort(void *arg, const char *why)
{
	struct stream *s = arg;

	s->reset = 1;
	stream_end(s, 0, "%s", why);
}

static void
u_lost(void *arg, const char *why, int retry, int detach)
{
	struct stream *s = arg;

	if (s->state != STREAM_CLOSING && s->link != NULL) {
		char desc[520];

		/* Its close line is still to come: keep who the peer was,
		 * even of a handshake that failed. */
		link_describe(s->link, desc, sizeof(desc));
		free(s->lost_desc);
		s->lost_desc = strdup(desc);
	}
	s->link = NULL;
	if (s->state == STREAM_CLOSING || detach)
		return; /* it finishes on its own */
	if (retry && s->client && !s->retried) {
		/* Nothing of the app's was forwarded: a new link. */
		stream_log(s, LOG_LVL_DEBUG, "%s; dialling a new connection",
		    why);
		s->retried = 1;
		s->started = 0;
		if ((s->link = pool_get(s->w, s->t, 1)) == NULL) {
			stream_end(s, 0, "out of memory for a connection");
			return;
		}
		link_attach(s->link, &stream_user, s);
		return;
	}
	s->reset = 1; /* the link went mid-stream */
	stream_end(s, 0, "%s", why);
}

static const struct link_user stream_user = { u_start, u_room, u_commit,
	u_flush, u_peer_eof, u_done, u_writable, u_abort, u_lost };

/* ---------------------------------------------------------------- socket */

/* client pg: answer the app's SSLRequest/GSSENCRequest with 'N' here. */
static size_t
filter_app(struct stream *s, const uint8_t *p, size_t n)
{
	size_t used = 0;
	int rc;

	while (s->app_negotiating && used < n) {
		enum pg_first k;

		used += pgwire_sniff(s->sniff, &s->nsniff, p + used, n - used,
		    &k);
		switch (k) {
		case PG_NEED_MORE:
			break;
		case PG_SSLREQUEST:
		case PG_GSSENCREQUEST:
			s->nsniff = 0;
			if ((rc = sock_append(&s->sock, "N", 1)) != 0) {
				stream_end(s, 1, "write to app: %s",
				    uv_strerror(rc));
				return 0;
			}
			break;
		case PG_STARTUP:
		case PG_CANCEL:
			/* From here on bytes pass untouched. */
			s->app_negotiating = 0;
			break;
		case PG_TLS_DIRECT:
			stream_end(s, 1,
			    "app started TLS, but the local hop "
			    "is plaintext: connect with sslmode=disable");
			return 0;
		default:
			stream_end(s, 1, "app sent %s", pgwire_first_name(k));
			return 0;
		}
	}
	return used;
}

/* to_link: bytes for the peer: sent now, or held until the start. */
static void
to_link(struct stream *s, const void *p, size_t n)
{
	if (n == 0)
		return;
	s->plain_in += n;
	stats_add(s->client ? &s->st->to_db : &s->st->from_db, n);
	if (s->started && s->link != NULL)
		link_send(s->link, p, n);
	else if (cq_append(&s->held, &s->w->pool, p, n) != 0)
		stream_end(s, 1, "out of memory");
}

static void
sock_data(void *arg, const char *p, size_t n)
{
	struct stream *s = arg;

	s->last_active = uv_now(&s->w->loop);
	if (s->app_negotiating) {
		size_t used = filter_app(s, (const uint8_t *)p, n);

		if (s->state == STREAM_CLOSING || s->app_negotiating)
			return;
		/* The sniffed packet start, then the rest. */
		to_link(s, s->sniff, s->nsniff);
		s->nsniff = 0;
		if (s->state != STREAM_CLOSING)
			to_link(s, p + used, n - used);
	} else {
		to_link(s, p, n);
	}
	flow(s);
}

static void
sock_eof(void *arg)
{
	struct stream *s = arg;

	if (s->started && s->link != NULL)
		link_send_eof(s->link);
	else if (s->held.len == 0)
		stream_end(s, 1, "app closed before the tunnel was up");
	/* else u_start() sends the held bytes, then the EOF. */
}

static void
sock_failed(void *arg, int err, const char *what)
{
	struct stream *s = arg;

	stream_end(s, 1, "%s %s: %s", what, s->sock.name, uv_strerror(err));
}

static void
sock_written(void *arg)
{
	flow(arg);
}

static void
sock_shut_done(void *arg)
{
	struct stream *s = arg;

	if (s->ending)
		u_done(s);
}

static const struct sock_ops stream_sock_ops = {
	sock_data,
	sock_eof,
	sock_failed,
	sock_written,
	sock_shut_done,
	sock_closed,
};

/* ---------------------------------------------------------------- birth */

static struct stream *
stream_new(struct worker *w, struct tunnel *t, struct gen *g)
{
	struct stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warnx("tunnel=%s: out of memory for a connection",
		    t->cfg->name);
		gen_unref(g);
		return NULL;
	}
	s->w = w;
	s->t = t;
	s->gen = g;
	s->cfg = &s->gen->cfg->tunnels[t->index];
	s->client = s->cfg->mode == CFG_MODE_CLIENT;
	s->id = atomic_fetch_add(&w->agent->next_conn_id, 1) + 1;
	s->st = &w->stats[t->index];
	atomic_fetch_add(&w->agent->streams, 1);
	s->state = s->client ? STREAM_WAITING : STREAM_CONNECTING;
	s->started_at = s->last_active = uv_now(&w->loop);
	snprintf(s->peer, sizeof(s->peer), "-");
	sock_setup(&s->sock, w, &stream_sock_ops, s, s->client ? "app" : "db");
	uv_timer_init(&w->loop, &s->timer);
	s->timer.data = s;
	if ((s->next = w->streams) != NULL)
		s->next->prev = s;
	w->streams = s;
	return s;
}

/* count_open: an app connection taken on (a refused one is not). */
static void
count_open(struct stream *s)
{
	s->in_stats = 1;
	stats_add(&s->st->conns_total, 1);
	stats_add(&s->st->conns_open, 1);
}

void
stream_accept(struct listener *l)
{
	struct stream *s;
	int rc;

	if ((s = stream_new(l->w, l->t, gen_current())) == NULL)
		return;
	if ((rc = sock_accept(&s->sock, &l->h.stream)) != 0) {
		stream_end(s, 0, "accept: %s", uv_strerror(rc));
		return;
	}
	sock_peer(&s->sock, s->peer, sizeof(s->peer));
	sock_connected(&s->sock, s->cfg);
	if (atomic_fetch_add(&s->t->active, 1) >= s->cfg->max_connections) {
		atomic_fetch_sub(&s->t->active, 1);
		stats_add(&s->st->refused[REFUSED_MAX_CONNECTIONS], 1);
		stream_end(s, 0, "max_connections (%u) reached",
		    s->cfg->max_connections);
		return;
	}
	s->counted = 1;
	count_open(s);
	s->app_negotiating = s->cfg->proto == CFG_PROTO_POSTGRESQL;
	stream_log(s, LOG_LVL_DEBUG, "accepted");
	if ((s->link = pool_get(s->w, s->t, 0)) == NULL) {
		stream_end(s, 0, "out of memory for a connection");
		return;
	}
	link_attach(s->link, &stream_user, s);
	flow(s);
	pool_fill(s->w);
}

void
stream_serve(struct link *link)
{
	struct stream *s;

	/* The link's generation: the config its peer was checked with. */
	if ((s = stream_new(link_worker(link), link_tunnel(link),
		 gen_ref(link_gen(link)))) == NULL)
		return;
	snprintf(s->peer, sizeof(s->peer), "%s", link_peer(link));
	count_open(s);
	s->link = link;
	link_attach(link, &stream_user, s);
}
