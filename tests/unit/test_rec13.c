/* SPDX-License-Identifier: MIT */
/*
 * test_rec13.c: rec13 against OpenSSL, byte for byte.  Two plain OpenSSL
 * connections handshake in memory (each suite in turn); every record one
 * of them writes (random sizes, random padding from OpenSSL's padding
 * callback, KeyUpdates both ways) must be exactly what rec13 seals from
 * the same secret, sequence number, content and padding, and rec13 must
 * open it.  Then records of random content types, sizes and padding
 * must match a second sealing built from OpenSSL's own TLS 1.3 KDF
 * (EVP_KDF "TLS13-KDF") and AEAD.
 */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include "common/rec13.h"
#include "harness.h"
#include "testcert.h"

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint32_t
next(void)
{
	return harness_rand(&rng);
}

/* ------------------------------------------------------------ OpenSSL */

static uint8_t secrets[2][REC13_SECRET_MAX]; /* client, server: _0 */
static size_t secret_len;
static size_t pads[64]; /* padding OpenSSL was told, per record */
static size_t npads;

static void
keylog(const SSL *ssl, const char *line)
{
	static const char *const labels[2] = {
		"CLIENT_TRAFFIC_SECRET_0 ",
		"SERVER_TRAFFIC_SECRET_0 ",
	};

	(void)ssl;
	for (int i = 0; i < 2; i++) {
		const char *hex;
		unsigned v;
		size_t n = 0;

		if (strncmp(line, labels[i], strlen(labels[i])) != 0)
			continue;
		hex = strchr(line + strlen(labels[i]), ' ') + 1;
		while (n < REC13_SECRET_MAX && sscanf(hex, "%2x", &v) == 1) {
			secrets[i][n++] = (uint8_t)v;
			hex += 2;
		}
		secret_len = n;
	}
}

static size_t
padding_cb(SSL *ssl, int type, size_t len, void *arg)
{
	size_t pad = next() % 300;

	(void)ssl;
	(void)type;
	(void)arg;
	if (len + 1 + pad > REC13_PLAIN_MAX + 1)
		pad = REC13_PLAIN_MAX - len;
	if (npads < sizeof(pads) / sizeof(pads[0]))
		pads[npads++] = pad;
	return pad;
}

static SSL_CTX *
ctx_new(int server, X509 *cert, EVP_PKEY *key, X509 *trust, const char *suite)
{
	SSL_CTX *ctx = SSL_CTX_new(
	    server ? TLS_server_method() : TLS_client_method());

	SSL_CTX_use_certificate(ctx, cert);
	SSL_CTX_use_PrivateKey(ctx, key);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(ctx, suite);
	SSL_CTX_set_keylog_callback(ctx, keylog);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_record_padding_callback(ctx, padding_cb);
	return ctx;
}

/* move: what one side wrote, to the other's input. */
static void
move(SSL *from, SSL *to)
{
	char buf[65536];
	int n;

	while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof(buf))) > 0)
		BIO_write(SSL_get_rbio(to), buf, n);
}

/*
 * compare: w writes `count` records (a KeyUpdate before some), each
 * checked against rec13 sealing the same, and opened by rec13; r reads
 * them so that OpenSSL's state stays in step.
 */
