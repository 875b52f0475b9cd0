/* SPDX-License-Identifier: MIT */
/*
 * conn.c: the per-connection state machine and relay.
 *
 * Every connection has two sides: "plain" (the app in client mode, the
 * database in server mode) and "tls" (the other agent, or a native TLS
 * client).  The accepted side is plain in client mode and tls in server
 * mode; the other side is dialled.
 *
 *   client:  DIALING -> [NEGOTIATING: SSLRequest, wait 'S'] -> HANDSHAKE
 *            -> RELAYING
 *   server:  [NEGOTIATING: read SSLRequest, answer 'S'] -> HANDSHAKE
 *            -> DIALING (database, once the first bytes arrive) -> RELAYING
 *   pooled:  client with prewarm: DIALING -> ... -> POOLED (handshaken,
 *            no app yet) -> RELAYING when an app connects
 *   any:     -> CLOSING (waiting for close callbacks) -> freed
 *
 * NEGOTIATING exists only for protocol "postgresql".  In client mode the
 * app's own SSLRequest/GSSENCRequest is answered 'N' locally while the
 * upstream is being set up, and app bytes wait in "held" until TLS is up.
 *
 * Relay: bytes read from one side are transformed (encrypted or
 * decrypted) straight into the other side's output queue.  A side stops
 * reading while the queue it feeds is above FLOW_HIGH and resumes below
 * FLOW_LOW, so memory per connection is bounded.  Reads land in the
 * worker's shared buffer and queues are empty when idle, so an idle
 * connection holds no data buffers.  EOF on one side becomes close_notify
 * and/or a TCP shutdown on the other once its queue drains; the
 * connection ends when both directions have ended, or at the first error.
 *
 * Streams: two agents that agreed on ALPN "dbtls/1" carry one app
 * connection after another over one TLS connection, so that only the
 * first costs a handshake.  Control records frame them: the client sends
 * OPEN when an app attaches and holds the app's bytes until the server
 * answers OK (it then dials the database) or REFUSE (a reload made the
 * connection stale; the TLS connection closing instead means the same):
 * the client then dials a new TLS connection for that app, no byte of
 * which was forwarded.  Each side sends FIN where it would otherwise end
 * TLS (its side reached EOF), and once both FINs have crossed and the
 * local socket is shut, that
 * socket is closed and the TLS connection waits for the next app: in the
 * client's pool (POOLED), or on the server for the next OPEN.  A side
 * whose socket fails (an app's reset, a database that refuses) sends
 * ABORT, closes that socket and drops what still comes for the stream
 * until the other's ABORT answers; then the connection is reused too.
 * The server ends a connection's last stream with FIN_LAST after a reload
 * or once the connection is REUSE_MAX_AGE_MS old, so new material and
 * allow lists reach new apps.  Anything else unclean closes the TLS
 * connection as before.
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
#include "common/cq.h"
#include "common/log.h"
#include "common/tlsctx.h"
#include "common/tlsio.h"
#include "agent/gen.h"
#include "agent/pgwire.h"
#include "agent/worker.h"
#include "agent/conn.h"

#define FLOW_HIGH	(256 * 1024)
#define FLOW_LOW	(64 * 1024)
#define MAX_SPANS	16

enum conn_state {
	CONN_DIALING,		/* connecting to the other agent or the db */
	CONN_NEGOTIATING,	/* PostgreSQL SSLRequest exchange */
	CONN_HANDSHAKE,		/* TLS handshake */
	CONN_POOLED,		/* client: handshaken, waiting for an app */
	CONN_OPENING,		/* client: OPEN sent, waiting for OK */
	CONN_RELAYING,		/* both sides up, bytes flow */
	CONN_CLOSING,		/* waiting for close callbacks */
};

static const char *const state_names[] = {
	"dialing", "negotiating", "handshake", "pooled", "opening", "relaying",
	"closing",
};

#define POOL_MAX_AGE_MS		30000	/* a prewarmed connection's life */
#define POOL_MAX		64	/* kept per worker and tunnel */
#define FIRST_DATA_MS		120000	/* server: wait for the first bytes */

/* Control records; FIN_LAST: FIN, and no further stream on this connection. */
enum {
	CTL_OPEN = 1, CTL_FIN = 2, CTL_ABORT = 3, CTL_FIN_LAST = 4,
	CTL_OK = 5,		/* the server takes the stream OPEN asked for */
	CTL_REFUSE = 6,		/* ... or not: it has read nothing of it */
};
#define REUSE_MAX_AGE_MS	600000	/* a TLS connection's life for streams */

struct side {
	union {
		uv_handle_t	handle;
		uv_stream_t	stream;
		uv_tcp_t	tcp;
		uv_pipe_t	pipe;
	} h;
	struct conn	*c;
	const char	*name;		/* "app", "peer", "server" or "db" */
	unsigned	 open:1;	/* handle initialised: must be closed */
	unsigned	 connected:1;
	unsigned	 reading:1;
	unsigned	 eof:1;		/* nothing more will be read */
	unsigned	 want_shut:1;	/* shut writes once out drains */
	unsigned	 shut_sent:1;
	unsigned	 shut_done:1;
	struct cq	 out;		/* bytes to write to this side */
	size_t		 inflight;	/* head bytes of out in uv_write */
	uv_write_t	 wreq;
	uv_shutdown_t	 sreq;
};

struct conn {
	struct worker	*w;
	struct tunnel	*t;
	struct gen	*gen;		/* config and TLS material, held */
	const struct cfg_tunnel *cfg;	/* this tunnel in gen */
	uint64_t	 id;
	enum conn_state	 state;
	struct side	 plain;
	struct side	 tls;
	struct tlsio	*tio;
	uv_timer_t	 timer;
	uv_connect_t	 creq;
	uv_getaddrinfo_t gai;
	int		 refs;		/* open handles + pending requests */
	int		 gai_pending;
	struct side	*dialing;	/* the side a name lookup is for */
	struct addrinfo	*addrs;		/* its results, owned */
	struct addrinfo	*next_addr;	/* to try if this one fails */
	int		 counted;	/* holds a max_connections slot */
	int		 handshaken;
	int		 direct_tls;	/* server: ClientHello without 'S' */
	int		 app_negotiating; /* client pg: filtering the app */
	int		 pooled;	/* made for the prewarm pool */
	int		 attached;	/* an app is on the plain side */
	int		 dial_on_data;	/* server: dial the db at first bytes */
	int		 streams;	/* one app connection after another */
	int		 fin_sent;	/* streams: this stream's FINs */
	int		 fin_rcvd;
	int		 open_pending;	/* server: OPEN came while closing */
	int		 abort_sent;	/* streams: this stream's ABORTs */
	int		 abort_rcvd;
	int		 plain_gone;	/* the stream's socket is closed */
	int		 last;		/* FIN_LAST sent or received */
	int		 retried;	/* client: redialled once for this app */
	const char	*retiring;	/* why it ends after its last stream */
	uint64_t	 handshaken_at;
	unsigned	 uses;		/* streams carried so far */
	struct conn	*pool_next;	/* in the pool's ready list */
	uint8_t		 sniff[8];	/* first bytes of a pg exchange */
	size_t		 nsniff;
	struct cq	 held;		/* client: app bytes before TLS is up */
	uint64_t	 plain_in;	/* bytes from the plain side, forwarded */
	uint64_t	 tls_in;	/* plaintext decrypted from the tls side */
	uint64_t	 started;
	uint64_t	 last_active;
	char		 peer[64];
	char		 ident[160];
	char		 serial[72];	/* the peer certificate's, hex */
	struct conn	*prev, *next;	/* the worker's list */
};

