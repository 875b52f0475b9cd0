/* SPDX-License-Identifier: MIT */
/*
 * rec13.h: TLS 1.3 record protection (RFC 8446 section 5) for one
 * direction of a connection whose handshake OpenSSL has finished: what
 * Linux's kernel TLS does, in user space.  It seals and opens whole
 * records with OpenSSL's AEAD ciphers and knows nothing of handshakes,
 * certificates or sockets.  About 1 KiB per direction, where an OpenSSL
 * connection keeps about 30 KiB.
 */
#ifndef COMMON_REC13_H
#define COMMON_REC13_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define REC13_HEADER	 5
#define REC13_TAG	 16
#define REC13_OVERHEAD	 (REC13_HEADER + 1 + REC13_TAG)
#define REC13_PLAIN_MAX	 16384	       /* content per record */
#define REC13_BODY_MAX	 (16384 + 256) /* ciphertext after header */
#define REC13_SECRET_MAX 48

#define REC13_APPLICATION_DATA 23
#define REC13_ALERT	       21
#define REC13_HANDSHAKE	       22
#define REC13_PRIVATE	       224 /* first of 224-255, private use */

struct rec13 {
	EVP_CIPHER_CTX *ctx;
	const EVP_MD *md;
	uint8_t secret[REC13_SECRET_MAX];
	size_t secret_len;
	uint8_t iv[12];
	uint64_t seq; /* records sealed or opened so far */
	int enc;
	int dead; /* a key change failed: seals nothing */
#ifdef DBTLS_NONCE_LEDGER
	uint8_t key[32]; /* for the ledger's notes */
	size_t key_len;
#endif
};

/*
 * rec13_prepare(r, enc): allocate r's cipher context now, for AES-256-GCM
 * (the suite OpenSSL prefers), so that a long-lived connection's state
 * is not scattered among what its handshake frees.  0 or -1; optional.
 */
int rec13_prepare(struct rec13 *r, int enc);

/*
 * rec13_init(r, enc, suite, secret, len, seq): set r (zeroed, or
 * prepared) up to seal (enc 1) or open (enc 0) records of cipher suite
 * `suite` (0x1301, 0x1302 or 0x1303) under the traffic secret, starting
 * at sequence number seq.  Returns 0, or -1 for an unsupported suite or
 * no memory.  rec13_clear() releases and wipes r in either case.
 */
int rec13_init(struct rec13 *r, int enc, unsigned suite, const uint8_t *secret,
    size_t len, uint64_t seq);
void rec13_clear(struct rec13 *r);

/*
 * rec13_update(r): the next traffic secret (KeyUpdate).  0, or -1: then
 * r is dead (its key and nonce are half changed) and seals and opens
 * nothing more, so that no half-changed state can reuse a nonce.
 */
int rec13_update(struct rec13 *r);

/*
 * rec13_seal(r, type, in, n, out): write one record carrying n <=
 * REC13_PLAIN_MAX bytes of content type `type` to out, which has room
 * for n + REC13_OVERHEAD bytes.  Returns that length, or 0 on failure.
 */
size_t rec13_seal(struct rec13 *r, uint8_t type, const void *in, size_t n,
    uint8_t *out);

/*
 * rec13_seal_padded(r, type, in, n, pad, out): the same with pad zero
 * bytes after the content type, up to a record of REC13_BODY_MAX.  Pad
 * beyond REC13_PLAIN_MAX + 1 bytes of inner plaintext breaks RFC 8446
 * 5.4: only tests do that, to see it refused.
 */
size_t rec13_seal_padded(struct rec13 *r, uint8_t type, const void *in,
    size_t n, size_t pad, uint8_t *out);

/*
 * rec13_note(r): in a DBTLS_NONCE_LEDGER build, note the (key, nonce)
 * pair of r's next record as sealed by someone else (OpenSSL, whose
 * records r shadows) and advance r; a no-op otherwise.
 */
void rec13_note(struct rec13 *r, const char *who);

/*
 * rec13_length(hdr): the whole length of the record whose 5-byte header
 * is hdr, or 0 if the header is not one a TLS 1.3 peer may send after
 * its handshake (wrong type or version, too short or too long).
 */
size_t rec13_length(const uint8_t *hdr);

/*
 * rec13_open(r, rec, len, out, &n, &type): authenticate and decrypt the
 * whole record rec (len from rec13_length) into out, which has room for
 * len - REC13_HEADER - REC13_TAG bytes; *n is the content's length and
 * *type its type.  Returns 0, or what is wrong, for its alert:
 * REC13_FORGED (forged or damaged: bad_record_mac), REC13_OVERFLOW
 * (inner plaintext over 2^14 + 1 bytes: record_overflow), REC13_NO_TYPE
 * (all zeros: unexpected_message).  Only 0 advances r.
 */
enum { REC13_FORGED = -1, REC13_OVERFLOW = -2, REC13_NO_TYPE = -3 };
int rec13_open(struct rec13 *r, const uint8_t *rec, size_t len, uint8_t *out,
    size_t *n, uint8_t *type);

#endif
