/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tlsio.c: tlsio after a real TLS 1.3 handshake, in either role,
 * fed records sealed under the peer's real traffic secret (so they get
 * past the MAC to the record and message logic) or raw bytes, in pieces.
 * Input: byte 0 picks the victim (bit 0: the client) and how it is fed;
 * then records: type, padding, 2-byte length, content (type 0xff: the
 * content goes unsealed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)
#define CHECK_EQ(a, b) CHECK((a) == (b))
#include "../unit/testcert.h"
#include "../unit/tlspair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SSL_CTX *cctx, *sctx;

static void
init(void)
{
	EVP_PKEY *skey, *ckey;
	X509 *scert = testcert_make("server", "DNS:localhost", &skey);
	X509 *ccert = testcert_make("client", NULL, &ckey);

	sctx = spied(ctx_new(1, scert, skey, ccert));
	cctx = spied(ctx_new(0, ccert, ckey, scert));
	X509_free(scert);
	X509_free(ccert);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ckey);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[TLSIO_ROOM_MAX];
	struct tlsio *c, *s, *victim;
	struct outbuf *to;
	struct rec13 f;
	size_t off = 1, n;
	int side;

	if (cctx == NULL)
		init();
	if (size < 1)
		return 0;
	side = data[0] & 1; /* 1: the client is the victim */
	pair(cctx, sctx, &c, &s);
	victim = side ? c : s;
	to = side ? &so : &co;
	forger(&f, !side, 1);
	while (off + 4 <= size) {
		uint8_t type = data[off], pad = data[off + 1];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];

		off += 4;
		if (len > size - off)
			len = size - off;
		if (type == 0xff) {
			room_cb(to, len, &n);
			memcpy(to->p + to->len, data + off, len);
			to->len += len;
		} else if (len <= REC13_PLAIN_MAX) {
			forge(&f, to, type, data + off, len, pad);
		}
		off += len;
	}
	/* Feed in pieces of a size the first byte picks, reading all. */
	{
		size_t piece = 1 + ((size_t)(data[0] >> 1) << 6), at = 0;
		enum tlsio_rc rc = TLSIO_OK;

		while (
		    at < to->len && rc != TLSIO_FAILED && rc != TLSIO_CLOSED) {
			size_t k = to->len - at < piece ? to->len - at : piece;

			tlsio_feed(victim, to->p + at, k);
			at += k;
			while ((rc = tlsio_read(victim, buf,
				    data[0] & 0x80 ? 7 : sizeof(buf), &n)) ==
				TLSIO_OK ||
			    rc == TLSIO_CONTROL)
				continue;
			CHECK_EQ(tlsio_feed_end(victim), 0);
		}
		if (rc != TLSIO_FAILED)
			(void)tlsio_write(victim, "back", 4);
		to->len = 0;
	}
	rec13_clear(&f);
	tlsio_free(c);
	tlsio_free(s);
	return 0;
}