static void	conn_close(struct conn *c, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
static int	to_bufs(const struct cq *q, uv_buf_t *bufs, size_t *total);
static void	side_flush(struct side *s);
static void	tls_progress(struct conn *c);
static void	start_relaying(struct conn *c);
static void	stream_check_done(struct conn *c);
static void	stream_retry(struct conn *c, const char *why);
static void	stream_open(struct conn *c);
static void	side_failed(struct conn *c, struct side *s, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
static int	on_control(struct conn *c, uint8_t code);
static void	conn_retire(struct conn *c, const char *why);

static int
is_client(const struct conn *c)
{
	return c->cfg->mode == CFG_MODE_CLIENT;
}

static int
is_pg(const struct conn *c)
{
	return c->cfg->proto == CFG_PROTO_POSTGRESQL;
}

static void
conn_log(struct conn *c, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conn_log(struct conn *c, enum log_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(lvl, "tunnel=%s conn=%llu peer=%s %s", c->cfg->name,
	    (unsigned long long)c->id, c->peer, msg);
}

static void
set_state(struct conn *c, enum conn_state s)
{
	conn_log(c, LOG_LVL_DEBUG, "state %s -> %s", state_names[c->state],
	    state_names[s]);
	c->state = s;
}

/* ---------------------------------------------------------------- close */

static void
conn_free(struct conn *c)
{
	struct cq_pool *p = &c->w->pool;

	cq_clear(&c->plain.out, p);
	cq_clear(&c->tls.out, p);
	cq_clear(&c->held, p);
	tlsio_free(c->tio);
	uv_freeaddrinfo(c->addrs);
	gen_unref(c->gen);
	free(c);
}

static void
conn_unref(struct conn *c)
{
	if (--c->refs == 0)
		conn_free(c);
}

static void
handle_closed_cb(uv_handle_t *h)
{
	/* The timer's data is the connection; a side's is the side. */
	conn_unref(h->type == UV_TIMER ? h->data :
	    ((struct side *)h->data)->c);
}

/*
 * tls_desc: "tls=TLSv1.3/TLS_AES_128_GCM_SHA256 resumed=no records=dbtls
 * use=1" (use: which app connection this is on the TLS connection).
 */
static void
tls_desc(struct conn *c, char *buf, size_t len)
{
	char desc[128];

	if (!c->handshaken) {
		snprintf(buf, len, "tls=none");
		return;
	}
	tlsio_describe(c->tio, desc, sizeof(desc));
	snprintf(buf, len, "tls=%s use=%u", desc, c->uses + 1);
}

static struct pool *
pool_of(struct conn *c)
{
	return &c->w->pools[c->t->index];
}

/* pool_forget: an unused pooled connection is going away. */
static void
pool_forget(struct conn *c)
{
	struct pool *p = pool_of(c);
	struct conn **pp;

	if (c->state != CONN_POOLED) {
		p->npending--;
		return;
	}
	/* Not listed any more when pool_take has just unlisted it. */
	for (pp = &p->ready; *pp != NULL; pp = &(*pp)->pool_next) {
		if (*pp == c) {
			*pp = c->pool_next;
			p->nready--;
			return;
		}
	}
}

/* log_close: the one close line of an app connection (or stream). */
static void
log_close(struct conn *c, enum log_level lvl, const char *reason)
{
	uint64_t up = is_client(c) ? c->plain_in : c->tls_in;
	uint64_t down = is_client(c) ? c->tls_in : c->plain_in;
	char tls[192];

	tls_desc(c, tls, sizeof(tls));
	conn_log(c, lvl, "close identity=%s serial=%s %s to_db=%llu "
	    "from_db=%llu duration=%.3fs state=%s reason=\"%s\"",
	    c->ident[0] ? c->ident : "-", c->serial[0] ? c->serial : "-", tls,
	    (unsigned long long)up, (unsigned long long)down,
	    (double)(uv_now(&c->w->loop) - c->started) / 1000.0,
	    state_names[c->state], reason);
}

/*
 * conn_close: log the one close line, then close every handle.  The
 * connection is freed by the last close callback; callers return at once.
 */
static void
conn_close(struct conn *c, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	if (c->state == CONN_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (c->pooled && !c->attached)
		pool_forget(c);
	/* A connection no app used is not worth an info line. */
	log_close(c, (c->pooled && !c->attached) || c->state == CONN_POOLED ?
	    LOG_LVL_DEBUG : LOG_LVL_INFO, reason);
	c->state = CONN_CLOSING;

	/* A close_notify tells the peer the stream ended on purpose. */
	if (c->handshaken && c->tls.connected && !c->tls.shut_sent &&
	    c->tls.inflight == 0) {
		uv_buf_t bufs[MAX_SPANS];
		size_t total;
		int n;

		tlsio_shutdown(c->tio);
		n = to_bufs(&c->tls.out, bufs, &total);
		if (n > 0)
			(void)uv_try_write(&c->tls.h.stream, bufs, (unsigned)n);
	}

	if (c->counted)
		atomic_fetch_sub(&c->t->active, 1);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;

	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, handle_closed_cb);
	if (c->plain.open)
		uv_close(&c->plain.h.handle, handle_closed_cb);
	if (c->tls.open)
		uv_close(&c->tls.h.handle, handle_closed_cb);
	/* A pending name lookup still calls back; it holds a reference. */
	if (c->gai_pending)
		uv_cancel((uv_req_t *)&c->gai);
}

void
conn_close_all(struct worker *w, const char *reason)
{
	while (w->conns != NULL)
		conn_close(w->conns, "%s", reason);
}

void
conn_drop_stale(struct worker *w)
{
	struct conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_POOLED && gen_stale(c->gen))
			conn_retire(c, "idle since before a reload");
	}
}

static void
timer_cb(uv_timer_t *timer)
{
	struct conn *c = timer->data;
	uint64_t now = uv_now(&c->w->loop), idle;

	switch (c->state) {
	case CONN_DIALING:
		if (c->dial_on_data)
			conn_close(c, "peer sent nothing after the handshake");
		else
			conn_close(c, "connect to %s timed out",
			    is_client(c) ? "server" : "database");
		return;
	case CONN_POOLED:
		if (c->retiring)
			conn_close(c, "%s; the peer did not close", c->retiring);
		else if (is_client(c))
			conn_close(c, "kept connection unused for %u s",
			    POOL_MAX_AGE_MS / 1000);
		else
			conn_close(c, "no new stream for %u s",
			    FIRST_DATA_MS / 1000);
		return;
	case CONN_NEGOTIATING:
	case CONN_HANDSHAKE:
		conn_close(c, "TLS handshake timed out");
		return;
	case CONN_OPENING:
		conn_close(c, "the server did not answer OPEN");
		return;
	case CONN_RELAYING:
		idle = now - c->last_active;
		if (idle >= c->cfg->idle_timeout_ms) {
			conn_close(c, "idle for %.1fs", (double)idle / 1000);
			return;
		}
		uv_timer_start(&c->timer, timer_cb,
		    c->cfg->idle_timeout_ms - idle, 0);
		return;
	case CONN_CLOSING:
		return;
	}
}

static void
timer_set(struct conn *c, unsigned ms)
{
	uv_timer_stop(&c->timer);
	if (ms > 0)
		uv_timer_start(&c->timer, timer_cb, ms, 0);
}

/* ------------------------------------------------------------ flow */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* queued_for(c, s): bytes waiting that reading s has produced. */
static size_t
queued_for(struct conn *c, struct side *s)
{
	if (s == &c->plain)
		return c->tls.out.len + c->held.len;
	return c->plain.out.len;
}

/*
 * flow: start or stop reading each side from how full the queue it feeds
 * is, with hysteresis.  Called after every read and every write.
 */
static void
flow(struct conn *c)
{
	struct side *sides[2] = { &c->plain, &c->tls };
	int rc;

	for (int i = 0; i < 2; i++) {
		struct side *s = sides[i];
		size_t q = queued_for(c, s);

		if (c->state == CONN_CLOSING)
			return;
		if (!s->connected || s->eof)
			continue;
		if (!s->reading && q < FLOW_LOW) {
			if ((rc = uv_read_start(&s->h.stream, alloc_cb,
			    read_cb)) != 0) {
				side_failed(c, s, "read from %s: %s", s->name,
				    uv_strerror(rc));
				return;
			}
			s->reading = 1;
		} else if (s->reading && q > FLOW_HIGH) {
			uv_read_stop(&s->h.stream);
			s->reading = 0;
		}
	}
}

static void
shutdown_cb(uv_shutdown_t *req, int status)
{
	struct side *s = req->data;
	struct conn *c = s->c;

	if (status == UV_ECANCELED || c->state == CONN_CLOSING)
		return;
	s->shut_done = 1;
	if (c->retiring) {
		if (c->tls.eof)
			conn_close(c, "%s", c->retiring);
		return;
	}
	if (c->plain.shut_done && c->tls.shut_done)
		conn_close(c, "both sides closed");
	else if (s == &c->plain)
		stream_check_done(c);
}

static void
write_cb(uv_write_t *req, int status)
{
	struct side *s = req->data;
	struct conn *c = s->c;

	if (status == UV_ECANCELED || c->state == CONN_CLOSING)
		return;
	if (status < 0) {
		side_failed(c, s, "write to %s: %s", s->name,
		    uv_strerror(status));
		return;
	}
	cq_consume(&s->out, &c->w->pool, s->inflight);
	s->inflight = 0;
	side_flush(s);
	if (c->state != CONN_CLOSING)
		flow(c);
}

static int
to_bufs(const struct cq *q, uv_buf_t *bufs, size_t *total)
{
	struct cq_span sp[MAX_SPANS];
	int n = cq_spans(q, 0, sp, MAX_SPANS);

	*total = 0;
	for (int i = 0; i < n; i++) {
		bufs[i] = uv_buf_init(sp[i].base, (unsigned)sp[i].len);
		*total += sp[i].len;
	}
	return n;
}

/*
 * side_flush: write what s->out holds, synchronously if the socket takes
 * it, else with one uv_write in flight; then the pending shutdown.
 */
static void
side_flush(struct side *s)
{
	struct conn *c = s->c;
	uv_buf_t bufs[MAX_SPANS];
	size_t total;
	int n, rc;

	if (!s->connected || s->inflight > 0 || c->state == CONN_CLOSING)
		return;
	while (s->out.len > 0) {
		n = to_bufs(&s->out, bufs, &total);
		rc = uv_try_write(&s->h.stream, bufs, (unsigned)n);
		if (rc == UV_EAGAIN || rc == UV_ENOSYS)
			break;
		if (rc < 0) {
			side_failed(c, s, "write to %s: %s", s->name,
			    uv_strerror(rc));
			return;
		}
		cq_consume(&s->out, &c->w->pool, (size_t)rc);
		if ((size_t)rc < total)
			break;	/* the socket buffer is full */
	}
	if (s->out.len > 0) {
		n = to_bufs(&s->out, bufs, &total);
		s->wreq.data = s;
		if ((rc = uv_write(&s->wreq, &s->h.stream, bufs, (unsigned)n,
		    write_cb)) != 0) {
			side_failed(c, s, "write to %s: %s", s->name,
			    uv_strerror(rc));
			return;
		}
		s->inflight = total;
		return;
	}
	if (s->want_shut && !s->shut_sent) {
		s->shut_sent = 1;
		s->sreq.data = s;
		if ((rc = uv_shutdown(&s->sreq, &s->h.stream, shutdown_cb)) != 0)
			shutdown_cb(&s->sreq, rc == UV_ENOTCONN ? 0 : rc);
	}
}

/* queue_bytes: append plaintext control bytes (pg answers) for s. */
static int
queue_bytes(struct conn *c, struct side *s, const void *p, size_t n)
{
	if (cq_append(&s->out, &c->w->pool, p, n) != 0) {
		conn_close(c, "out of memory");
		return -1;
	}
	side_flush(s);
	return c->state == CONN_CLOSING ? -1 : 0;
}

/* Ciphertext goes straight into the tls side's queue. */
static char *
tls_room_cb(void *arg, size_t min, size_t *space)
{
	struct conn *c = arg;

	return cq_room(&c->tls.out, &c->w->pool, min, space);
}

static void
tls_commit_cb(void *arg, size_t n)
{
	struct conn *c = arg;

	cq_commit(&c->tls.out, n);
}

/* flush_cipher: send what OpenSSL produced. */
static int
flush_cipher(struct conn *c)
{
	side_flush(&c->tls);
	return c->state == CONN_CLOSING ? -1 : 0;
}

/* ------------------------------------------------------------ eof */

/* end_tls_output: no more plaintext will come: close_notify, then FIN. */
static void
end_tls_output(struct conn *c)
{
	if (c->streams && !c->tls.eof) {	/* the stream ends, not TLS */
		if (!is_client(c) && (uv_now(&c->w->loop) - c->handshaken_at >
		    REUSE_MAX_AGE_MS || gen_stale(c->gen)))
			c->last = 1;
		if (tlsio_control(c->tio, c->last ? CTL_FIN_LAST : CTL_FIN) !=
		    0) {
			conn_close(c, "TLS error: %s", tlsio_error(c->tio));
			return;
		}
		c->fin_sent = 1;
		if (flush_cipher(c) == 0)
			stream_check_done(c);
		return;
	}
	tlsio_shutdown(c->tio);
	c->tls.want_shut = 1;
	flush_cipher(c);
}

static void
side_eof(struct conn *c, struct side *s)
{
	s->eof = 1;
	if (s->reading) {
		uv_read_stop(&s->h.stream);
		s->reading = 0;
	}
	if (s == &c->plain) {
		if (c->state == CONN_RELAYING) {
			end_tls_output(c);
		} else if (c->held.len == 0) {
			conn_close(c, "app closed before the tunnel was up");
		}
		/* else start_relaying() sends held bytes, then ends. */
		return;
	}
	if (c->retiring) {
		if (c->tls.shut_done)
			conn_close(c, "%s", c->retiring);
		return;
	}
	if (c->state == CONN_OPENING) {
		stream_retry(c, "the server closed the kept connection");
		return;
	}
	if (c->streams && !c->plain.open) {	/* between streams */
		conn_close(c, "%s closed the connection", s->name);
		return;
	}
	if (c->state == CONN_NEGOTIATING || c->state == CONN_HANDSHAKE ||
	    c->state == CONN_POOLED || c->dial_on_data) {
		conn_close(c, "%s closed the connection %s", s->name,
		    c->state == CONN_POOLED ? "while it was prewarmed" :
		    c->dial_on_data ? "before sending anything" :
		    "during TLS setup");
		return;
	}
	c->plain.want_shut = 1;
	side_flush(&c->plain);
}

/* ------------------------------------------------------------ tls side */

/* decrypt: everything OpenSSL can give goes to the plain side's queue. */
static int dial(struct conn *c, struct side *s, const struct addr *a);

static void
decrypt(struct conn *c)
{
	struct cq_pool *p = &c->w->pool;
	enum tlsio_rc rc;

	for (;;) {
		size_t space, got;
		/* Room for a whole record: opened in place, not copied. */
		char *room = cq_room(&c->plain.out, p, TLSIO_ROOM_MAX, &space);

		if (room == NULL) {
			conn_close(c, "out of memory");
			return;
		}
		rc = tlsio_read(c->tio, room, space, &got);
		if (rc == TLSIO_CONTROL) {
			if (on_control(c, (uint8_t)room[0]) != 0)
				return;
			continue;
		}
		if (c->abort_sent)	/* for a stream already dropped */
			got = 0;
		cq_commit(&c->plain.out, got);
		c->tls_in += got;
		if (rc != TLSIO_OK)
			break;
	}
	cq_consume(&c->plain.out, p, 0);	/* drop an unused chunk */
	if (c->streams && c->state == CONN_POOLED && c->plain.out.len > 0) {
		conn_close(c, "%s sent data outside a stream", c->tls.name);
		return;
	}
	if (rc == TLSIO_FAILED) {
		if (c->state == CONN_OPENING)
			stream_retry(c, tlsio_error(c->tio));
		else
			conn_close(c, "TLS error from %s: %s", c->tls.name,
			    tlsio_error(c->tio));
		return;
	}
	if (flush_cipher(c) != 0)
		return;
	if (c->dial_on_data && c->plain.out.len > 0) {
		c->dial_on_data = 0;
		timer_set(c, c->cfg->connect_timeout_ms);
		if (dial(c, &c->plain, &c->cfg->connect) != 0)
			return;
	}
	side_flush(&c->plain);
	if (rc == TLSIO_CLOSED && c->state != CONN_CLOSING)
		side_eof(c, &c->tls);
}

static int
verify_peer(struct conn *c)
{
	SSL *ssl = tlsio_ssl(c->tio);
	X509 *cert = SSL_get0_peer_certificate(ssl);
	char why[512];

	allow_identity(cert, c->ident, sizeof(c->ident));
	allow_serial(cert, c->serial, sizeof(c->serial));
	if (cert == NULL) {	/* verification demands one; be sure */
		conn_close(c, "%s presented no certificate", c->tls.name);
		return -1;
	}
	if (c->cfg->has_allow && !allow_match(&c->cfg->allow, cert, why,
	    sizeof(why))) {
		conn_close(c, "%s certificate is not allowed: it carries %s",
		    c->tls.name, why);
		return -1;
	}
	if (c->direct_tls) {
		const unsigned char *alpn;
		unsigned len;

		SSL_get0_alpn_selected(ssl, &alpn, &len);
		if (len == 0) {
			conn_close(c, "direct TLS without ALPN \"postgresql\" "
			    "refused");
			return -1;
		}
	}
	return 0;
}

/* pool_ready: a prewarmed connection is handshaken; park it. */
static void
pool_ready(struct conn *c)
{
	struct pool *p = pool_of(c);

	set_state(c, CONN_POOLED);
	timer_set(c, POOL_MAX_AGE_MS);
	p->npending--;
	p->nready++;
	c->pool_next = p->ready;
	p->ready = c;
}

/* ------------------------------------------------------------ streams */

/* side_close: stop using side s and close its socket; cb runs after. */
static void
side_close(struct side *s, uv_close_cb cb)
{
	s->connected = 0;
	if (s->reading)
		uv_read_stop(&s->h.stream);
	s->reading = 0;
	s->open = 0;
	uv_close(&s->h.handle, cb);
}

/*
 * conn_retire: end a connection between streams without losing what is
 * queued (the last stream's tail, its FIN): close_notify and FIN go out
 * behind it, and the connection closes once the peer's end has come too,
 * or at the handshake timeout.
 */
static void
conn_retire(struct conn *c, const char *why)
{
	if (c->retiring || c->state == CONN_CLOSING)
		return;
	if (c->state == CONN_POOLED && c->pooled && !c->attached)
		pool_forget(c);		/* out of the ready list */
	c->pooled = 0;
	c->retiring = why;
	conn_log(c, LOG_LVL_DEBUG, "retiring after %u stream(s): %s", c->uses,
	    why);
	set_state(c, CONN_POOLED);	/* no app: its close line is debug */
	timer_set(c, c->cfg->handshake_timeout_ms);
	tlsio_shutdown(c->tio);
	c->tls.want_shut = 1;
	flush_cipher(c);
}

/* stream_open: client: ask the server for a stream for the app. */
static void
stream_open(struct conn *c)
{
	if (tlsio_control(c->tio, CTL_OPEN) != 0) {
		conn_close(c, "TLS error: %s", tlsio_error(c->tio));
		return;
	}
	set_state(c, CONN_OPENING);
	timer_set(c, c->cfg->handshake_timeout_ms);
	flush_cipher(c);
}

/* retry_closed_cb: the refused TLS connection is gone: dial a new one. */
static void
retry_closed_cb(uv_handle_t *h)
{
	struct conn *c = ((struct side *)h->data)->c;

	if (c->state == CONN_CLOSING) {
		conn_unref(c);
		return;
	}
	c->refs--;	/* the app's side and the timer hold c */
	cq_clear(&c->tls.out, &c->w->pool);
	memset(&c->tls, 0, sizeof(c->tls));
	c->tls.c = c;
	c->tls.name = "server";
	tlsio_free(c->tio);
	c->tio = NULL;
	c->handshaken = c->streams = c->uses = c->last = 0;
	gen_unref(c->gen);
	c->gen = gen_current();
	c->cfg = &c->gen->cfg->tunnels[c->t->index];
	set_state(c, CONN_DIALING);
	timer_set(c, c->cfg->connect_timeout_ms);
	if (dial(c, &c->tls, &c->cfg->connect) == 0)
		flow(c);
}

/*
 * stream_retry: client: the kept connection cannot take this app (the
 * server refused or closed it before answering OPEN, so it forwarded
 * nothing): give the app a new TLS connection, once.
 */
static void
stream_retry(struct conn *c, const char *why)
{
	if (c->retried) {
		conn_close(c, "%s", why);
		return;
	}
	conn_log(c, LOG_LVL_DEBUG, "%s; dialling a new connection", why);
	c->retried = 1;
	c->pooled = 0;		/* an ordinary connection from now on */
	side_close(&c->tls, retry_closed_cb);
}

/* stream_start: server: an app connection begins: dial the database. */
static int
stream_start(struct conn *c)
{
	if (gen_stale(c->gen)) {
		/* Made before a reload: the client dials anew instead. */
		if (tlsio_control(c->tio, CTL_REFUSE) == 0)
			flush_cipher(c);
		conn_close(c, "no new stream on a connection from before a "
		    "reload");
		return -1;
	}
	if (tlsio_control(c->tio, CTL_OK) != 0) {
		conn_close(c, "TLS error: %s", tlsio_error(c->tio));
		return -1;
	}
	if (flush_cipher(c) != 0)
		return -1;
	set_state(c, CONN_DIALING);
	c->started = c->last_active = uv_now(&c->w->loop);
	timer_set(c, c->cfg->connect_timeout_ms);
	return dial(c, &c->plain, &c->cfg->connect);
}

/* pool_keep: client: park a connection whose stream ended for the next app. */
static void
pool_keep(struct conn *c)
{
	struct pool *p = pool_of(c);

	if (c->w->stopping || p->nready >= POOL_MAX) {
		conn_retire(c, "enough connections kept");
		return;
	}
	c->pooled = 1;
	c->attached = 0;
	set_state(c, CONN_POOLED);
	timer_set(c, POOL_MAX_AGE_MS);
	p->nready++;
	c->pool_next = p->ready;
	p->ready = c;
}

/* stream_finish: the stream is over both ways: ready for the next one. */
static void
stream_finish(struct conn *c)
{
	/* The peer waits for OK before a new stream's bytes: these came for
	 * the finished one after its FIN. */
	if (c->plain.out.len > 0) {
		conn_close(c, "%s sent data outside a stream", c->tls.name);
		return;
	}
	cq_clear(&c->plain.out, &c->w->pool);	/* an empty chunk, if any */
	memset(&c->plain, 0, sizeof(c->plain));
	c->plain.c = c;
	c->plain.name = is_client(c) ? "app" : "db";
	c->plain_in = c->tls_in = 0;
	c->nsniff = 0;
	c->fin_sent = c->fin_rcvd = 0;
	c->abort_sent = c->abort_rcvd = c->plain_gone = 0;
	c->retried = 0;
	c->uses++;
	if (c->last) {
		conn_retire(c, "retired: reloaded or old");
	} else if (is_client(c)) {
		pool_keep(c);
	} else if (c->open_pending) {
		c->open_pending = 0;
		if (stream_start(c) == 0)
			flow(c);
	} else {
		set_state(c, CONN_POOLED);
		timer_set(c, FIRST_DATA_MS);
	}
}

/* stream_closed_cb: the stream's socket is gone. */
static void
stream_closed_cb(uv_handle_t *h)
{
	struct conn *c = ((struct side *)h->data)->c;

	if (c->state == CONN_CLOSING) {
		conn_unref(c);
		return;
	}
	c->refs--;	/* the tls side and the timer hold c */
	c->plain_gone = 1;
	if (!c->abort_sent || c->abort_rcvd)
		stream_finish(c);
}

/* stream_close: close the stream's socket and free its slot. */
static void
stream_close(struct conn *c)
{
	if (c->counted && is_client(c)) {	/* the slot was the app's */
		atomic_fetch_sub(&c->t->active, 1);
		c->counted = 0;
	}
	side_close(&c->plain, stream_closed_cb);
}

/*
 * side_failed: a socket failed.  The stream's own socket only ends the
 * stream (ABORT) when streams are on; anything else ends the connection.
 */
static void
side_failed(struct conn *c, struct side *s, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (s == &c->tls && c->state == CONN_OPENING) {
		stream_retry(c, reason);
		return;
	}
	/* Once both FINs have crossed, the client may already use the
	 * connection for its next app: too late for an ABORT. */
	if (!c->streams || s != &c->plain || !c->plain.open || c->tls.eof ||
	    c->abort_sent || (c->fin_sent && c->fin_rcvd) ||
	    (c->state != CONN_RELAYING && c->state != CONN_DIALING)) {
		conn_close(c, "%s", reason);
		return;
	}
	log_close(c, LOG_LVL_INFO, reason);
	if (tlsio_control(c->tio, CTL_ABORT) != 0) {
		conn_close(c, "TLS error: %s", tlsio_error(c->tio));
		return;
	}
	c->abort_sent = 1;
	cq_clear(&c->plain.out, &c->w->pool);	/* for a dead socket */
	if (flush_cipher(c) == 0)
		stream_close(c);
}

/*
 * stream_check_done: both FINs have crossed and the local socket is
 * shut: log the app connection's close line and close its socket; the
 * TLS connection stays.
 */
static void
stream_check_done(struct conn *c)
{
	if (!c->streams || !c->fin_sent || !c->fin_rcvd || !c->plain.open ||
	    !c->plain.shut_done || c->tls.eof || c->state == CONN_CLOSING)
		return;
	log_close(c, LOG_LVL_INFO, "both sides closed; TLS connection kept");
	stream_close(c);
}

/* on_control: a control record from the other agent.  0, or -1: closed. */
static int
on_control(struct conn *c, uint8_t code)
{
	if (c->streams && code == CTL_ABORT && !c->abort_rcvd &&
	    (c->state == CONN_RELAYING || c->state == CONN_DIALING)) {
		c->abort_rcvd = 1;
		if (!c->abort_sent)
			side_failed(c, &c->plain, "%s aborted the stream",
			    c->tls.name);
		else if (c->plain_gone)
			stream_finish(c);
		return c->state == CONN_CLOSING ? -1 : 0;
	}
	if (c->state == CONN_OPENING && code == CTL_OK) {
		start_relaying(c);
		return c->state == CONN_CLOSING ? -1 : 0;
	}
	if (c->state == CONN_OPENING && code == CTL_REFUSE) {
		stream_retry(c, "the server refused a new stream");
		return -1;	/* this TLS connection is going */
	}
	if (is_client(c) && code == CTL_FIN_LAST) {
		c->last = 1;
		code = CTL_FIN;
	}
	if (c->abort_sent && code == CTL_FIN)
		return 0;	/* the stream is being dropped */
	if (c->streams && code == CTL_OPEN && !is_client(c)) {
		if (c->state == CONN_POOLED)
			return stream_start(c);
		if (c->fin_sent && c->fin_rcvd && !c->open_pending) {
			c->open_pending = 1;	/* the last one is closing */
			return 0;
		}
	} else if (c->streams && code == CTL_FIN && !c->fin_rcvd &&
	    (c->state == CONN_RELAYING || c->state == CONN_DIALING)) {
		c->fin_rcvd = 1;
		c->plain.want_shut = 1;
		side_flush(&c->plain);
		if (c->state == CONN_CLOSING)
			return -1;
		stream_check_done(c);
		return 0;
	}
	conn_close(c, "%s sent an unexpected control record (%u)",
	    c->tls.name, code);
	return -1;
}

static void
handshake_done(struct conn *c)
{
	const unsigned char *alpn;
	unsigned len;

	c->handshaken = 1;
	c->handshaken_at = uv_now(&c->w->loop);
	if (verify_peer(c) != 0)
		return;
	SSL_get0_alpn_selected(tlsio_ssl(c->tio), &alpn, &len);
	c->streams = len == sizeof(TLSCTX_ALPN_DBTLS) - 1 &&
	    memcmp(alpn, TLSCTX_ALPN_DBTLS, len) == 0;
	if (c->streams && !is_client(c)) {	/* the client says when */
		set_state(c, CONN_POOLED);
		timer_set(c, FIRST_DATA_MS);
		decrypt(c);
		return;
	}
	if (is_client(c)) {
		if (c->pooled && !c->attached)
			pool_ready(c);
		else if (c->streams)
			stream_open(c);
		else
			start_relaying(c);
		return;
	}
	/*
	 * PostgreSQL and MongoDB clients speak first, so the database is
	 * dialled when the client's first bytes arrive: a client agent's
	 * prewarmed connections cost it nothing.  A "tcp" service may speak
	 * first (MySQL, SMTP), so it is dialled at once.
	 */
	set_state(c, CONN_DIALING);
	if (c->cfg->proto == CFG_PROTO_TCP) {
		timer_set(c, c->cfg->connect_timeout_ms);
		if (dial(c, &c->plain, &c->cfg->connect) != 0)
			return;
	} else {
		c->dial_on_data = 1;
		timer_set(c, FIRST_DATA_MS);
	}
	decrypt(c);
}

static void
tls_progress(struct conn *c)
{
	enum tlsio_rc rc;

	if (c->state == CONN_HANDSHAKE) {
		rc = tlsio_handshake(c->tio);
		if (flush_cipher(c) != 0)
			return;
		if (rc == TLSIO_AGAIN)
			return;
		if (rc != TLSIO_OK) {
			/* Name who tried, even when their chain failed. */
			X509 *peer = SSL_get0_peer_certificate(
			    tlsio_ssl(c->tio));

			allow_identity(peer, c->ident, sizeof(c->ident));
			allow_serial(peer, c->serial, sizeof(c->serial));
			conn_close(c, "TLS handshake with %s failed: %s",
			    c->tls.name, rc == TLSIO_CLOSED ?
			    "peer closed" : tlsio_error(c->tio));
			return;
		}
		handshake_done(c);
		return;
	}
	decrypt(c);
}

static int
start_tls(struct conn *c)
{
	const struct cfg_tunnel *t = c->cfg;
	const struct tlsio_sink sink = { tls_room_cb, tls_commit_cb, c };
	SSL *ssl;

	if ((c->tio = tlsio_new(c->gen->ctx[c->t->index], !is_client(c),
	    &sink)) == NULL) {
		conn_close(c, "out of memory");
		return -1;
	}
	ssl = tlsio_ssl(c->tio);
	SSL_set_app_data(ssl, c);
	if (is_client(c)) {
		struct in6_addr ip;
		SSL_SESSION *sess = c->w->sessions[c->t->index];

		/* A session from older material must not skip the new
		 * checks: resume only within one generation. */
		if (c->w->session_gen[c->t->index] != c->gen->id)
			sess = NULL;
		int is_ip = inet_pton(AF_INET, t->server_name, &ip) == 1 ||
		    inet_pton(AF_INET6, t->server_name, &ip) == 1;

		if (is_ip)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    t->server_name);
		else if (!SSL_set_tlsext_host_name(ssl, t->server_name) ||
		    !SSL_set1_host(ssl, t->server_name)) {
			conn_close(c, "cannot set server name");
			return -1;
		}
		if (sess != NULL && SSL_SESSION_is_resumable(sess))
			SSL_set_session(ssl, sess);
	}
	set_state(c, CONN_HANDSHAKE);
	timer_set(c, t->handshake_timeout_ms);
	return 0;
}

