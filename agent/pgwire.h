/* SPDX-License-Identifier: MIT */
/*
 * pgwire.h: the little of the PostgreSQL wire protocol a tunnel needs
 * before TLS is up: what the first packet of a connection is, and how to
 * refuse one.  Pure functions over bytes, so they can be tested and fuzzed
 * without sockets.
 */
#ifndef AGENT_PGWIRE_H
#define AGENT_PGWIRE_H

#include <stddef.h>
#include <stdint.h>

#define PGWIRE_SSLREQUEST_CODE	  80877103u
#define PGWIRE_GSSENCREQUEST_CODE 80877104u
#define PGWIRE_CANCEL_CODE	  80877102u
#define PGWIRE_MAX_STARTUP	  10000u /* as PostgreSQL's own cap */
/* Cancel: 12 bytes then the key; PostgreSQL 18 keys run to 256 bytes. */
#define PGWIRE_MIN_CANCEL	  16u
#define PGWIRE_MAX_CANCEL	  (12u + 256u)

enum pg_first {
	PG_NEED_MORE,	  /* too few bytes to tell */
	PG_SSLREQUEST,	  /* 8 bytes: asks for TLS */
	PG_GSSENCREQUEST, /* 8 bytes: asks for GSSAPI encryption */
	PG_CANCEL,	  /* a CancelRequest */
	PG_STARTUP,	  /* a v3 StartupMessage */
	PG_TLS_DIRECT,	  /* a TLS record: PostgreSQL 17 direct TLS */
	PG_BAD,		  /* none of these: not PostgreSQL */
};

/*
 * pgwire_classify(p, n): what the first packet of a connection, of which
 * the n bytes at p have arrived, is.  Decides as early as the bytes allow.
 */
enum pg_first pgwire_classify(const uint8_t *p, size_t n);

/*
 * pgwire_sniff(buf, have, p, n, &k): gather a connection's first packet
 * into buf (8 bytes, *have of them filled): take from the n bytes at p
 * what buf lacks, classify buf into *k, and return how many were taken.
 */
size_t pgwire_sniff(uint8_t buf[8], size_t *have, const uint8_t *p, size_t n,
    enum pg_first *k);

/* pgwire_first_name(k): "SSLRequest", "StartupMessage", ... for logs. */
const char *pgwire_first_name(enum pg_first k);

/*
 * pgwire_error(buf, cap, sqlstate, msg): write a FATAL ErrorResponse into
 * buf; returns its length, or 0 if cap is too small.
 */
size_t pgwire_error(uint8_t *buf, size_t cap, const char *sqlstate,
    const char *msg);

/* pgwire_sslrequest(buf): write the 8-byte SSLRequest into buf. */
void pgwire_sslrequest(uint8_t buf[8]);

#endif
