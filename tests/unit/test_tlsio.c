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
#include "tlspair.h"

static void
test_offload(SSL_CTX *cctx, SSL_CTX *sctx, SSL_CTX *plain_c, SSL_CTX *plain_s)
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
	SSL_CTX_set_ciphersuites(cctx,
	    "TLS_AES_128_GCM_SHA256:"
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
	SSL_CTX_set_session_cache_mode(cctx,
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
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
	static const char *const bad[][2] = {
		{ "\x17\x03\x03\x41\x11", "over 2^14 + 256" },
		{ "\x15\x03\x03\x00\x02", "an unencrypted record" },
		{ "\x14\x03\x03\x00\x01", "a ChangeCipherSpec record" },
		{ "\x17\x03\x01\x00\x20", "malformed TLS record header" },
		{ "\x17\x03\x03\x00\x10", "malformed TLS record header" },
	};
	for (int i = 0; i < 5; i++) {
		pair(cctx, sctx, &c, &s);
		exchange(c, s, 10, 1 << 20);
		tlsio_feed(s, bad[i][0], 5);
		CHECK_EQ(tlsio_read(s, got, sizeof(got), &n), TLSIO_FAILED);
		CHECK_EQ(tlsio_feed_end(s), 0);
		CHECK_CONTAINS(tlsio_error(s), bad[i][1]);
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
			junk[0] = 0x17; /* a plausible header */
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