/* client pg: the server's answer to our SSLRequest. */
static void
negotiated_client(struct conn *c, const uint8_t *p, size_t n)
{
	switch (p[0]) {
	case 'S':
		if (n > 1) {
			conn_close(c, "server sent bytes after 'S' before the "
			    "TLS handshake; refused (CVE-2021-23222 class)");
			return;
		}
		if (start_tls(c) == 0)
			tls_progress(c);
		return;
	case 'N':
		conn_close(c, "server refused TLS (answered 'N'); dbtls never "
		    "falls back to plaintext");
		return;
	case 'E':
		conn_close(c, "server answered the SSLRequest with an error");
		return;
	default:
		conn_close(c, "server answered the SSLRequest with 0x%02x",
		    p[0]);
		return;
	}
}

/* server pg: the client's first packets before TLS. */
static void
negotiated_server(struct conn *c, const uint8_t *p, size_t n)
{
	uint8_t err[256];
	size_t take, len;
	enum pg_first k;

	take = sizeof(c->sniff) - c->nsniff;
	if (take > n)
		take = n;
	memcpy(c->sniff + c->nsniff, p, take);
	c->nsniff += take;
	p += take;
	n -= take;

	switch ((k = pgwire_classify(c->sniff, c->nsniff))) {
	case PG_NEED_MORE:
		return;
	case PG_SSLREQUEST:
	case PG_GSSENCREQUEST:
		if (n > 0) {
			conn_close(c, "client sent bytes after its %s before "
			    "our answer; refused (CVE-2021-23214 class)",
			    pgwire_first_name(k));
			return;
		}
		c->nsniff = 0;
		if (k == PG_GSSENCREQUEST) {	/* libpq then asks for SSL */
			queue_bytes(c, &c->tls, "N", 1);
			return;
		}
		if (queue_bytes(c, &c->tls, "S", 1) == 0)
			start_tls(c);
		return;
	case PG_TLS_DIRECT:
		if (start_tls(c) != 0)
			return;
		c->direct_tls = 1;
		tlsio_feed(c->tio, c->sniff, c->nsniff);
		tlsio_feed(c->tio, p, n);
		tls_progress(c);
		if (c->state != CONN_CLOSING && tlsio_feed_end(c->tio) != 0)
			conn_close(c, "out of memory");
		return;
	case PG_STARTUP:
		len = pgwire_error(err, sizeof(err), "28000", "this server "
		    "requires TLS: connect with sslmode=verify-full and a "
		    "client certificate, or through a dbtls client agent");
		uv_buf_t b = uv_buf_init((char *)err, (unsigned)len);
		(void)uv_try_write(&c->tls.h.stream, &b, 1);
		conn_close(c, "plaintext StartupMessage refused: TLS is "
		    "required");
		return;
	default:
		conn_close(c, "%s refused: TLS is required",
		    pgwire_first_name(k));
		return;
	}
}

