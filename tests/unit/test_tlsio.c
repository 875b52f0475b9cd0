/* SPDX-License-Identifier: MIT */
/*
 * test_tlsio.c: two tlsio objects handshake and talk through memory (one's
 * output is the other's input): TLS without sockets.  Also: close_notify
 * becomes CLOSED, garbage becomes FAILED with a reason, and a client
 * without the server's CA refuses it.  Then the records tlsio protects
 * itself after a TLS 1.3 handshake (rec13): with every suite, against
 * plain OpenSSL on the other side both ways, through KeyUpdate, late
 * tickets, resumption, damaged records, and TLS 1.2 staying with OpenSSL.
 */
#include <openssl/ssl.h>

#include "common/tlsio.h"
#include "harness.h"
#include "testcert.h"

/* What one side sent, waiting to be handed to the other. */
struct outbuf {
	uint8_t	*p;
	size_t	 len, cap;
};

static char *
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

static void
commit_cb(void *arg, size_t n)
{
	struct outbuf *o = arg;

	o->len += n;
}

static struct outbuf co, so;	/* client's and server's output */
static const struct tlsio_sink csink = { room_cb, commit_cb, &co };
static const struct tlsio_sink ssink = { room_cb, commit_cb, &so };

/* hand: lend what one side sent to the other; keep what it leaves. */
static void
hand(struct outbuf *o, struct tlsio *to)
{
	if (o->len == 0)
		return;
	tlsio_feed(to, o->p, o->len);
	CHECK_EQ(tlsio_feed_end(to), 0);
	o->len = 0;
}

static void
pump(struct tlsio *c, struct tlsio *s)
{
	hand(&co, s);
	hand(&so, c);
}

static SSL_CTX *
ctx_new(int server, X509 *cert, EVP_PKEY *key, X509 *trust)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method());

	SSL_CTX_use_certificate(ctx, cert);
	SSL_CTX_use_PrivateKey(ctx, key);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"t", 1);
	return ctx;
}

static int
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
static enum tlsio_rc
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
			rc = tlsio_read(t, got + *total, room < cap ? room :
			    cap, &g);
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
static void
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
static void
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

static int
save_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	SSL_SESSION_free(saved);
	saved = sess;
	return 1;
}

/* offloaded: a new pair on these contexts, handshaken and exchanging. */
static void
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

