/* SPDX-License-Identifier: MIT */
/*
 * test_robust.c: hostile input, many times over, under the sanitizers in
 * CI: random first packets to the PostgreSQL classifier, random
 * ciphertext to a TLS server, and randomly damaged configs.  Each must be
 * answered (a verdict, a failure, an error naming file and line), never
 * crash or leak.  A fixed seed keeps a failure reproducible.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/ssl.h>

#include "common/cfg.h"
#include "common/tlsio.h"
#include "agent/pgwire.h"
#include "harness.h"
#include "testcert.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
next(void)
{
	return harness_rand(&rng);
}

/* A sink that throws ciphertext away. */
static char *
discard_room(void *arg, size_t min, size_t *space)
{
	static char bin[TLSIO_ROOM_MAX];

	(void)arg;
	(void)min;
	*space = sizeof(bin);
	return bin;
}

static void
discard_commit(void *arg, size_t n)
{
	(void)arg;
	(void)n;
}

static const struct tlsio_sink discard = { discard_room, discard_commit, NULL };

static const char good[] =
    "tls = { cert = \"/c\"; key = \"/k\"; ca = \"/a\"; };\n"
    "tunnels = ( { name = \"s\"; mode = \"server\"; protocol = "
    "\"postgresql\";\n listen = \"127.0.0.1:7432\"; connect = "
    "\"unix:/run/pg.sock\";\n allow = { cn = [ \"app1\" ]; }; } );\n";

int
main(void)
{
	uint8_t buf[512];
	int verdicts[PG_BAD + 1] = { 0 }, tls_failed = 0, cfg_ok = 0;
	EVP_PKEY *key;
	X509 *cert = testcert_make("server", NULL, &key);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	SSL_CTX_use_certificate(ctx, cert);
	SSL_CTX_use_PrivateKey(ctx, key);

	/* First packets: a verdict for every input. */
	for (int i = 0; i < 200000; i++) {
		size_t n = next() % 16;
		enum pg_first k;

		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)next();
		if (i % 3 == 0 && n >= 2)
			buf[0] = 0; /* plausible lengths too */
		k = pgwire_classify(buf, n);
		CHECK(k >= PG_NEED_MORE && k <= PG_BAD);
		verdicts[k]++;
	}

	/* Ciphertext: random records to a server, in random pieces. */
	for (int i = 0; i < 300; i++) {
		struct tlsio *t = tlsio_new(ctx, 1, &discard);
		enum tlsio_rc rc = TLSIO_AGAIN;

		for (int piece = 0; piece < 8 && rc == TLSIO_AGAIN; piece++) {
			size_t n = next() % sizeof(buf);

			for (size_t j = 0; j < n; j++)
				buf[j] = (uint8_t)next();
			if (piece == 0 && n >= 3) { /* look like TLS */
				buf[0] = 0x16;
				buf[1] = 0x03;
				buf[2] = (uint8_t)(next() % 4);
			}
			tlsio_feed(t, buf, n);
			rc = tlsio_handshake(t);
			CHECK_EQ(tlsio_feed_end(t), 0);
		}
		CHECK(rc == TLSIO_AGAIN || rc == TLSIO_FAILED);
		tls_failed += rc == TLSIO_FAILED;
		tlsio_free(t);
	}

	/* Configs: damaged copies of a good one. */
	for (int i = 0; i < 3000; i++) {
		char text[sizeof(good)], err[512];
		struct cfg *c;

		memcpy(text, good, sizeof(good));
		for (int f = 0; f < 1 + (int)(next() % 3); f++)
			text[next() % (sizeof(good) - 1)] = (char)(32 +
			    next() % 95);
		err[0] = '\0';
		c = cfg_load_string(text, "agent.conf", err, sizeof(err));
		CHECK(c != NULL || strncmp(err, "agent.conf:", 11) == 0);
		cfg_ok += c != NULL;
		cfg_free(c);
	}

	/* The inputs reached the interesting outcomes, not one of them. */
	printf("classifier: %d need-more, %d startup, %d bad; TLS: %d of 300 "
	       "failed; configs: %d of 3000 still loaded\n",
	    verdicts[PG_NEED_MORE], verdicts[PG_STARTUP], verdicts[PG_BAD],
	    tls_failed, cfg_ok);
	CHECK(verdicts[PG_NEED_MORE] > 0 && verdicts[PG_BAD] > 0);
	CHECK(tls_failed > 200);
	CHECK(cfg_ok > 0 && cfg_ok < 3000);
	SSL_CTX_free(ctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	return harness_done("test_robust");
}