static void
compare(SSL *w, SSL *r, int side, unsigned suite)
{
	static uint8_t data[REC13_PLAIN_MAX],
	    mine[REC13_HEADER + REC13_BODY_MAX],
	    wire[REC13_HEADER + REC13_BODY_MAX], plain[REC13_BODY_MAX],
	    got[REC13_PLAIN_MAX];
	struct rec13 seal, open;
	int records = 0;

	memset(&seal, 0, sizeof(seal));
	memset(&open, 0, sizeof(open));
	CHECK_EQ(rec13_init(&seal, 1, suite, secrets[side], secret_len, 0), 0);
	CHECK_EQ(rec13_init(&open, 0, suite, secrets[side], secret_len, 0), 0);
	for (int i = 0; i < 40; i++) {
		int ku = i % 9 == 4;
		size_t n = 1 + next() % (i % 5 == 0 ? REC13_PLAIN_MAX : 2000);
		uint8_t msg[5] = { 24, 0, 0, 1, 0 }, type;
		size_t len, wlen, k = 0, got_n;
		int m;

		for (size_t j = 0; j < n; j++)
			data[j] = (uint8_t)next();
		npads = 0;
		if (ku)
			CHECK_EQ(
			    SSL_key_update(w, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
		CHECK_EQ(SSL_write(w, data, (int)n), (int)n);
		wlen = (size_t)BIO_read(SSL_get_wbio(w), wire, sizeof(wire));
		BIO_write(SSL_get_rbio(r), wire, (int)wlen); /* all of it */
		CHECK_EQ(npads, ku ? 2 : 1);
		if (ku) {
			/* The KeyUpdate, then the data under the next key. */
			len = rec13_seal_padded(&seal, REC13_HANDSHAKE, msg,
			    sizeof(msg), pads[k++], mine);
			CHECK(len > 0 && len <= wlen &&
			    memcmp(mine, wire, len) == 0);
			CHECK_EQ(
			    rec13_open(&open, wire, len, plain, &got_n, &type),
			    0);
			CHECK(type == REC13_HANDSHAKE && got_n == 5);
			CHECK_EQ(rec13_update(&seal), 0);
			CHECK_EQ(rec13_update(&open), 0);
			memmove(wire, wire + len, wlen - len);
			wlen -= len;
			records++;
		}
		len = rec13_seal_padded(&seal, REC13_APPLICATION_DATA, data, n,
		    pads[k], mine);
		CHECK_EQ(len, wlen);
		CHECK(len > 0 && memcmp(mine, wire, len) == 0);
		CHECK_EQ(rec13_open(&open, wire, len, plain, &got_n, &type), 0);
		CHECK(type == REC13_APPLICATION_DATA && got_n == n &&
		    memcmp(plain, data, n) == 0);
		records++;
		/* The reader took it all, to stay in step. */

		m = SSL_read(r, got, sizeof(got));
		CHECK(m == (int)n && memcmp(got, data, n) == 0);
	}
	CHECK(records > 40);
	rec13_clear(&seal);
	rec13_clear(&open);
}

static void
test_against_openssl(void)
{
	static const struct {
		const char *name;
		unsigned id;
	} suites[] = {
		{ "TLS_AES_128_GCM_SHA256", 0x1301 },
		{ "TLS_AES_256_GCM_SHA384", 0x1302 },
		{ "TLS_CHACHA20_POLY1305_SHA256", 0x1303 },
	};
	EVP_PKEY *skey, *ckey;
	X509 *scert = testcert_make("server", "DNS:localhost", &skey);
	X509 *ccert = testcert_make("client", NULL, &ckey);

	for (int i = 0; i < 3; i++) {
		SSL_CTX *sctx = ctx_new(1, scert, skey, ccert, suites[i].name);
		SSL_CTX *cctx = ctx_new(0, ccert, ckey, scert, suites[i].name);
		SSL *s = SSL_new(sctx), *c = SSL_new(cctx);

		SSL_set_bio(s, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
		SSL_set_bio(c, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
		SSL_set_accept_state(s);
		SSL_set_connect_state(c);
		for (int k = 0; k < 6; k++) {
			SSL_do_handshake(c);
			move(c, s);
			SSL_do_handshake(s);
			move(s, c);
		}
		CHECK(SSL_is_init_finished(c) && SSL_is_init_finished(s));
		CHECK_EQ(secret_len, suites[i].id == 0x1302 ? 48 : 32);
		compare(c, s, 0, suites[i].id);
		compare(s, c, 1, suites[i].id);
		SSL_free(c);
		SSL_free(s);
		SSL_CTX_free(sctx);
		SSL_CTX_free(cctx);
	}
	X509_free(scert);
	X509_free(ccert);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ckey);
}

/* ------------------------------------------------------------ EVP */

/* kdf: OpenSSL's own HKDF-Expand-Label (its TLS 1.3 KDF). */
static void
kdf(const char *md, const uint8_t *secret, size_t slen, const char *label,
    uint8_t *out, size_t len)
{
	EVP_KDF *k = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *kc = EVP_KDF_CTX_new(k);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
		    (char *)md, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
		    (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX,
		    (void *)"tls13 ", 6),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL,
		    (void *)label, strlen(label)),
		OSSL_PARAM_construct_end(),
	};

	CHECK_EQ(EVP_KDF_derive(kc, out, len, params), 1);
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(k);
}

/* reference: one record sealed from first principles (RFC 8446 5.2). */
static size_t
reference(const EVP_CIPHER *cipher, const char *md, const uint8_t *secret,
    size_t slen, uint64_t seq, uint8_t type, const uint8_t *in, size_t n,
    size_t pad, uint8_t *out)
{
	static uint8_t inner[REC13_BODY_MAX];
	uint8_t key[32], iv[12];
	size_t klen = (size_t)EVP_CIPHER_get_key_length(cipher);
	size_t ilen = n + 1 + pad, body = ilen + REC13_TAG;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l;

	kdf(md, secret, slen, "key", key, klen);
	kdf(md, secret, slen, "iv", iv, sizeof(iv));
	for (int i = 0; i < 8; i++)
		iv[11 - i] ^= (uint8_t)(seq >> (8 * i));
	memcpy(inner, in, n);
	inner[n] = type;
	memset(inner + n + 1, 0, pad);
	out[0] = 23;
	out[1] = out[2] = 3;
	out[3] = (uint8_t)(body >> 8);
	out[4] = (uint8_t)body;
	CHECK_EQ(EVP_EncryptInit_ex(c, cipher, NULL, key, iv), 1);
	CHECK_EQ(EVP_EncryptUpdate(c, NULL, &l, out, 5), 1);
	CHECK_EQ(EVP_EncryptUpdate(c, out + 5, &l, inner, (int)ilen), 1);
	CHECK_EQ(EVP_EncryptFinal_ex(c, out + 5 + ilen, &l), 1);
	CHECK_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, REC13_TAG,
		     out + 5 + ilen),
	    1);
	EVP_CIPHER_CTX_free(c);
	return 5 + body;
}