static void
test_offload(SSL_CTX *cctx, SSL_CTX *sctx, SSL_CTX *plain_c,
    SSL_CTX *plain_s)
{
	static const char *const suites[] = { "TLS_AES_128_GCM_SHA256",
	    "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256" };
	struct tlsio *c, *s;
	char desc[128], got[64];
	size_t n, total;
	enum tlsio_rc rc;

	/* Every suite, big reads and tiny ones, records split anywhere. */
	for (int i = 0; i < 3; i++) {
		SSL_CTX_set_ciphersuites(cctx, suites[i]);
		pair(cctx, sctx, &c, &s);
		exchange(c, s, 1 << 20, 1 << 20);
		exchange(c, s, 50000, 7);
		CHECK(tlsio_offloaded(c) && tlsio_offloaded(s));
		CHECK(tlsio_ssl(c) == NULL && tlsio_ssl(s) == NULL);
		tlsio_describe(c, desc, sizeof(desc));
		CHECK_CONTAINS(desc, suites[i]);
		CHECK_CONTAINS(desc, "TLSv1.3");

		/* Half-close in our own records. */
		tlsio_shutdown(c);
		CHECK_EQ(tlsio_write(c, "x", 1), -1);
		half_closed(c, s);
	}
	SSL_CTX_set_ciphersuites(cctx, "TLS_AES_128_GCM_SHA256:"
	    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");

	/* Control records, in order with the data around them, even when
	 * they come right behind the ticket, in one piece with it. */
	pair(cctx, sctx, &c, &s);
	CHECK_EQ(tlsio_write(s, "ab", 2), 0);
	CHECK_EQ(tlsio_control(s, 7), 0);
	CHECK_EQ(tlsio_write(s, "cd", 2), 0);
	{
		char buf[64];
		size_t k = 0;

		tlsio_feed(c, so.p, so.len);
		so.len = 0;
		CHECK_EQ(tlsio_read(c, buf, sizeof(buf), &n), TLSIO_OK);
		CHECK(n == 2 && memcmp(buf, "ab", 2) == 0);
		CHECK_EQ(tlsio_read(c, buf, sizeof(buf), &n), TLSIO_CONTROL);
		CHECK(n == 1 && buf[0] == 7);
		while ((rc = tlsio_read(c, buf + k, sizeof(buf) - k, &n)) ==
		    TLSIO_OK)
			k += n;
		CHECK_EQ(rc, TLSIO_AGAIN);
		CHECK(k == 2 && memcmp(buf, "cd", 2) == 0);
		CHECK_EQ(tlsio_feed_end(c), 0);
	}
	CHECK_EQ(tlsio_control(c, 9), 0);
	pump(c, s);
	CHECK_EQ(tlsio_read(s, got, sizeof(got), &n), TLSIO_CONTROL);
	CHECK(n == 1 && got[0] == 9);
	CHECK(tlsio_offloaded(c) && tlsio_offloaded(s));
	tlsio_free(c);
	tlsio_free(s);

	/* Against plain OpenSSL, both ways; KeyUpdate asked of us and by
	 * us; a ticket after the takeover is ignored. */
	pair(cctx, plain_s, &c, &s);
	exchange(c, s, 100000, 1 << 20);
	CHECK(tlsio_offloaded(c) && !tlsio_offloaded(s));
	CHECK_EQ(SSL_key_update(tlsio_ssl(s), SSL_KEY_UPDATE_REQUESTED), 1);
	exchange(c, s, 100000, 1 << 20);
	exchange(c, s, 100000, 1 << 20);
	CHECK_EQ(SSL_new_session_ticket(tlsio_ssl(s)), 1);
	exchange(c, s, 1000, 1 << 20);
	tlsio_free(c);
	tlsio_free(s);
	pair(plain_c, sctx, &c, &s);
	exchange(c, s, 100000, 1 << 20);
	CHECK(!tlsio_offloaded(c) && tlsio_offloaded(s));
	CHECK_EQ(SSL_key_update(tlsio_ssl(c), SSL_KEY_UPDATE_REQUESTED), 1);
	exchange(c, s, 100000, 1 << 20);
	exchange(c, s, 100000, 1 << 20);
	tlsio_free(c);
	tlsio_free(s);

	/* The ticket taken before the takeover resumes a session. */
	SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cctx, save_session_cb);
	pair(cctx, sctx, &c, &s);
	exchange(c, s, 10, 1 << 20);
	CHECK(saved != NULL);
	tlsio_free(c);
	tlsio_free(s);
	pair(cctx, sctx, &c, &s);
	exchange(c, s, 10, 1 << 20);
	CHECK(tlsio_offloaded(c) && tlsio_offloaded(s));
	tlsio_describe(c, desc, sizeof(desc));
	CHECK_CONTAINS(desc, "resumed=yes");
	tlsio_free(c);
	tlsio_free(s);
	SSL_SESSION_free(saved);
	saved = NULL;
	SSL_CTX_sess_set_new_cb(cctx, NULL);

	/* One flipped bit: refused, and the peer is told why. */
	pair(cctx, sctx, &c, &s);
	exchange(c, s, 10, 1 << 20);
	CHECK_EQ(tlsio_write(c, "0123456789", 10), 0);
	co.p[co.len - 3] ^= 0x10;
	total = 0;
	rc = deliver(&co, s, (const size_t[]){ 1 << 20 }, 1, 64, got, &total,
	    sizeof(got));
	CHECK_EQ(rc, TLSIO_FAILED);
	CHECK_EQ(total, 0);
	CHECK_CONTAINS(tlsio_error(s), "bad record MAC");
	CHECK(so.len > 0);
	CHECK_EQ(tlsio_write(s, "x", 1), -1);
	rc = deliver(&so, c, (const size_t[]){ 1 << 20 }, 1, 64, got, &total,
	    sizeof(got));
	CHECK_EQ(rc, TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(c), "bad record mac");
	tlsio_free(c);
	tlsio_free(s);

	/* Headers no TLS 1.3 peer sends after its handshake. */
	static const char *const bad[] = {
		"\x17\x03\x03\x41\x11",		/* longer than allowed */
		"\x15\x03\x03\x00\x02",		/* a plaintext alert */
		"\x17\x03\x01\x00\x20",		/* another version */
		"\x17\x03\x03\x00\x10",		/* shorter than a tag */
	};
	for (int i = 0; i < 4; i++) {
		pair(cctx, sctx, &c, &s);
		exchange(c, s, 10, 1 << 20);
		tlsio_feed(s, bad[i], 5);
		CHECK_EQ(tlsio_read(s, got, sizeof(got), &n), TLSIO_FAILED);
		CHECK_EQ(tlsio_feed_end(s), 0);
		CHECK_CONTAINS(tlsio_error(s), "malformed TLS record header");
		tlsio_free(c);
		tlsio_free(s);
	}

	/* Random records after the handshake: refused or awaited, never
	 * taken, and nothing breaks (the sanitizers watch). */
	{
		uint64_t rng = 0x9e3779b97f4a7c15ULL;
		int failed = 0;

		for (int i = 0; i < 200; i++) {
			uint8_t junk[600];
			size_t len = 5 + (size_t)(i * 7 % 590);

			pair(cctx, sctx, &c, &s);
			exchange(c, s, 10, 1 << 20);
			for (size_t j = 0; j < len; j++) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				junk[j] = (uint8_t)rng;
			}
			junk[0] = 0x17;		/* a plausible header */
			junk[1] = junk[2] = 3;
			junk[3] = (uint8_t)((len - 5) >> 8);
			junk[4] = (uint8_t)(len - 5);
			tlsio_feed(s, junk, len);
			rc = tlsio_read(s, got, sizeof(got), &n);
			CHECK(rc == TLSIO_FAILED || rc == TLSIO_AGAIN);
			CHECK_EQ(n, 0);
			failed += rc == TLSIO_FAILED;
			CHECK_EQ(tlsio_feed_end(s), 0);
			tlsio_free(c);
			tlsio_free(s);
		}
		CHECK_EQ(failed, 200);
	}

	/* TLS 1.2 stays with OpenSSL. */
	SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
	pair(cctx, sctx, &c, &s);
	exchange(c, s, 100000, 1 << 20);
	CHECK(!tlsio_offloaded(c) && !tlsio_offloaded(s));
	CHECK(tlsio_ssl(c) != NULL && tlsio_ssl(s) != NULL);
	CHECK_EQ(tlsio_control(c, 1), -1);
	tlsio_free(c);
	tlsio_free(s);
	SSL_CTX_set_max_proto_version(cctx, 0);
}