static void
on_tls_data(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->state == CONN_NEGOTIATING) {
		if (is_client(c))
			negotiated_client(c, p, n);
		else
			negotiated_server(c, p, n);
		return;
	}
	tlsio_feed(c->tio, p, n);	/* lent until tlsio_feed_end */
	tls_progress(c);
	if (c->state != CONN_CLOSING && tlsio_feed_end(c->tio) != 0)
		conn_close(c, "out of memory");
}

/* ------------------------------------------------------------ plain side */

static void
encrypt(struct conn *c, const void *p, size_t n)
{
	if (tlsio_write(c->tio, p, n) != 0) {
		conn_close(c, "TLS error: %s", tlsio_error(c->tio));
		return;
	}
	flush_cipher(c);
}

/* client pg: answer the app's SSLRequest/GSSENCRequest with 'N' here. */
static size_t
filter_app(struct conn *c, const uint8_t *p, size_t n)
{
	size_t used = 0;

	while (c->app_negotiating && used < n) {
		size_t take = sizeof(c->sniff) - c->nsniff;
		enum pg_first k;

		if (take > n - used)
			take = n - used;
		memcpy(c->sniff + c->nsniff, p + used, take);
		c->nsniff += take;
		used += take;
		switch ((k = pgwire_classify(c->sniff, c->nsniff))) {
		case PG_NEED_MORE:
			break;
		case PG_SSLREQUEST:
		case PG_GSSENCREQUEST:
			c->nsniff = 0;
			if (queue_bytes(c, &c->plain, "N", 1) != 0)
				return 0;
			break;
		case PG_STARTUP:
		case PG_CANCEL:
			/* From here on bytes pass untouched. */
			c->app_negotiating = 0;
			break;
		case PG_TLS_DIRECT:
			conn_close(c, "app started TLS, but the local hop is "
			    "plaintext: connect with sslmode=disable");
			return 0;
		default:
			conn_close(c, "app sent %s", pgwire_first_name(k));
			return 0;
		}
	}
	return used;
}

