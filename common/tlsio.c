/* SPDX-License-Identifier: MIT */
/*
 * tlsio.c: OpenSSL over a BIO of our own, then, after a TLS 1.3
 * handshake, records of our own.
 *
 * Reads come from the buffer the caller lends (the bytes just read from
 * the socket), through tlsin, which copies only a partial record left at
 * the end.  Writes go straight into the caller's queue.
 *
 * After a TLS 1.3 handshake the records move from OpenSSL to rec13
 * (takeover.c says how, and why no nonce can be used twice).
 * OpenSSL keeps the records too for TLS 1.2, and for OpenSSL versions
 * the takeover was not tested on (tlsio_ctx_init).  On failure the
 * OpenSSL error queue and the verification result become one readable
 * sentence, kept for the caller's log line.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/tlsio_impl.h"

static BIO_METHOD *bio_method;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------ input */

static int
bio_read_cb(BIO *b, char *buf, int len)
{
	struct tlsio *t = BIO_get_data(b);
	size_t n, want = (size_t)len;

	BIO_clear_retry_flags(b);
	/* Once the records are ours, OpenSSL reads only the records of
	 * tickets handed to it (takeover_read_tickets). */
	if (t->rec[RX] != NULL && want > t->ossl_allow)
		want = t->ossl_allow;
	if ((n = tlsin_read(&t->input, buf, want)) > 0) {
		if (t->rec[RX] != NULL)
			t->ossl_allow -= n;
		return (int)n;
	}
	BIO_set_retry_read(b); /* nothing yet: wait, never end of file */
	return -1;
}

/*
 * tlsio_next_record: the next whole record of ours: 1; 0 if it has not fully
 * arrived; -1 on a bad header or no memory, said in t->error.
 */
int
tlsio_next_record(struct tlsio *t, const uint8_t **rec, size_t *len)
{
	const uint8_t *h;

	switch (tlsin_record(&t->input, rec, len)) {
	case TLSIN_RECORD:
		return 1;
	case TLSIN_PARTIAL:
		return 0;
	case TLSIN_BAD_HEADER:
		/* RFC 8446 5: anything but encrypted records is unexpected
		 * after the handshake; 5.2: too long is an overflow. */
		h = *rec;
		if (h[0] == 20)
			tlsio_fail(t, SSL_AD_UNEXPECTED_MESSAGE,
			    "a ChangeCipherSpec record after the handshake");
		else if (h[0] != REC13_APPLICATION_DATA)
			tlsio_fail(t, SSL_AD_UNEXPECTED_MESSAGE,
			    "an "
			    "unencrypted record (type %u) after the handshake",
			    h[0]);
		else if (h[1] == 3 && h[2] == 3 &&
		    ((size_t)h[3] << 8 | h[4]) > REC13_BODY_MAX)
			tlsio_fail(t, SSL_AD_RECORD_OVERFLOW,
			    "a record of %zu "
			    "bytes, over 2^14 + 256",
			    (size_t)h[3] << 8 | h[4]);
		else
			tlsio_fail(t, SSL_AD_DECODE_ERROR,
			    "malformed TLS "
			    "record header %02x %02x %02x %02x %02x",
			    h[0], h[1], h[2], h[3], h[4]);
		return -1;
	default:
		tlsio_fail(t, 0, "out of memory");
		return -1;
	}
}

void
tlsio_feed(struct tlsio *t, const void *p, size_t n)
{
	tlsin_lend(&t->input, p, n);
}

int
tlsio_feed_end(struct tlsio *t)
{
	if (tlsin_end(&t->input) == 0)
		return 0;
	snprintf(t->error, sizeof(t->error), "out of memory");
	return -1;
}

/* ------------------------------------------------------------ output */

/* emit: copy bytes into the sink. */
static int
emit(struct tlsio *t, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		size_t space;
		char *room = t->sink.room(t->sink.arg, 1, &space);

		if (room == NULL)
			return -1;
		if (space > n)
			space = n;
		memcpy(room, s, space);
		t->sink.commit(t->sink.arg, space);
		s += space;
		n -= space;
	}
	return 0;
}