int
main(void)
{
	EVP_PKEY *skey, *ckey, *okey;
	X509 *scert = testcert_make("server", "DNS:localhost", &skey);
	X509 *ccert = testcert_make("client", NULL, &ckey);
	X509 *ocert = testcert_make("other", NULL, &okey);
	SSL_CTX *sctx = ctx_new(1, scert, skey, ccert);
	SSL_CTX *cctx = ctx_new(0, ccert, ckey, scert);
	SSL_CTX *octx = ctx_new(0, ccert, ckey, ocert);
	struct tlsio *s = tlsio_new(sctx, 1, &ssink);
	struct tlsio *c = tlsio_new(cctx, 0, &csink);
	static char big[300000], got[sizeof(big)];
	enum tlsio_rc rc_c, rc_s, rc;
	size_t n, total = 0;

	CHECK(handshake(c, s, &rc_c, &rc_s));
	CHECK_STR(SSL_get_version(tlsio_ssl(c)), "TLSv1.3");

	/* 300 kB client -> server, byte for byte. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 131);
	CHECK_EQ(tlsio_write(c, big, sizeof(big)), 0);
	CHECK(co.len > sizeof(big));
	/* Lent in two uneven parts, read in place, a partial record kept. */
	{
		size_t half = co.len / 2 + 7;

		tlsio_feed(s, co.p, half);
		while ((rc = tlsio_read(s, got + total, sizeof(got) - total,
		    &n)) == TLSIO_OK)
			total += n;
		CHECK_EQ(rc, TLSIO_AGAIN);
		CHECK(total > 0 && total < sizeof(big));
		CHECK_EQ(tlsio_feed_end(s), 0);
		tlsio_feed(s, co.p + half, co.len - half);
		while ((rc = tlsio_read(s, got + total, sizeof(got) - total,
		    &n)) == TLSIO_OK)
			total += n;
		CHECK_EQ(tlsio_feed_end(s), 0);
		co.len = 0;
	}
	CHECK_EQ(rc, TLSIO_AGAIN);
	CHECK_EQ(total, sizeof(big));
	CHECK(memcmp(big, got, sizeof(big)) == 0);

	/* Half-close: the client's close_notify; the server still writes. */
	tlsio_shutdown(c);
	half_closed(c, s);

	/* Garbage instead of a ClientHello. */
	so.len = co.len = 0;
	s = tlsio_new(sctx, 1, &ssink);
	tlsio_feed(s, "\x16\x03\x01\x00\x05hello", 10);
	CHECK_EQ(tlsio_handshake(s), TLSIO_FAILED);
	CHECK_EQ(tlsio_feed_end(s), 0);
	CHECK(strlen(tlsio_error(s)) > 0);
	tlsio_free(s);

	/* A client that does not trust the server's issuer refuses it. */
	so.len = co.len = 0;
	s = tlsio_new(sctx, 1, &ssink);
	c = tlsio_new(octx, 0, &csink);
	CHECK(!handshake(c, s, &rc_c, &rc_s));
	CHECK_EQ(rc_c, TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(c), "certificate verify failed");
	tlsio_free(c);
	tlsio_free(s);

	/* The same peers, with tlsio taking over after the handshake. */
	{
		SSL_CTX *sctx_off = ctx_new(1, scert, skey, ccert);
		SSL_CTX *cctx_off = ctx_new(0, ccert, ckey, scert);

		tlsio_ctx_init(sctx_off);
		tlsio_ctx_init(cctx_off);
		test_offload(cctx_off, sctx_off, cctx, sctx);
		SSL_CTX_free(sctx_off);
		SSL_CTX_free(cctx_off);
	}

	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	SSL_CTX_free(octx);
	X509_free(scert);
	X509_free(ccert);
	X509_free(ocert);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ckey);
	EVP_PKEY_free(okey);
	free(co.p);
	free(so.p);
	return harness_done("test_tlsio");
}