static void
to_tls(struct conn *c, const void *p, size_t n)
{
	if (n == 0)
		return;
	c->plain_in += n;
	if (c->state == CONN_RELAYING) {
		encrypt(c, p, n);
	} else if (cq_append(&c->held, &c->w->pool, p, n) != 0) {
		conn_close(c, "out of memory");
	}
}

static void
on_plain_data(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->app_negotiating) {
		size_t used = filter_app(c, p, n);

		if (c->state == CONN_CLOSING)
			return;
		if (!c->app_negotiating) {
			/* The sniffed packet start, then the rest. */
			to_tls(c, c->sniff, c->nsniff);
			c->nsniff = 0;
			if (c->state != CONN_CLOSING)
				to_tls(c, p + used, n - used);
		}
		return;
	}
	to_tls(c, p, n);
}

static void
start_relaying(struct conn *c)
{
	char tls[160];
	struct cq_span sp[MAX_SPANS];
	int n;

	set_state(c, CONN_RELAYING);
	uv_timer_stop(&c->timer);
	if (c->cfg->idle_timeout_ms > 0)
		timer_set(c, c->cfg->idle_timeout_ms);
	tls_desc(c, tls, sizeof(tls));
	conn_log(c, LOG_LVL_INFO, "open identity=%s serial=%s %s", c->ident,
	    c->serial, tls);

	if (is_client(c)) {
		while (c->held.len > 0 && c->state != CONN_CLOSING) {
			n = cq_spans(&c->held, 0, sp, MAX_SPANS);
			for (int i = 0; i < n && c->state != CONN_CLOSING; i++)
				encrypt(c, sp[i].base, sp[i].len);
			for (int i = 0; i < n; i++)
				cq_consume(&c->held, &c->w->pool, sp[i].len);
		}
		if (c->state == CONN_CLOSING)
			return;
		if (c->plain.eof)
			end_tls_output(c);
		decrypt(c);	/* data that came with the handshake */
		if (c->state != CONN_CLOSING)
			side_flush(&c->plain);
	} else {
		side_flush(&c->plain);
	}
	if (c->state != CONN_CLOSING)
		flow(c);
}