static int
bio_write_cb(BIO *b, const char *buf, int len)
{
	struct tlsio *t = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	/* Once sending is ours the BIO is detached (takeover.c): this is
	 * only a second lock on a door that is already gone. */
	if (t->rec[TX] != NULL || emit(t, buf, (size_t)len) != 0)
		return -1;
	return len;
}

static long
bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr)
{
	struct tlsio *t = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return (long)tlsin_pending(&t->input);
	default:
		return 0;
	}
}

static int key_update(struct tlsio *t);

/*
 * seal: one record of ours into the sink, after a KeyUpdate of ours if
 * the key has sealed its share (whatever the record's type).
 */
static int
/* NOLINTNEXTLINE(misc-no-recursion): one level deep; see key_update */
seal(struct tlsio *t, uint8_t type, const void *p, size_t n)
{
	size_t space, len;
	char *room;

	if (type != REC13_HANDSHAKE && t->rec[TX]->seq >= REKEY_RECORDS &&
	    key_update(t) != 0)
		return -1;
	if ((room = t->sink.room(t->sink.arg, n + REC13_OVERHEAD, &space)) ==
	    NULL)
		return -1;
	if ((len = rec13_seal(t->rec[TX], type, p, n, (uint8_t *)room)) == 0)
		return -1;
	t->sink.commit(t->sink.arg, len);
	return 0;
}

/*
 * key_update: tell the peer, then send under the next key.  Its seal() of
 * a handshake record never calls it again: the recursion is one level.
 */
static int
/* NOLINTNEXTLINE(misc-no-recursion): one level deep, as said above */
key_update(struct tlsio *t)
{
	static const uint8_t msg[] = { 24, 0, 0, 1, 0 }; /* not requested */

	if (seal(t, REC13_HANDSHAKE, msg, sizeof(msg)) != 0 ||
	    rec13_update(t->rec[TX]) != 0)
		return -1;
	return 0;
}

static void
init_once(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "dbtls");

	if (takeover_init() != 0 || m == NULL ||
	    !BIO_meth_set_read(m, bio_read_cb) ||
	    !BIO_meth_set_write(m, bio_write_cb) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl_cb)) {
		BIO_meth_free(m);
		return;
	}
	bio_method = m;
}

/* ----------------------------------------------------- OpenSSL's end */

/*
 * tlsio_free_ssl: free OpenSSL's connection.  OpenSSL takes one freed without
 * its own close_notify for one cut short and stops resuming its session;
 * once the records are ours (marked as said goodbye at the takeover), a
 * failure while OpenSSL is still here says so explicitly.  (A session
 * ticket taken before a later failure stays good: RFC 8446 does not tie
 * a ticket to the connection's end.)
 */
void
tlsio_free_ssl(struct tlsio *t)
{
	SSL_SESSION *sess;

	if (t->ssl != NULL && t->rec[TX] != NULL && !t->failed)
		SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN);
	if (t->ssl != NULL && t->failed &&
	    (sess = SSL_get_session(t->ssl)) != NULL)
		(void)SSL_CTX_remove_session(SSL_get_SSL_CTX(t->ssl), sess);
	SSL_free(t->ssl);
	t->ssl = NULL;
	t->tickets_open = 0;
}

/* release: free OpenSSL's connection once nothing needs it. */
static void
release(struct tlsio *t)
{
	if (t->rec[TX] != NULL && !t->tickets_open)
		tlsio_free_ssl(t);
}

/* ------------------------------------------------------------ api */

int
tlsio_takeover_tested(void)
{
	return takeover_tested();
}

int
tlsio_ctx_init(SSL_CTX *ctx)
{
	if (!takeover_tested())
		return -1;
	takeover_install(ctx);
	return 0;
}

