/* SPDX-License-Identifier: MIT */
/*
 * rec13.c: TLS 1.3 records, sealed and opened.  The key and IV come from
 * the traffic secret by HKDF-Expand-Label (RFC 8446 7.1, 7.3); each
 * record's nonce is the IV XORed with its sequence number (5.3); the
 * header is the additional data and the real content type follows the
 * content inside the encryption (5.2).  Every output length fits in one
 * hash block, so HKDF-Expand is a single HMAC.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "common/ledger.h"
#include "common/rec13.h"

/* expand_label: HKDF-Expand-Label(secret, label, "", len), len <= hash. */
static int
expand_label(const EVP_MD *md, const uint8_t *secret, size_t slen,
    const char *label, uint8_t *out, size_t len)
{
	uint8_t info[2 + 1 + 6 + 32 + 1 + 1], full[EVP_MAX_MD_SIZE];
	size_t ll = strlen(label), i = 0;
	unsigned flen;

	if (ll > 32 || len > (size_t)EVP_MD_get_size(md))
		return -1;
	info[i++] = (uint8_t)(len >> 8);
	info[i++] = (uint8_t)len;
	info[i++] = (uint8_t)(6 + ll);
	memcpy(info + i, "tls13 ", 6);
	i += 6;
	memcpy(info + i, label, ll);
	i += ll;
	info[i++] = 0; /* empty context */
	info[i++] = 1; /* HKDF-Expand's block counter T(1) */
	if (HMAC(md, secret, (int)slen, info, i, full, &flen) == NULL)
		return -1;
	memcpy(out, full, len);
	OPENSSL_cleanse(full, sizeof(full));
	return 0;
}

