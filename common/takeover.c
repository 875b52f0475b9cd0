/* SPDX-License-Identifier: MIT */
/*
 * takeover.c: how a TLS 1.3 connection's records move from OpenSSL to
 * rec13 when its handshake completes, or stay with OpenSSL.
 *
 * The takeover is safe by construction, not by counting (SECURITY.md):
 *  - Sending: OpenSSL's last record is a KeyUpdate, and rec13 seals under
 *    the next traffic secret from sequence number 0.  No key OpenSSL has
 *    sealed under is ever used by rec13, and no sequence number is
 *    carried over from OpenSSL.  The write BIO is then detached: nothing
 *    OpenSSL might still produce has a way out.
 *  - Receiving: the handshake ends at a record boundary, so the peer's
 *    first application record is number 0 under its first secret.  A
 *    server frees OpenSSL at once.  A client keeps it only to read the
 *    session tickets that come first: each record is opened by rec13,
 *    and only one that holds nothing but tickets (which need no answer)
 *    is handed to OpenSSL; the first other record frees OpenSSL.
 *  - The message callback only checks that OpenSSL did as expected
 *    (no record read past the Finished, none written after the
 *    KeyUpdate); if not, OpenSSL keeps the connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/tlsio_impl.h"

static int ex_index = -1; /* the tlsio of an SSL, for the key log */

/* ------------------------------------------------------------ callbacks */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* keylog_cb: keep the application traffic secrets of our connections. */
static void
keylog_cb(const SSL *ssl, const char *line)
{
	static const char *const labels[2] = {
		"CLIENT_TRAFFIC_SECRET_0 ",
		"SERVER_TRAFFIC_SECRET_0 ",
	};
	struct tlsio *t = SSL_get_ex_data(ssl, ex_index);

	for (int i = 0; t != NULL && i < 2; i++) {
		size_t n = 0;
		const char *hex;

		if (strncmp(line, labels[i], strlen(labels[i])) != 0 ||
		    (hex = strchr(line + strlen(labels[i]), ' ')) == NULL)
			continue;
		/* "LABEL <client random> <secret>", both in hex */
		for (hex++; n < REC13_SECRET_MAX && hexval(hex[0]) >= 0 &&
		     hexval(hex[1]) >= 0;
		     hex += 2)
			t->secret[i][n++] = (uint8_t)(hexval(hex[0]) << 4 |
			    hexval(hex[1]));
		t->secret_len[i] = *hex == '\0' ? n : 0;
	}
}

#ifdef DBTLS_NONCE_LEDGER
/* shadow_note: OpenSSL seals a record of its own: into the ledger. */
static void
shadow_note(struct tlsio *t, SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int side = t->server;

	/* Without the key log (no takeover on this context) rec13 never
	 * seals on this connection: OpenSSL's nonces are its own affair. */
	if (SSL_version(ssl) != TLS1_3_VERSION || c == NULL ||
	    (t->shadow.secret_len == 0 && t->secret_len[side] == 0))
		return;
	if (t->shadow.secret_len == 0 &&
	    rec13_init(&t->shadow, 1, SSL_CIPHER_get_protocol_id(c),
		t->secret[side], t->secret_len[side], 0) != 0) {
		fprintf(stderr, "dbtls nonce ledger: out of memory\n");
		abort();
	}
	rec13_note(&t->shadow, "OpenSSL");
}
#endif

/*
 * msg_cb: count the records after each side's Finished (or our
 * KeyUpdate), which takeover_start checks, and note OpenSSL's sealing in
 * ledger builds.  A message is reported after its record's header.
 */
static void
msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
    SSL *ssl, void *arg)
{
	struct tlsio *t = arg;
	const uint8_t *p = buf;

	(void)version;
	if (content_type == SSL3_RT_HEADER && t->finished[write_p]) {
		t->nrec[write_p]++;
#ifdef DBTLS_NONCE_LEDGER
		if (write_p)
			shadow_note(t, ssl);
#endif
	} else if (content_type == SSL3_RT_HANDSHAKE && len > 0) {
		if (p[0] == SSL3_MT_FINISHED) {
			t->finished[write_p] = 1;
			t->nrec[write_p] = 0;
		} else if (p[0] == SSL3_MT_KEY_UPDATE && write_p) {
			t->ku_sent = 1;
			t->nrec[TX] = 0;
#ifdef DBTLS_NONCE_LEDGER
			if (t->shadow.secret_len != 0 &&
			    rec13_update(&t->shadow) != 0)
				abort();
#endif
		}
	}
	(void)ssl;
}

/*
 * The OpenSSL releases the takeover is tested on (scripts/audit.sh runs
 * the tests on each): it relies on the key log callback, the order of
 * message callbacks and OpenSSL reading and writing nothing beyond what
 * it was asked to, which OpenSSL documents only in part.
 */
static const unsigned long tested[] = {
	0x30000110UL, /* 3.0.17 */
	0x30000130UL, /* 3.0.19 */
	0x30000140UL, /* 3.0.20 */
	0x30000160UL, /* 3.0.22 */
};

int
takeover_tested(void)
{
	unsigned long v = OpenSSL_version_num() & ~0xfUL; /* status */

	for (size_t i = 0; i < sizeof(tested) / sizeof(tested[0]); i++)
		if (v == tested[i] && OPENSSL_VERSION_NUMBER >> 20 == v >> 20)
			return 1;
	return 0;
}

void
takeover_install(SSL_CTX *ctx)
{
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
}

int
takeover_installed(const SSL_CTX *ctx)
{
	return SSL_CTX_get_keylog_callback(ctx) == keylog_cb;
}