struct tlsio *
tlsio_new(SSL_CTX *ctx, int server, const struct tlsio_sink *sink)
{
	struct tlsio *t;
	BIO *b;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->sink = *sink;
	t->server = server != 0;
	t->plain_max = REC13_PLAIN_MAX;
	pthread_once(&once, init_once);
	if (bio_method == NULL || (t->ssl = SSL_new(ctx)) == NULL ||
	    (b = BIO_new(bio_method)) == NULL) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	BIO_set_data(b, t);
	BIO_set_init(b, 1);
	SSL_set_bio(t->ssl, b, b); /* SSL owns it now */
	takeover_bind(t);
	if (takeover_installed(ctx)) {
		(void)rec13_prepare(&t->recs[RX], 0);
		(void)rec13_prepare(&t->recs[TX], 1);
	}
	if (server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	return t;
}

void
tlsio_free(struct tlsio *t)
{
	if (t == NULL)
		return;
	tlsio_free_ssl(t);
	rec13_clear(&t->recs[RX]);
	rec13_clear(&t->recs[TX]);
#ifdef DBTLS_NONCE_LEDGER
	rec13_clear(&t->shadow);
#endif
	tlsin_clear(&t->input);
	free(t->plain);
	OPENSSL_cleanse(t->secret, sizeof(t->secret));
	free(t);
}

SSL *
tlsio_ssl(struct tlsio *t)
{
	return t->ssl;
}

void
tlsio_describe(const struct tlsio *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s resumed=%s records=%s",
	    t->version ? t->version : "-", t->cipher ? t->cipher : "-",
	    t->resumed ? "yes" : "no",
	    tlsio_offloaded(t) ? "dbtls" : "openssl");
}

int
tlsio_offloaded(const struct tlsio *t)
{
	return t->rec[TX] != NULL && t->rec[RX] != NULL;
}

/* tlsio_failed: turn OpenSSL's error state into a sentence in t->error. */
enum tlsio_rc
tlsio_failed(struct tlsio *t, int sslerr)
{
	long vr = SSL_get_verify_result(t->ssl);
	char q[256];
	int n = 0;

	log_openssl_errors(q, sizeof(q));
	if (vr != X509_V_OK)
		n = snprintf(t->error, sizeof(t->error),
		    "certificate verify failed: %s; ",
		    X509_verify_cert_error_string(vr));
	if (n < 0 || (size_t)n >= sizeof(t->error))
		n = 0;
	if (q[0] != '\0')
		snprintf(t->error + n, sizeof(t->error) - (size_t)n, "%s", q);
	else if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_SSL)
		snprintf(t->error + n, sizeof(t->error) - (size_t)n,
		    "protocol error");
	else
		snprintf(t->error + n, sizeof(t->error) - (size_t)n,
		    "SSL error %d", sslerr);
	return TLSIO_FAILED;
}

/* tlsio_fail: our own records went wrong: say why, tell the peer if we can. */
enum tlsio_rc
tlsio_fail(struct tlsio *t, uint8_t alert, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
	if (!t->failed && alert != 0 && t->rec[TX] != NULL && !t->shut_sent) {
		const uint8_t msg[2] = { 2, alert }; /* fatal */

		(void)seal(t, REC13_ALERT, msg, sizeof(msg));
		t->shut_sent = 1;
	}
	t->failed = 1;
	return TLSIO_FAILED;
}

static enum tlsio_rc
classify(struct tlsio *t, int ret)
{
	int e = SSL_get_error(t->ssl, ret);

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return TLSIO_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return TLSIO_CLOSED;
	default:
		t->failed = 1;
		return tlsio_failed(t, e);
	}
}

enum tlsio_rc
tlsio_handshake(struct tlsio *t)
{
	int ret;

	if (t->ssl == NULL)
		return TLSIO_OK;
	ERR_clear_error();
	if ((ret = SSL_do_handshake(t->ssl)) != 1)
		return classify(t, ret);
	t->version = SSL_get_version(t->ssl);
	t->cipher = SSL_get_cipher_name(t->ssl);
	t->resumed = SSL_session_reused(t->ssl);
	return takeover_start(t) == 0 ? TLSIO_OK : TLSIO_FAILED;
}