/* ------------------------------------------------------------ io */

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct side *s = h->data;

	/* The read callback consumes it before the loop reads again. */
	buf->base = s->c->w->readbuf;
	buf->len = WORKER_READ_SIZE;
}

static void
read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct side *s = st->data;
	struct conn *c = s->c;

	if (nread == 0 || c->state == CONN_CLOSING)
		return;
	if (nread < 0) {
		if (nread == UV_EOF)
			side_eof(c, s);
		else
			side_failed(c, s, "read from %s: %s", s->name,
			    uv_strerror((int)nread));
		if (c->state != CONN_CLOSING)
			flow(c);
		return;
	}
	c->last_active = uv_now(&c->w->loop);
	if (s == &c->plain)
		on_plain_data(c, (const uint8_t *)buf->base, (size_t)nread);
	else
		on_tls_data(c, (const uint8_t *)buf->base, (size_t)nread);
	if (c->state != CONN_CLOSING)
		flow(c);
}

static void
tune_tcp(struct conn *c, struct side *s)
{
	if (s->h.handle.type != UV_TCP)
		return;
	uv_tcp_nodelay(&s->h.tcp, 1);
	if (c->cfg->keepalive_s > 0)
		uv_tcp_keepalive(&s->h.tcp, 1, c->cfg->keepalive_s);
}

