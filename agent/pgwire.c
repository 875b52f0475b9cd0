/* SPDX-License-Identifier: MIT */
/*
 * pgwire.c: first-packet classification and ErrorResponse construction.
 * Facts encoded: every pre-TLS packet is int32 length (counting itself)
 * then int32 code; SSLRequest and GSSENCRequest are 8 bytes; a TLS record
 * starts 0x16 0x03, which as a length would be far beyond any startup
 * packet, so the two cannot be confused.
 */
#include <string.h>

#include "agent/pgwire.h"

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t
pgwire_sniff(uint8_t buf[8], size_t *have, const uint8_t *p, size_t n,
    enum pg_first *k)
{
	size_t take = 8 - *have;

	if (take > n)
		take = n;
	memcpy(buf + *have, p, take);
	*have += take;
	*k = pgwire_classify(buf, *have);
	return take;
}

enum pg_first
pgwire_classify(const uint8_t *p, size_t n)
{
	uint32_t len, code;

	if (n == 0)
		return PG_NEED_MORE;
	if (p[0] == 0x16) {
		if (n < 2)
			return PG_NEED_MORE;
		return p[1] == 0x03 ? PG_TLS_DIRECT : PG_BAD;
	}
	if (p[0] != 0) /* a length of 16 MiB or more */
		return PG_BAD;
	if (n < 8)
		return PG_NEED_MORE;
	len = be32(p);
	code = be32(p + 4);
	switch (code) {
	case PGWIRE_SSLREQUEST_CODE:
		return len == 8 ? PG_SSLREQUEST : PG_BAD;
	case PGWIRE_GSSENCREQUEST_CODE:
		return len == 8 ? PG_GSSENCREQUEST : PG_BAD;
	case PGWIRE_CANCEL_CODE:
		return len >= PGWIRE_MIN_CANCEL && len <= PGWIRE_MAX_CANCEL ?
		    PG_CANCEL :
		    PG_BAD;
	}
	if (code >> 16 == 3 && len > 8 && len <= PGWIRE_MAX_STARTUP)
		return PG_STARTUP;
	return PG_BAD;
}

const char *
pgwire_first_name(enum pg_first k)
{
	static const char *const names[] = {
		[PG_NEED_MORE] = "a partial packet",
		[PG_SSLREQUEST] = "SSLRequest",
		[PG_GSSENCREQUEST] = "GSSENCRequest",
		[PG_CANCEL] = "CancelRequest",
		[PG_STARTUP] = "StartupMessage",
		[PG_TLS_DIRECT] = "a TLS ClientHello",
		[PG_BAD] = "bytes that are not PostgreSQL",
	};
	return names[k];
}

size_t
pgwire_error(uint8_t *buf, size_t cap, const char *sqlstate, const char *msg)
{
	const char *fields[][2] = {
		{ "S", "FATAL" },
		{ "V", "FATAL" },
		{ "C", sqlstate },
		{ "M", msg },
	};
	size_t n = 5;

	for (size_t i = 0; i < 4; i++)
		n += 1 + strlen(fields[i][1]) + 1;
	n += 1;
	if (n > cap)
		return 0;
	buf[0] = 'E';
	put_be32(buf + 1, (uint32_t)(n - 1));
	n = 5;
	for (size_t i = 0; i < 4; i++) {
		size_t l = strlen(fields[i][1]) + 1;

		buf[n++] = (uint8_t)fields[i][0][0];
		memcpy(buf + n, fields[i][1], l);
		n += l;
	}
	buf[n++] = '\0';
	return n;
}

void
pgwire_sslrequest(uint8_t buf[8])
{
	put_be32(buf, 8);
	put_be32(buf + 4, PGWIRE_SSLREQUEST_CODE);
}
