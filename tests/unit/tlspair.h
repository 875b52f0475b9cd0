/* SPDX-License-Identifier: MIT */
/*
 * tlspair.h: two tlsio objects joined through memory (one's output is
 * the other's input), for the unit tests of tlsio and its takeover.
 * Include once, after harness.h.
 */
#ifndef TESTS_TLSPAIR_H
#define TESTS_TLSPAIR_H

#include <openssl/ssl.h>

#include "common/rec13.h"
#include "common/tlsio.h"

/* What one side sent, waiting to be handed to the other. */
struct outbuf {
	uint8_t *p;
	size_t len, cap;
};

static inline char *
room_cb(void *arg, size_t min, size_t *space)
{
	struct outbuf *o = arg;

	if (o->len + min > o->cap) {
		o->cap = (o->len + min) * 2;
		o->p = realloc(o->p, o->cap);
	}
	*space = o->cap - o->len;
	return (char *)o->p + o->len;
}

static inline void
commit_cb(void *arg, size_t n)
{
	struct outbuf *o = arg;

	o->len += n;
}

static struct outbuf co, so; /* client's and server's output */
static const struct tlsio_sink csink = { room_cb, commit_cb, &co };
static const struct tlsio_sink ssink = { room_cb, commit_cb, &so };

/* hand: lend what one side sent to the other; keep what it leaves. */
static inline void
hand(struct outbuf *o, struct tlsio *to)
{
	if (o->len == 0)
		return;
	tlsio_feed(to, o->p, o->len);
	CHECK_EQ(tlsio_feed_end(to), 0);
	o->len = 0;
}

static inline void
pump(struct tlsio *c, struct tlsio *s)
{
	hand(&co, s);
	hand(&so, c);
}

static inline SSL_CTX *
ctx_new(int server, X509 *cert, EVP_PKEY *key, X509 *trust)
{
	SSL_CTX *ctx = SSL_CTX_new(
	    server ? TLS_server_method() : TLS_client_method());

	SSL_CTX_use_certificate(ctx, cert);
	SSL_CTX_use_PrivateKey(ctx, key);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust);
	SSL_CTX_set_verify(ctx,
	    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"t", 1);
	return ctx;
}

static inline int
handshake(struct tlsio *c, struct tlsio *s, enum tlsio_rc *rc_c,
    enum tlsio_rc *rc_s)
{
	for (int i = 0; i < 10; i++) {
		*rc_c = tlsio_handshake(c);
		pump(c, s);
		*rc_s = tlsio_handshake(s);
		pump(c, s);
		if (*rc_c == TLSIO_FAILED || *rc_s == TLSIO_FAILED ||
		    (*rc_c == TLSIO_OK && *rc_s == TLSIO_OK))
			break;
	}
	return *rc_c == TLSIO_OK && *rc_s == TLSIO_OK;
}

/* deliver: lend o's bytes to t in pieces of the given sizes (cycled),
 * reading up to cap at a time after each piece into got[*total..max). */
static inline enum tlsio_rc
deliver(struct outbuf *o, struct tlsio *t, const size_t *pieces, size_t np,
    size_t cap, char *got, size_t *total, size_t max)
{
	enum tlsio_rc rc = TLSIO_AGAIN;
	size_t off = 0, k = 0;

	while (off < o->len) {
		size_t n = pieces[k++ % np];

		if (n > o->len - off)
			n = o->len - off;
		tlsio_feed(t, o->p + off, n);
		off += n;
		do {
			size_t g, room = max - *total;

			if (room == 0)
				break;
			rc = tlsio_read(t, got + *total,
			    room < cap ? room : cap, &g);
			*total += g;
		} while (rc == TLSIO_OK);
		CHECK_EQ(tlsio_feed_end(t), 0);
		if (rc == TLSIO_FAILED || rc == TLSIO_CLOSED)
			break;
	}
	o->len = 0;
	return rc;
}