static void
connected(struct conn *c, struct side *s)
{
	uint8_t req[8];

	s->connected = 1;
	tune_tcp(c, s);
	/* The other addresses are not needed any more: do not keep them. */
	uv_freeaddrinfo(c->addrs);
	c->addrs = c->next_addr = NULL;
	if (!is_client(c)) {
		start_relaying(c);
		return;
	}
	timer_set(c, c->cfg->handshake_timeout_ms);
	if (is_pg(c)) {
		set_state(c, CONN_NEGOTIATING);
		pgwire_sslrequest(req);
		if (queue_bytes(c, &c->tls, req, sizeof(req)) == 0)
			flow(c);
		return;
	}
	if (start_tls(c) == 0)
		tls_progress(c);
	if (c->state != CONN_CLOSING)
		flow(c);
}

static int dial_sockaddr(struct conn *c, struct side *s,
    const struct sockaddr *sa);

/* redial_closed_cb: the failed socket is gone; try the next address. */
static void
redial_closed_cb(uv_handle_t *h)
{
	struct side *s = h->data;
	struct conn *c = s->c;
	struct addrinfo *ai = c->next_addr;

	if (c->state == CONN_CLOSING) {
		conn_unref(c);
		return;
	}
	c->refs--;	/* the timer's reference keeps c alive */
	c->next_addr = ai->ai_next;
	dial_sockaddr(c, s, ai->ai_addr);
}

static void
connect_cb(uv_connect_t *req, int status)
{
	struct side *s = req->handle->data;
	struct conn *c = s->c;
	char a[300];

	if (status == UV_ECANCELED || c->state == CONN_CLOSING)
		return;
	if (status < 0 && c->next_addr != NULL) {
		conn_log(c, LOG_LVL_DEBUG, "connect to %s %s: %s; trying "
		    "its next address", s->name, c->cfg->connect.host,
		    uv_strerror(status));
		s->open = 0;
		uv_close(&s->h.handle, redial_closed_cb);
		return;
	}
	if (status < 0) {
		side_failed(c, s, "connect to %s %s: %s", s->name,
		    addr_format(&c->cfg->connect, a, sizeof(a)),
		    uv_strerror(status));
		return;
	}
	connected(c, s);
}

static int
side_init(struct conn *c, struct side *s, int is_unix)
{
	int rc = is_unix ? uv_pipe_init(&c->w->loop, &s->h.pipe, 0) :
	    uv_tcp_init(&c->w->loop, &s->h.tcp);

	if (rc != 0)
		return rc;
	s->h.handle.data = s;
	s->open = 1;
	c->refs++;
	return 0;
}