/* post_handshake: one handshake record's messages, in our records. */
static enum tlsio_rc
post_handshake(struct tlsio *t, const uint8_t *p, size_t n)
{
	struct hsmsg_result res;

	if (hsmsg_record(&t->hs, p, n, &res) != 0)
		return tlsio_fail(t, res.alert, "%s", res.why);
	if (res.key_update < 0)
		return TLSIO_OK; /* tickets: we keep the first only */
	/* The last message before the peer's key changes.  If a change
	 * fails, no alert: a dead direction seals nothing (rec13.h). */
	if (rec13_update(t->rec[RX]) != 0 ||
	    (res.key_update == 1 && !t->shut_sent && key_update(t) != 0))
		return tlsio_fail(t, 0, "KeyUpdate failed (out of memory)");
	return TLSIO_OK;
}

/* opened: why rec13_open refused a record, as the alert it calls for. */
static enum tlsio_rc
refused(struct tlsio *t, int r)
{
	switch (r) {
	case REC13_OVERFLOW:
		return tlsio_fail(t, SSL_AD_RECORD_OVERFLOW,
		    "a record whose "
		    "inner plaintext is over 2^14 + 1 bytes");
	case REC13_NO_TYPE:
		return tlsio_fail(t, SSL_AD_UNEXPECTED_MESSAGE,
		    "a record of "
		    "padding only, with no content type");
	default:
		return tlsio_fail(t, SSL_AD_BAD_RECORD_MAC,
		    "bad record MAC or "
		    "malformed record: data forged or damaged");
	}
}

/* read_own: open our records until content is found for p. */
static enum tlsio_rc
read_own(struct tlsio *t, uint8_t *p, size_t cap, size_t *got)
{
	for (;;) {
		const uint8_t *rec;
		uint8_t *out, type;
		size_t len, n;
		enum tlsio_rc rc;
		int r;

		/* plain_len counts bytes in plain, never set without it */
		if (t->plain_len > 0 && t->plain != NULL) {
			n = t->plain_len < cap ? t->plain_len : cap;
			memcpy(p, t->plain + t->plain_off, n);
			t->plain_off += n;
			t->plain_len -= n;
			*got = n;
			return TLSIO_OK;
		}
		if (t->rx_closed)
			return TLSIO_CLOSED;
		if (t->failed)
			return TLSIO_FAILED;
		if ((r = tlsio_next_record(t, &rec, &len)) <= 0)
			return r == 0 ? TLSIO_AGAIN : TLSIO_FAILED;
		out = p;
		if (cap < len - REC13_HEADER - REC13_TAG) {
			if (t->plain == NULL &&
			    (t->plain = malloc(REC13_BODY_MAX)) == NULL)
				return tlsio_fail(t, 0, "out of memory");
			out = t->plain;
		}
		r = rec13_open(t->rec[RX], rec, len, out, &n, &type);
		tlsin_drop(&t->input, len);
		if (r != 0)
			return refused(t, r);
		if (type != REC13_HANDSHAKE && hsmsg_busy(&t->hs))
			return tlsio_fail(t, SSL_AD_UNEXPECTED_MESSAGE,
			    "a record of type %u inside a handshake message",
			    type);
		if (n > t->plain_max)
			return tlsio_fail(t, SSL_AD_RECORD_OVERFLOW,
			    "a record "
			    "of %zu bytes, over the %zu negotiated",
			    n, t->plain_max);
		switch (type) {
		case REC13_APPLICATION_DATA:
			if (n == 0)
				continue;
			if (out == p) {
				*got = n;
				return TLSIO_OK;
			}
			t->plain_off = 0;
			t->plain_len = n;
			continue;
		case REC13_ALERT:
			if (n != 2)
				return tlsio_fail(t, SSL_AD_DECODE_ERROR,
				    "malformed alert");
			if (out[1] == SSL_AD_CLOSE_NOTIFY) {
				t->rx_closed = 1;
				continue;
			}
			return tlsio_fail(t, 0, "peer sent alert: %s",
			    SSL_alert_desc_string_long(out[1]));
		case REC13_HANDSHAKE:
			if ((rc = post_handshake(t, out, n)) != TLSIO_OK)
				return rc;
			continue;
		case REC13_PRIVATE:
			if (n != 1 || cap == 0)
				return tlsio_fail(t, SSL_AD_DECODE_ERROR,
				    "malformed control record");
			if (out != p)
				*p = out[0];
			*got = 1;
			return TLSIO_CONTROL;
		default:
			return tlsio_fail(t, SSL_AD_UNEXPECTED_MESSAGE,
			    "unexpected record type %u", type);
		}
	}
}