/* derive: key and IV of the current secret into the cipher context. */
static int
derive(struct rec13 *r, const EVP_CIPHER *cipher)
{
	uint8_t key[32];
	int klen = EVP_CIPHER_CTX_get_key_length(r->ctx), rc = -1;

	if (cipher != NULL) /* else the context's own */
		klen = EVP_CIPHER_get_key_length(cipher);
	if (klen <= 0 || (size_t)klen > sizeof(key) ||
	    expand_label(r->md, r->secret, r->secret_len, "key", key,
		(size_t)klen) != 0 ||
	    expand_label(r->md, r->secret, r->secret_len, "iv", r->iv,
		sizeof(r->iv)) != 0)
		goto out;
	if (EVP_CipherInit_ex(r->ctx, cipher, NULL, key, NULL, r->enc) == 1)
		rc = 0;
#ifdef DBTLS_NONCE_LEDGER
	memcpy(r->key, key, (size_t)klen);
	r->key_len = (size_t)klen;
#endif
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
rec13_prepare(struct rec13 *r, int enc)
{
	memset(r, 0, sizeof(*r));
	if ((r->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(r->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
		enc) != 1) {
		rec13_clear(r);
		return -1;
	}
	return 0;
}

int
rec13_init(struct rec13 *r, int enc, unsigned suite, const uint8_t *secret,
    size_t len, uint64_t seq)
{
	EVP_CIPHER_CTX *ctx = r->ctx; /* from rec13_prepare, or NULL */
	const EVP_CIPHER *cipher, *had;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	switch (suite) {
	case 0x1301:
		cipher = EVP_aes_128_gcm();
		r->md = EVP_sha256();
		break;
	case 0x1302:
		cipher = EVP_aes_256_gcm();
		r->md = EVP_sha384();
		break;
	case 0x1303:
		cipher = EVP_chacha20_poly1305();
		r->md = EVP_sha256();
		break;
	default:
		return -1;
	}
	if (len != (size_t)EVP_MD_get_size(r->md) || len > sizeof(r->secret))
		return -1;
	memcpy(r->secret, secret, len);
	r->secret_len = len;
	r->enc = enc;
	r->seq = seq;
	if (r->ctx == NULL && (r->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	/* Naming the cipher again would free the prepared context. */
	had = EVP_CIPHER_CTX_get0_cipher(r->ctx);
	if (had != NULL &&
	    EVP_CIPHER_get_nid(had) == EVP_CIPHER_get_nid(cipher) &&
	    EVP_CIPHER_CTX_is_encrypting(r->ctx) == enc)
		cipher = NULL;
	return derive(r, cipher);
}

void
rec13_clear(struct rec13 *r)
{
	EVP_CIPHER_CTX_free(r->ctx);
	OPENSSL_cleanse(r, sizeof(*r));
	r->ctx = NULL;
}

int
rec13_update(struct rec13 *r)
{
	uint8_t next[REC13_SECRET_MAX];

	if (r->dead)
		return -1; /* dead for good */
	r->dead = 1;	   /* until the new key and IV are both in */
	if (expand_label(r->md, r->secret, r->secret_len, "traffic upd", next,
		r->secret_len) != 0)
		return -1;
	memcpy(r->secret, next, r->secret_len);
	OPENSSL_cleanse(next, sizeof(next));
	r->seq = 0;
	if (derive(r, NULL) != 0)
		return -1;
	r->dead = 0;
	return 0;
}

/* nonce: the IV XOR the sequence number (RFC 8446 5.3). */
static void
nonce(const struct rec13 *r, uint8_t out[12])
{
	memcpy(out, r->iv, 12);
	for (int i = 0; i < 8; i++)
		out[11 - i] ^= (uint8_t)(r->seq >> (8 * i));
}

/* start: a record's nonce into the context. */
static int
start(struct rec13 *r)
{
	uint8_t iv[12];

	if (r->dead)
		return -1;
	nonce(r, iv);
	return EVP_CipherInit_ex(r->ctx, NULL, NULL, NULL, iv, r->enc) == 1 ?
	    0 :
	    -1;
}

void
rec13_note(struct rec13 *r, const char *who)
{
#ifdef DBTLS_NONCE_LEDGER
	uint8_t iv[12];

	nonce(r, iv);
	ledger_note(r->key, r->key_len, iv, who);
	r->seq++;
#else
	(void)r;
	(void)who;
#endif
}

size_t
rec13_seal(struct rec13 *r, uint8_t type, const void *in, size_t n,
    uint8_t *out)
{
	return rec13_seal_padded(r, type, in, n, 0, out);
}

size_t
rec13_seal_padded(struct rec13 *r, uint8_t type, const void *in, size_t n,
    size_t pad, uint8_t *out)
{
	static const uint8_t zeros[256];
	size_t body = n + 1 + pad + REC13_TAG;
	uint8_t *p = out + REC13_HEADER;
	int l;

	if (n > REC13_PLAIN_MAX || body > REC13_BODY_MAX || start(r) != 0)
		return 0;
#ifdef DBTLS_NONCE_LEDGER
	{
		uint8_t iv[12];

		nonce(r, iv);
		ledger_note(r->key, r->key_len, iv, "rec13");
	}
#endif
	r->seq++; /* the nonce is spent now, whatever happens next */
	out[0] = REC13_APPLICATION_DATA; /* the outer type, always */
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(body >> 8);
	out[4] = (uint8_t)body;
	if (EVP_EncryptUpdate(r->ctx, NULL, &l, out, REC13_HEADER) != 1 ||
	    (n > 0 && EVP_EncryptUpdate(r->ctx, p, &l, in, (int)n) != 1) ||
	    EVP_EncryptUpdate(r->ctx, p + n, &l, &type, 1) != 1)
		goto dead;
	for (size_t done = 0, k; done < pad; done += k) {
		k = pad - done < sizeof(zeros) ? pad - done : sizeof(zeros);
		if (EVP_EncryptUpdate(r->ctx, p + n + 1 + done, &l, zeros,
			(int)k) != 1)
			goto dead;
	}
	if (EVP_EncryptFinal_ex(r->ctx, p + n + 1 + pad, &l) != 1 ||
	    EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_AEAD_GET_TAG, REC13_TAG,
		p + n + 1 + pad) != 1)
		goto dead;
	return REC13_HEADER + body;

dead:
	r->dead = 1; /* a stream with a record missing is over */
	return 0;
}

size_t
rec13_length(const uint8_t *hdr)
{
	size_t body = (size_t)hdr[3] << 8 | hdr[4];

	if (hdr[0] != REC13_APPLICATION_DATA || hdr[1] != 3 || hdr[2] != 3 ||
	    body < 1 + REC13_TAG || body > REC13_BODY_MAX)
		return 0;
	return REC13_HEADER + body;
}

int
rec13_open(struct rec13 *r, const uint8_t *rec, size_t len, uint8_t *out,
    size_t *n, uint8_t *type)
{
	size_t clen = len - REC13_HEADER - REC13_TAG, i;
	uint8_t tag[REC13_TAG];
	int l, l2;

	*n = 0;
	if (rec13_length(rec) != len || start(r) != 0)
		return REC13_FORGED;
	if (clen > REC13_PLAIN_MAX + 1)
		return REC13_OVERFLOW; /* no need to read it */
	memcpy(tag, rec + len - REC13_TAG, sizeof(tag));
	if (EVP_DecryptUpdate(r->ctx, NULL, &l, rec, REC13_HEADER) != 1 ||
	    EVP_DecryptUpdate(r->ctx, out, &l, rec + REC13_HEADER, (int)clen) !=
		1 ||
	    EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_AEAD_SET_TAG, REC13_TAG,
		tag) != 1 ||
	    EVP_DecryptFinal_ex(r->ctx, out + l, &l2) != 1) {
		OPENSSL_cleanse(out, clen); /* no unauthenticated bytes */
		return REC13_FORGED;
	}
	/* The content type is the last non-zero byte; zeros are padding. */
	i = clen;
	while (i > 0 && out[i - 1] == 0)
		i--;
	if (i == 0)
		return REC13_NO_TYPE;
	*type = out[i - 1];
	*n = i - 1;
	r->seq++;
	return 0;
}
