/* SPDX-License-Identifier: MIT */
/*
 * test_tlsio.c: two tlsio objects handshake and talk through memory (one's
 * output is the other's input): TLS without sockets.  Also: close_notify
 * becomes CLOSED, garbage becomes FAILED with a reason, and a client
 * without the server's CA refuses it.
 */
#include <openssl/buffer.h>
#include <openssl/ssl.h>

#include "common/tlsio.h"
#include "harness.h"
#include "testcert.h"

/* pump: move ciphertext both ways until neither side has any. */
static void
pump(struct tlsio *a, struct tlsio *b)
{
	char buf[65536];
	size_t n;
	int moved;

	do {
		moved = 0;
		while ((n = tlsio_out_take(a, buf, sizeof(buf))) > 0) {
			CHECK_EQ(tlsio_feed(b, buf, n), 0);
			moved = 1;
		}
		while ((n = tlsio_out_take(b, buf, sizeof(buf))) > 0) {
			CHECK_EQ(tlsio_feed(a, buf, n), 0);
			moved = 1;
		}
	} while (moved);
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
	struct tlsio *s = tlsio_new(sctx, 1), *c = tlsio_new(cctx, 0);
	static char big[300000], got[sizeof(big)];
	enum tlsio_rc rc_c, rc_s, rc;
	size_t n, total = 0;

	CHECK(handshake(c, s, &rc_c, &rc_s));
	CHECK_STR(SSL_get_version(tlsio_ssl(c)), "TLSv1.3");

	/* 300 kB client -> server, byte for byte. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 131);
	CHECK_EQ(tlsio_write(c, big, sizeof(big)), 0);
	CHECK(tlsio_out_pending(c) > sizeof(big));
	pump(c, s);
	while ((rc = tlsio_read(s, got + total, sizeof(got) - total, &n)) ==
	    TLSIO_OK)
		total += n;
	CHECK_EQ(rc, TLSIO_AGAIN);
	CHECK_EQ(total, sizeof(big));
	CHECK(memcmp(big, got, sizeof(big)) == 0);

	/* Drained BIOs that grew are replaced by empty ones. */
	{
		BUF_MEM *bm;

		BIO_get_mem_ptr(SSL_get_rbio(tlsio_ssl(s)), &bm);
		CHECK(bm->max > 4096);
		tlsio_trim(s);
		BIO_get_mem_ptr(SSL_get_rbio(tlsio_ssl(s)), &bm);
		CHECK_EQ(bm->max, 0);
		tlsio_trim(c);
		BIO_get_mem_ptr(SSL_get_wbio(tlsio_ssl(c)), &bm);
		CHECK_EQ(bm->max, 0);
	}

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
	s = tlsio_new(sctx, 1);
	CHECK_EQ(tlsio_feed(s, "\x16\x03\x01\x00\x05hello", 10), 0);
	CHECK_EQ(tlsio_handshake(s), TLSIO_FAILED);
	CHECK(strlen(tlsio_error(s)) > 0);
	tlsio_free(s);

	/* A client that does not trust the server's issuer refuses it. */
	s = tlsio_new(sctx, 1);
	c = tlsio_new(octx, 0);
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
	return harness_done("test_tlsio");
}