static void
test_against_evp(void)
{
	static uint8_t in[REC13_PLAIN_MAX], a[REC13_HEADER + REC13_BODY_MAX],
	    b[REC13_HEADER + REC13_BODY_MAX];
	const struct {
		unsigned id;
		const EVP_CIPHER *c;
		const char *md;
		size_t slen;
	} suites[] = {
		{ 0x1301, EVP_aes_128_gcm(), "SHA256", 32 },
		{ 0x1302, EVP_aes_256_gcm(), "SHA384", 48 },
		{ 0x1303, EVP_chacha20_poly1305(), "SHA256", 32 },
	};

	for (int i = 0; i < 3; i++) {
		uint8_t secret[48];
		struct rec13 r;
		uint64_t seq = next();

		for (size_t j = 0; j < sizeof(secret); j++)
			secret[j] = (uint8_t)next();
		memset(&r, 0, sizeof(r));
		CHECK_EQ(rec13_init(&r, 1, suites[i].id, secret, suites[i].slen,
			     seq),
		    0);
		for (int k = 0; k < 300; k++) {
			uint8_t type = (uint8_t)(1 + next() % 255);
			size_t n = next() %
			    (k % 10 ? 3000 : REC13_PLAIN_MAX + 1);
			size_t pad = next() % 300, la, lb;

			if (n + 1 + pad > REC13_PLAIN_MAX + 1)
				pad = REC13_PLAIN_MAX - n;
			for (size_t j = 0; j < n; j++)
				in[j] = (uint8_t)next();
			if (k % 50 == 49) { /* a KeyUpdate, both ways */
				uint8_t next_secret[48];

				kdf(suites[i].md, secret, suites[i].slen,
				    "traffic upd", next_secret, suites[i].slen);
				memcpy(secret, next_secret, suites[i].slen);
				CHECK_EQ(rec13_update(&r), 0);
				seq = 0;
			}
			la = rec13_seal_padded(&r, type, in, n, pad, a);
			lb = reference(suites[i].c, suites[i].md, secret,
			    suites[i].slen, seq++, type, in, n, pad, b);
			CHECK(la == lb && la > 0 && memcmp(a, b, la) == 0);
		}
		rec13_clear(&r);
	}
}

int
main(void)
{
	test_against_openssl();
	test_against_evp();
	return harness_done("test_rec13");
}
