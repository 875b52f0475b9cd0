/* SPDX-License-Identifier: MIT */
/* test_pgwire.c: first-packet classification and ErrorResponse. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>

#include "agent/pgwire.h"
#include "harness.h"

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static enum pg_first
classify2(uint32_t len, uint32_t code, size_t n)
{
	uint8_t p[8];

	be32(p, len);
	be32(p + 4, code);
	return pgwire_classify(p, n);
}

int
main(void)
{
	uint8_t ssl[8], buf[256];
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00 };
	size_t n;

	pgwire_sslrequest(ssl);
	CHECK_EQ(pgwire_classify(ssl, 8), PG_SSLREQUEST);
	/* Every prefix of a valid packet asks for more. */
	for (size_t i = 0; i < 8; i++)
		CHECK_EQ(pgwire_classify(ssl, i), PG_NEED_MORE);
	CHECK_EQ(classify2(8, PGWIRE_GSSENCREQUEST_CODE, 8), PG_GSSENCREQUEST);
	CHECK_EQ(classify2(9, PGWIRE_SSLREQUEST_CODE, 8), PG_BAD);
	CHECK_EQ(classify2(16, PGWIRE_CANCEL_CODE, 8), PG_CANCEL);
	/* PostgreSQL 18 cancel keys run to 256 bytes. */
	CHECK_EQ(classify2(12 + 32, PGWIRE_CANCEL_CODE, 8), PG_CANCEL);
	CHECK_EQ(classify2(12 + 256, PGWIRE_CANCEL_CODE, 8), PG_CANCEL);
	CHECK_EQ(classify2(12 + 257, PGWIRE_CANCEL_CODE, 8), PG_BAD);
	CHECK_EQ(classify2(12, PGWIRE_CANCEL_CODE, 8), PG_BAD);
	CHECK_EQ(classify2(80, 196608, 8), PG_STARTUP); /* 3.0 */
	CHECK_EQ(classify2(80, 196610, 8), PG_STARTUP); /* 3.2 */
	CHECK_EQ(classify2(80, 131072, 8), PG_BAD);	/* 2.0 */
	CHECK_EQ(classify2(PGWIRE_MAX_STARTUP + 1, 196608, 8), PG_BAD);
	CHECK_EQ(classify2(8, 196608, 8), PG_BAD);
	CHECK_EQ(pgwire_classify(hello, 1), PG_NEED_MORE);
	CHECK_EQ(pgwire_classify(hello, 2), PG_TLS_DIRECT);
	CHECK_EQ(pgwire_classify((const uint8_t *)"\x16\x04", 2), PG_BAD);
	CHECK_EQ(pgwire_classify((const uint8_t *)"GET / HTTP/1.1", 14),
	    PG_BAD);
	CHECK_EQ(pgwire_classify((const uint8_t *)"G", 1), PG_BAD);

	n = pgwire_error(buf, sizeof(buf), "28000", "TLS required");
	CHECK(n > 5);
	CHECK_EQ(buf[0], 'E');
	CHECK_EQ((size_t)(buf[1] << 24 | buf[2] << 16 | buf[3] << 8 | buf[4]),
	    n - 1);
	CHECK(memmem(buf, n, "C28000", 7) != NULL);
	CHECK(memmem(buf, n, "MTLS required", 14) != NULL);
	CHECK_EQ(buf[n - 1], 0);
	CHECK_EQ(pgwire_error(buf, 10, "28000", "TLS required"), 0);
	/* Sniffing a first packet that arrives a byte, then the rest. */
	{
		uint8_t req[8], sniff[8], more[12];
		size_t have = 0;
		enum pg_first k;

		pgwire_sslrequest(req);
		memcpy(more, req + 1, 7);
		memcpy(more + 7, "extra", 5);
		CHECK_EQ(pgwire_sniff(sniff, &have, req, 1, &k), 1);
		CHECK_EQ(k, PG_NEED_MORE);
		CHECK_EQ(pgwire_sniff(sniff, &have, more, sizeof(more), &k), 7);
		CHECK_EQ(k, PG_SSLREQUEST);
		CHECK_EQ(have, 8);
		CHECK(memcmp(sniff, req, 8) == 0);
		CHECK_EQ(pgwire_sniff(sniff, &have, more, sizeof(more), &k), 0);
	}
	return harness_done("test_pgwire");
}