enum tlsio_rc
tlsio_read(struct tlsio *t, void *p, size_t cap, size_t *got)
{
	enum tlsio_rc rc;

	*got = 0;
	if (t->rec[RX] == NULL) {
		int ret;

		ERR_clear_error();
		ret = SSL_read_ex(t->ssl, p, cap, got);
		return ret == 1 ? TLSIO_OK : classify(t, ret);
	}
	if (t->failed)
		return TLSIO_FAILED;
	if ((rc = takeover_read_tickets(t)) != TLSIO_OK)
		return rc;
	release(t);
	if (cap > 0 && t->plain != NULL && t->plain_len == 0) {
		free(t->plain); /* idle connections hold no buffer */
		t->plain = NULL;
	}
	return read_own(t, p, cap, got);
}

int
tlsio_write(struct tlsio *t, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t done;

	if (n == 0)
		return 0;
	if (t->rec[TX] == NULL) {
		ERR_clear_error();
		if (SSL_write_ex(t->ssl, p, n, &done) != 1 || done != n) {
			tlsio_failed(t, SSL_ERROR_SSL);
			return -1;
		}
		return 0;
	}
	release(t);
	if (t->failed || t->shut_sent) {
		snprintf(t->error, sizeof(t->error), "write after %s",
		    t->failed ? "a failure" : "close_notify");
		return -1;
	}
	while (n > 0) {
		size_t take = n < t->plain_max ? n : t->plain_max;

		if (seal(t, REC13_APPLICATION_DATA, s, take) != 0) {
			tlsio_fail(t, 0,
			    "cannot seal a record (out of "
			    "memory)");
			return -1;
		}
		s += take;
		n -= take;
	}
	return 0;
}

int
tlsio_control(struct tlsio *t, uint8_t code)
{
	if (t->rec[TX] == NULL || t->failed || t->shut_sent) {
		snprintf(t->error, sizeof(t->error),
		    "cannot send a control "
		    "record");
		return -1;
	}
	if (seal(t, REC13_PRIVATE, &code, 1) != 0) {
		tlsio_fail(t, 0,
		    "cannot seal a control record (out of "
		    "memory)");
		return -1;
	}
	return 0;
}

void
tlsio_shutdown(struct tlsio *t)
{
	static const uint8_t close_notify[2] = { 1, SSL_AD_CLOSE_NOTIFY };

	if (t->rec[TX] != NULL) {
		if (!t->shut_sent && !t->failed)
			(void)seal(t, REC13_ALERT, close_notify,
			    sizeof(close_notify));
		t->shut_sent = 1;
		return;
	}
	ERR_clear_error();
	if (!t->failed && !(SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
		(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}

int
tlsio_peer_closed(const struct tlsio *t)
{
	if (t->rec[RX] != NULL)
		return t->rx_closed;
	return t->ssl != NULL &&
	    (SSL_get_shutdown(t->ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

const char *
tlsio_error(const struct tlsio *t)
{
	return t->error;
}