/* exchange: size bytes each way, checked byte for byte. */
static inline void
exchange(struct tlsio *c, struct tlsio *s, size_t size, size_t cap)
{
	static const size_t pieces[] = { 1, 7, 5000, 16000, 3, 70000 };
	static char in[1 << 20], got[1 << 20];
	enum tlsio_rc rc;
	size_t total;

	for (size_t i = 0; i < size; i++)
		in[i] = (char)(i * 131 + size);
	total = 0;
	CHECK_EQ(tlsio_write(c, in, size), 0);
	rc = deliver(&co, s, pieces, 6, cap, got, &total, size);
	CHECK(rc == TLSIO_OK || rc == TLSIO_AGAIN);
	CHECK_EQ(total, size);
	CHECK(memcmp(in, got, size) == 0);
	total = 0;
	CHECK_EQ(tlsio_write(s, in, size), 0);
	rc = deliver(&so, c, pieces, 6, cap, got, &total, size);
	CHECK(rc == TLSIO_OK || rc == TLSIO_AGAIN);
	CHECK_EQ(total, size);
	CHECK(memcmp(in, got, size) == 0);
}

/* half_closed: c has sent close_notify: s sees it, still writes to c;
 * both are freed. */
static inline void
half_closed(struct tlsio *c, struct tlsio *s)
{
	char got[64];
	size_t n;

	pump(c, s);
	CHECK_EQ(tlsio_read(s, got, sizeof(got), &n), TLSIO_CLOSED);
	CHECK_EQ(tlsio_read(s, got, sizeof(got), &n), TLSIO_CLOSED);
	CHECK_EQ(tlsio_write(s, "late", 4), 0);
	pump(c, s);
	CHECK_EQ(tlsio_read(c, got, sizeof(got), &n), TLSIO_OK);
	CHECK_EQ(n, 4);
	tlsio_free(c);
	tlsio_free(s);
}

static SSL_SESSION *saved;

static inline int
save_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	SSL_SESSION_free(saved);
	saved = sess;
	return 1;
}

/* offloaded: a new pair on these contexts, handshaken and exchanging. */
static inline void
pair(SSL_CTX *cctx, SSL_CTX *sctx, struct tlsio **c, struct tlsio **s)
{
	enum tlsio_rc rc_c, rc_s;

	co.len = so.len = 0;
	*s = tlsio_new(sctx, 1, &ssink);
	*c = tlsio_new(cctx, 0, &csink);
	if (saved != NULL)
		SSL_set_session(tlsio_ssl(*c), saved);
	CHECK(handshake(*c, *s, &rc_c, &rc_s));
}

/* ------------------------------------------------------------ forging */

/* The traffic secrets, from the key log, to forge records with. */

static SSL_CTX_keylog_cb_func tlsio_keylog;
static uint8_t secret[2][REC13_SECRET_MAX]; /* client, server */
static size_t secret_len[2];

/* spy: keep the last connection's first traffic secrets, then pass on. */
static inline void
spy(const SSL *ssl, const char *line)
{
	static const char *const labels[2] = {
		"CLIENT_TRAFFIC_SECRET_0 ",
		"SERVER_TRAFFIC_SECRET_0 ",
	};

	for (int i = 0; i < 2; i++) {
		const char *hex;
		size_t n = 0;
		unsigned v;

		if (strncmp(line, labels[i], strlen(labels[i])) != 0)
			continue;
		hex = strchr(line + strlen(labels[i]), ' ') + 1;
		while (n < REC13_SECRET_MAX && sscanf(hex, "%2x", &v) == 1) {
			secret[i][n++] = (uint8_t)v;
			hex += 2;
		}
		secret_len[i] = n;
	}
	tlsio_keylog(ssl, line);
}

static inline SSL_CTX *
spied(SSL_CTX *ctx)
{
	CHECK_EQ(tlsio_ctx_init(ctx), 0);
	tlsio_keylog = SSL_CTX_get_keylog_callback(ctx);
	SSL_CTX_set_keylog_callback(ctx, spy);
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
	return ctx;
}

/*
 * forger: records as side (0 client, 1 server) would seal them after the
 * takeover: the next secret, from sequence 0 (enc 0: to open them).
 */
static inline void
forger(struct rec13 *f, int side, int enc)
{
	memset(f, 0, sizeof(*f));
	CHECK_EQ(rec13_init(f, enc, 0x1301, secret[side], secret_len[side], 0),
	    0);
	CHECK_EQ(rec13_update(f), 0);
}

/* forge: one record from f into o, as if its side had sent it. */
static inline void
forge(struct rec13 *f, struct outbuf *o, uint8_t type, const void *p, size_t n,
    size_t pad)
{
	uint8_t rec[REC13_HEADER + REC13_BODY_MAX];
	size_t len = rec13_seal_padded(f, type, p, n, pad, rec);

	CHECK(len > 0);
	room_cb(o, len, &n);
	memcpy(o->p + o->len, rec, len);
	o->len += len;
}

#endif
