/* SPDX-License-Identifier: MIT */
/*
 * test_tlsio.c: two tlsio objects handshake and talk through memory (one's
 * output is the other's input): TLS without sockets.  Also: close_notify
 * becomes CLOSED, garbage becomes FAILED with a reason, and a client
 * without the server's CA refuses it.
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

static int
out_cb(void *arg, const void *p, size_t n)
{
	struct outbuf *o = arg;

	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		o->p = realloc(o->p, o->cap);
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

static struct outbuf co, so;	/* client's and server's output */

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
	struct tlsio *s = tlsio_new(sctx, 1, out_cb, &so);
	struct tlsio *c = tlsio_new(cctx, 0, out_cb, &co);
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
	pump(c, s);
	CHECK_EQ(tlsio_read(s, got, sizeof(got), &n), TLSIO_CLOSED);
	CHECK_EQ(tlsio_write(s, "late", 4), 0);
	pump(c, s);
	CHECK_EQ(tlsio_read(c, got, sizeof(got), &n), TLSIO_OK);
	CHECK_EQ(n, 4);
	tlsio_free(c);
	tlsio_free(s);

	/* Garbage instead of a ClientHello. */
	so.len = co.len = 0;
	s = tlsio_new(sctx, 1, out_cb, &so);
	tlsio_feed(s, "\x16\x03\x01\x00\x05hello", 10);
	CHECK_EQ(tlsio_handshake(s), TLSIO_FAILED);
	CHECK_EQ(tlsio_feed_end(s), 0);
	CHECK(strlen(tlsio_error(s)) > 0);
	tlsio_free(s);

	/* A client that does not trust the server's issuer refuses it. */
	so.len = co.len = 0;
	s = tlsio_new(sctx, 1, out_cb, &so);
	c = tlsio_new(octx, 0, out_cb, &co);
	CHECK(!handshake(c, s, &rc_c, &rc_s));
	CHECK_EQ(rc_c, TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(c), "certificate verify failed");
	tlsio_free(c);
	tlsio_free(s);

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
