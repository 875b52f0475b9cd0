/* SPDX-License-Identifier: MIT */
/*
 * tlsio.c: OpenSSL over a BIO of our own.  Reads come from the buffer the
 * caller lends (the bytes just read from the socket), and only a partial
 * record left at the end is copied, into a "spill" buffer that exists only
 * while it holds bytes.  Writes go straight to the caller's callback.
 * An idle connection so holds no I/O buffer here at all, and bulk data is
 * copied once less each way than with memory BIOs.  On failure the
 * OpenSSL error queue and the verification result become one readable
 * sentence, kept for the caller's log line.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/tlsio.h"

struct tlsio {
	SSL		*ssl;
	const uint8_t	*in;		/* lent by tlsio_feed */
	size_t		 in_len;
	uint8_t		*spill;		/* unread bytes kept across feeds */
	size_t		 spill_off;
	size_t		 spill_len;
	int		 lost;		/* a loan could not be kept */
	tlsio_out_fn	 out;
	void		*out_arg;
	char		 error[384];
};

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int
bio_read_cb(BIO *b, char *buf, int len)
{
	struct tlsio *t = BIO_get_data(b);
	size_t n, want = (size_t)len;

	BIO_clear_retry_flags(b);
	if (t->spill_len > 0) {
		n = t->spill_len < want ? t->spill_len : want;
		memcpy(buf, t->spill + t->spill_off, n);
		t->spill_off += n;
		t->spill_len -= n;
		if (t->spill_len == 0) {
			free(t->spill);
			t->spill = NULL;
			t->spill_off = 0;
		}
		return (int)n;
	}
	if (t->in_len > 0) {
		n = t->in_len < want ? t->in_len : want;
		memcpy(buf, t->in, n);
		t->in += n;
		t->in_len -= n;
		return (int)n;
	}
	BIO_set_retry_read(b);	/* nothing yet: wait, never end of file */
	return -1;
}

static int
bio_write_cb(BIO *b, const char *buf, int len)
{
	struct tlsio *t = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (t->out(t->out_arg, buf, (size_t)len) != 0)
		return -1;
	return len;
}

static long
bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr)
{
	struct tlsio *t = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return (long)(t->spill_len + t->in_len);
	case BIO_CTRL_WPENDING:
		return 0;
	default:
		return 0;
	}
}

static void
method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "dbtls");

	if (m == NULL || !BIO_meth_set_read(m, bio_read_cb) ||
	    !BIO_meth_set_write(m, bio_write_cb) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl_cb)) {
		BIO_meth_free(m);
		return;
	}
	bio_method = m;
}

struct tlsio *
tlsio_new(SSL_CTX *ctx, int server, tlsio_out_fn out, void *arg)
{
	struct tlsio *t;
	BIO *b;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->out = out;
	t->out_arg = arg;
	pthread_once(&bio_once, method_init);
	if (bio_method == NULL || (t->ssl = SSL_new(ctx)) == NULL ||
	    (b = BIO_new(bio_method)) == NULL) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	BIO_set_data(b, t);
	BIO_set_init(b, 1);
	SSL_set_bio(t->ssl, b, b);	/* SSL owns it now */
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
	SSL_free(t->ssl);
	free(t->spill);
	free(t);
}

SSL *
tlsio_ssl(struct tlsio *t)
{
	return t->ssl;
}

/* keep: append bytes to the spill buffer. */
static int
keep(struct tlsio *t, const uint8_t *p, size_t n)
{
	uint8_t *s;

	if (n == 0)
		return 0;
	if (t->spill_off > 0) {		/* compact before growing */
		memmove(t->spill, t->spill + t->spill_off, t->spill_len);
		t->spill_off = 0;
	}
	if ((s = realloc(t->spill, t->spill_len + n)) == NULL) {
		snprintf(t->error, sizeof(t->error), "out of memory");
		return -1;
	}
	memcpy(s + t->spill_len, p, n);
	t->spill = s;
	t->spill_len += n;
	return 0;
}

void
tlsio_feed(struct tlsio *t, const void *p, size_t n)
{
	/* A second loan before the first is used up: keep the first, or
	 * remember that bytes were lost so tlsio_feed_end() fails. */
	if (t->in_len > 0 && keep(t, t->in, t->in_len) != 0)
		t->lost = 1;
	t->in = p;
	t->in_len = n;
}

int
tlsio_feed_end(struct tlsio *t)
{
	int rc = keep(t, t->in, t->in_len);

	t->in = NULL;
	t->in_len = 0;
	return rc != 0 || t->lost ? -1 : 0;
}

/* failed: turn the error state into a sentence in t->error. */
static enum tlsio_rc
failed(struct tlsio *t, int sslerr)
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
		return failed(t, e);
	}
}

enum tlsio_rc
tlsio_handshake(struct tlsio *t)
{
	int ret;

	ERR_clear_error();
	if ((ret = SSL_do_handshake(t->ssl)) == 1)
		return TLSIO_OK;
	return classify(t, ret);
}

enum tlsio_rc
tlsio_read(struct tlsio *t, void *p, size_t cap, size_t *got)
{
	int ret;

	*got = 0;
	ERR_clear_error();
	if ((ret = SSL_read_ex(t->ssl, p, cap, got)) == 1)
		return TLSIO_OK;
	return classify(t, ret);
}

int
tlsio_write(struct tlsio *t, const void *p, size_t n)
{
	size_t done;

	if (n == 0)
		return 0;
	ERR_clear_error();
	if (SSL_write_ex(t->ssl, p, n, &done) != 1 || done != n) {
		failed(t, SSL_ERROR_SSL);
		return -1;
	}
	return 0;
}

void
tlsio_shutdown(struct tlsio *t)
{
	ERR_clear_error();
	if (!(SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
		(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}

const char *
tlsio_error(const struct tlsio *t)
{
	return t->error;
}