int
takeover_init(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return ex_index < 0 ? -1 : 0;
}

void
takeover_bind(struct tlsio *t)
{
	SSL_set_ex_data(t->ssl, ex_index, t);
	SSL_set_msg_callback(t->ssl, msg_cb);
	SSL_set_msg_callback_arg(t->ssl, t);
}

/* ------------------------------------------------------------ takeover */

/* max_content: what the peer lets us put in a record (RFC 6066 4). */
static size_t
max_content(SSL *ssl)
{
	SSL_SESSION *sess = SSL_get_session(ssl);
	uint8_t mode = sess ? SSL_SESSION_get_max_fragment_length(sess) : 0;

	if (mode >= TLSEXT_max_fragment_length_512 &&
	    mode <= TLSEXT_max_fragment_length_4096)
		return (size_t)512 << (mode - TLSEXT_max_fragment_length_512);
	return REC13_PLAIN_MAX;
}

/* hand_over: takeover_start's work: 1 taken over, 0 not, -1 lost. */
static int
hand_over(struct tlsio *t)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);
	int own = t->server, peer = !t->server; /* secret[]: 1 server */
	unsigned suite;

	if (SSL_version(t->ssl) != TLS1_3_VERSION || c == NULL ||
	    t->secret_len[own] == 0 || t->secret_len[peer] == 0 ||
	    !t->finished[RX] || t->nrec[RX] != 0 || SSL_has_pending(t->ssl))
		return 0;
	/* OpenSSL's last record: a KeyUpdate.  It then holds the next key
	 * but never seals under it: its write BIO goes below. */
	ERR_clear_error();
	if (SSL_key_update(t->ssl, SSL_KEY_UPDATE_NOT_REQUESTED) != 1) {
		ERR_clear_error();
		return 0;
	}
	/* Writing the KeyUpdate must not have read anything either. */
	if (SSL_do_handshake(t->ssl) != 1 || !t->ku_sent || t->nrec[TX] != 0 ||
	    t->nrec[RX] != 0 || SSL_has_pending(t->ssl)) {
		t->failed = 1;
		tlsio_failed(t, SSL_ERROR_SSL);
		return -1;
	}
	suite = SSL_CIPHER_get_protocol_id(c);
	if (rec13_init(&t->recs[TX], 1, suite, t->secret[own],
		t->secret_len[own], 0) != 0 ||
	    rec13_update(&t->recs[TX]) != 0 ||
	    rec13_init(&t->recs[RX], 0, suite, t->secret[peer],
		t->secret_len[peer], 0) != 0) {
		t->failed = 1;
		snprintf(t->error, sizeof(t->error),
		    "cannot take the records "
		    "over from OpenSSL (out of memory)");
		return -1;
	}
	t->rec[TX] = &t->recs[TX];
	t->rec[RX] = &t->recs[RX];
	t->plain_max = max_content(t->ssl);
	hsmsg_init(&t->hs, !t->server);
	/* OpenSSL has no way out now; and, as it may still read tickets,
	 * it is told it has said goodbye, so that it seals no alert either
	 * (it refuses all but close_notify then). */
	SSL_set0_wbio(t->ssl, NULL);
	SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN);
	t->tickets_open = !t->server;
	return 1;
}

/*
 * takeover_start: when a TLS 1.3 handshake completes, move the records from
 * OpenSSL to rec13 in both directions, or leave them all with OpenSSL.
 * Either way the traffic secrets are wiped.  0, or -1 if the connection
 * is lost (said in t->error).
 */
int
takeover_start(struct tlsio *t)
{
	int rc = hand_over(t);

	OPENSSL_cleanse(t->secret, sizeof(t->secret));
	t->secret_len[0] = t->secret_len[1] = 0;
	return rc < 0 ? -1 : 0;
}

/*
 * takeover_read_tickets: a client hands OpenSSL the records that hold only
 * session tickets, each opened first by rec13 to see; the first other
 * record ends OpenSSL's part.  TLSIO_OK then, or AGAIN or FAILED.
 */
enum tlsio_rc
takeover_read_tickets(struct tlsio *t)
{
	while (t->tickets_open) {
		struct hsmsg hs = t->hs;
		struct hsmsg_result res;
		uint64_t seq = t->rec[RX]->seq;
		const uint8_t *rec;
		size_t len, n, got;
		uint8_t type;
		int r;

		if ((r = tlsio_next_record(t, &rec, &len)) <= 0)
			return r == 0 ? TLSIO_AGAIN : TLSIO_FAILED;
		if (t->plain == NULL &&
		    (t->plain = malloc(REC13_BODY_MAX)) == NULL)
			return tlsio_fail(t, 0, "out of memory");
		r = rec13_open(t->rec[RX], rec, len, t->plain, &n, &type);
		if (r != 0 || type != REC13_HANDSHAKE ||
		    hsmsg_record(&hs, t->plain, n, &res) != 0 ||
		    res.key_update >= 0 || !hsmsg_tickets_only(&hs)) {
			/* Not for OpenSSL: read_own opens it again. */
			OPENSSL_cleanse(t->plain, len - REC13_HEADER);
			t->rec[RX]->seq = seq;
			tlsio_free_ssl(t);
			return TLSIO_OK;
		}
		OPENSSL_cleanse(t->plain, n);
		t->hs = hs;
		t->ossl_allow = len;
		ERR_clear_error();
		r = SSL_read_ex(t->ssl, t->plain, 1, &got);
		if (r == 1 || SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ ||
		    t->ossl_allow != 0)
			return tlsio_fail(t, SSL_AD_INTERNAL_ERROR,
			    "OpenSSL did not take the session ticket");
	}
	return TLSIO_OK;
}
