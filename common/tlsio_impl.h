/* SPDX-License-Identifier: MIT */
/*
 * tlsio_impl.h: struct tlsio, shared by tlsio.c (the connection: its
 * input and output, OpenSSL's calls, records of our own) and takeover.c
 * (OpenSSL's callbacks and the handover to rec13).  Not an interface:
 * only those two include it.
 */
#ifndef COMMON_TLSIO_IMPL_H
#define COMMON_TLSIO_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "common/hsmsg.h"
#include "common/rec13.h"
#include "common/tlsin.h"
#include "common/tlsio.h"

/* Change keys well before AES-GCM's limit of 2^24.5 records (RFC 8446 5.5). */
#define REKEY_RECORDS (1ULL << 24)

enum { RX, TX }; /* directions, as OpenSSL's write_p */

struct tlsio {
	SSL *ssl;	      /* NULL once OpenSSL is done */
	struct rec13 *rec[2]; /* a direction taken from OpenSSL */
	struct rec13 recs[2]; /* their storage */
	struct tlsin input;   /* ciphertext lent and kept */
	struct hsmsg hs;      /* the peer's post-handshake messages */
	uint8_t *plain;	      /* opened, not yet read (small caps) */
	size_t plain_off;
	size_t plain_len;
	size_t plain_max;  /* content per record we send */
	size_t ossl_allow; /* input bytes OpenSSL may still read */
	struct tlsio_sink sink;
	/* Until taken over: what OpenSSL tells the callbacks. */
	uint8_t secret[2][REC13_SECRET_MAX]; /* client, server */
	size_t secret_len[2];
	uint64_t nrec[2];     /* records since Finished/KeyUpdate */
	unsigned finished[2]; /* that side's Finished is through */
#ifdef DBTLS_NONCE_LEDGER
	struct rec13 shadow; /* OpenSSL's sending, for the ledger */
#endif
	unsigned server:1;
	unsigned ku_sent:1;	 /* OpenSSL wrote its KeyUpdate */
	unsigned tickets_open:1; /* a client: OpenSSL reads tickets */
	unsigned rx_closed:1;	 /* close_notify received */
	unsigned shut_sent:1;
	unsigned failed:1;
	const char *version; /* set when the handshake completes */
	const char *cipher;
	int resumed;
	char error[384];
};

/* tlsio.c */
enum tlsio_rc tlsio_fail(struct tlsio *t, uint8_t alert, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum tlsio_rc tlsio_failed(struct tlsio *t, int sslerr);
int tlsio_next_record(struct tlsio *t, const uint8_t **rec, size_t *len);
void tlsio_free_ssl(struct tlsio *t);

/* takeover.c */
int takeover_init(void);
void takeover_bind(struct tlsio *t);
int takeover_tested(void);
void takeover_install(SSL_CTX *ctx);
int takeover_installed(const SSL_CTX *ctx);
int takeover_start(struct tlsio *t);
enum tlsio_rc takeover_read_tickets(struct tlsio *t);

#endif