static int
dial_sockaddr(struct conn *c, struct side *s, const struct sockaddr *sa)
{
	int rc;

	if ((rc = side_init(c, s, 0)) != 0 ||
	    (rc = uv_tcp_connect(&c->creq, &s->h.tcp, sa, connect_cb)) != 0) {
		conn_close(c, "connect to %s: %s", s->name, uv_strerror(rc));
		return -1;
	}
	return 0;
}

static void
gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct conn *c = req->data;

	c->gai_pending = 0;
	if (c->state == CONN_CLOSING || status < 0) {
		if (c->state != CONN_CLOSING)
			conn_close(c, "cannot resolve \"%s\": %s",
			    c->cfg->connect.host, uv_strerror(status));
		uv_freeaddrinfo(res);
		conn_unref(c);
		return;
	}
	c->addrs = res;
	c->next_addr = res->ai_next;
	dial_sockaddr(c, c->dialing, res->ai_addr);
	conn_unref(c);
}

static int
dial(struct conn *c, struct side *s, const struct addr *a)
{
	struct addrinfo hints;
	char port[8];
	int rc;

	if (a->kind == ADDR_UNIX) {
		if ((rc = side_init(c, s, 1)) != 0) {
			conn_close(c, "%s", uv_strerror(rc));
			return -1;
		}
		uv_pipe_connect(&c->creq, &s->h.pipe, a->path, connect_cb);
		return 0;
	}
	if (a->numeric)
		return dial_sockaddr(c, s, (const struct sockaddr *)&a->sa);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", a->port);
	c->gai.data = c;
	c->dialing = s;
	if ((rc = uv_getaddrinfo(&c->w->loop, &c->gai, gai_cb, a->host, port,
	    &hints)) != 0) {
		conn_close(c, "cannot resolve \"%s\": %s", a->host,
		    uv_strerror(rc));
		return -1;
	}
	c->refs++;
	c->gai_pending = 1;
	return 0;
}

/* ------------------------------------------------------------ accept */

int
conn_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = SSL_get_app_data(ssl);
	SSL_SESSION **slot;

	if (c == NULL)
		return 0;
	slot = &c->w->sessions[c->t->index];
	SSL_SESSION_free(*slot);
	*slot = sess;
	c->w->session_gen[c->t->index] = c->gen->id;
	return 1;	/* we keep the reference */
}

/* conn_new: a connection of tunnel t on worker w, with no sides yet. */
static struct conn *
conn_new(struct worker *w, struct tunnel *t)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("tunnel=%s: out of memory for a connection",
		    t->cfg->name);
		return NULL;
	}
	c->w = w;
	c->t = t;
	c->gen = gen_current();
	c->cfg = &c->gen->cfg->tunnels[t->index];
	c->id = atomic_fetch_add(&w->agent->next_conn_id, 1) + 1;
	c->state = is_client(c) ? CONN_DIALING :
	    is_pg(c) ? CONN_NEGOTIATING : CONN_HANDSHAKE;
	c->started = c->last_active = uv_now(&w->loop);
	c->plain.c = c->tls.c = c;
	c->plain.name = is_client(c) ? "app" : "db";
	c->tls.name = is_client(c) ? "server" : "peer";
	snprintf(c->peer, sizeof(c->peer), "-");
	uv_timer_init(&w->loop, &c->timer);
	c->timer.data = c;
	c->refs = 1;
	if ((c->next = w->conns) != NULL)
		c->next->prev = c;
	w->conns = c;
	return c;
}

/* accept_side: accept the waiting connection of l into side s. */
static int
accept_side(struct conn *c, struct side *s, struct listener *l)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss), rc;

	if ((rc = side_init(c, s, l->h.handle.type == UV_NAMED_PIPE)) != 0 ||
	    (rc = uv_accept(&l->h.stream, &s->h.stream)) != 0) {
		conn_close(c, "accept: %s", uv_strerror(rc));
		return -1;
	}
	s->connected = 1;
	if (s->h.handle.type == UV_TCP && uv_tcp_getpeername(&s->h.tcp,
	    (struct sockaddr *)&ss, &sslen) == 0)
		addr_sockaddr_format((struct sockaddr *)&ss, c->peer,
		    sizeof(c->peer));
	else if (s->h.handle.type == UV_NAMED_PIPE)
		snprintf(c->peer, sizeof(c->peer), "unix");
	tune_tcp(c, s);
	if (atomic_fetch_add(&c->t->active, 1) >= c->cfg->max_connections) {
		atomic_fetch_sub(&c->t->active, 1);
		conn_close(c, "max_connections (%u) reached",
		    c->cfg->max_connections);
		return -1;
	}
	c->counted = 1;
	conn_log(c, LOG_LVL_DEBUG, "accepted");
	return 0;
}

/* pool_take: a prewarmed connection made with the material in force. */
static struct conn *
pool_take(struct worker *w, struct tunnel *t)
{
	struct pool *p = &w->pools[t->index];
	struct gen *now;
	struct conn *c;

	if (p->ready == NULL)	/* the common case: no lock taken */
		return NULL;
	now = gen_current();
	while ((c = p->ready) != NULL) {
		p->ready = c->pool_next;
		p->nready--;
		if (c->gen->id == now->id) {
			c->attached = 1;
			break;
		}
		/* Made before a reload: its certificates may be stale. */
		conn_close(c, "prewarmed before a reload");
	}
	gen_unref(now);
	return c;
}

void
conn_pool_fill(struct worker *w)
{
	for (size_t i = 0; i < w->agent->ntunnels && !w->stopping; i++) {
		struct tunnel *t = &w->agent->tunnels[i];
		struct pool *p = &w->pools[i];
		struct gen *g = gen_current();
		unsigned want = g->cfg->tunnels[i].prewarm;

		gen_unref(g);
		while (p->nready + p->npending < want) {
			struct conn *c = conn_new(w, t);

			if (c == NULL)
				break;
			c->pooled = 1;
			p->npending++;
			timer_set(c, c->cfg->connect_timeout_ms);
			/* A failure closes c and frees its place; the timer
			 * tries again in a second, not in a tight loop. */
			if (dial(c, &c->tls, &c->cfg->connect) != 0)
				break;
			flow(c);
		}
	}
}

void
conn_accept(struct listener *l)
{
	struct worker *w = l->w;
	struct tunnel *t = l->t;
	struct conn *c;

	if (t->cfg->mode == CFG_MODE_CLIENT &&
	    (c = pool_take(w, t)) != NULL) {
		/* A prewarmed connection: no dial, no handshake to wait for. */
		c->started = c->last_active = uv_now(&w->loop);
		if (accept_side(c, &c->plain, l) != 0)
			return;
		c->app_negotiating = is_pg(c);
		if (c->streams)
			stream_open(c);
		else
			start_relaying(c);
		if (c->state != CONN_CLOSING)
			flow(c);
		conn_pool_fill(w);
		return;
	}
	if ((c = conn_new(w, t)) == NULL)
		return;
	if (accept_side(c, is_client(c) ? &c->plain : &c->tls, l) != 0)
		return;
	if (is_client(c)) {
		c->app_negotiating = is_pg(c);
		timer_set(c, c->cfg->connect_timeout_ms);
		if (dial(c, &c->tls, &c->cfg->connect) != 0)
			return;
	} else if (is_pg(c)) {
		timer_set(c, c->cfg->handshake_timeout_ms);
	} else {
		if (start_tls(c) != 0)
			return;
	}
	flow(c);
}
