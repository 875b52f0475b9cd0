/* SPDX-License-Identifier: MIT */
/*
 * tlsio.c: OpenSSL over two memory BIOs.  The write BIO never pushes back,
 * so callers bound what they write by watching their own queues.  On
 * failure the OpenSSL error queue and the verification result become one
 * readable sentence, kept for the caller's log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/tlsio.h"

struct tlsio {
	SSL	*ssl;
	BIO	*rbio;	/* ciphertext from the peer */
	BIO	*wbio;	/* ciphertext to the peer */
	char	 error[384];
};

struct tlsio *
tlsio_new(SSL_CTX *ctx, int server)
{
	struct tlsio *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->ssl = SSL_new(ctx)) == NULL ||
	    (t->rbio = BIO_new(BIO_s_mem())) == NULL ||
	    (t->wbio = BIO_new(BIO_s_mem())) == NULL) {
		BIO_free(t->rbio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	/* An empty read BIO means "wait for more", never end of file. */
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);	/* SSL owns both now */
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
	free(t);
}

SSL *
tlsio_ssl(struct tlsio *t)
{
	return t->ssl;
}

int
tlsio_feed(struct tlsio *t, const void *p, size_t n)
{
	size_t done;

	if (n == 0)
		return 0;
	if (BIO_write_ex(t->rbio, p, n, &done) != 1 || done != n) {
		ERR_clear_error();
		snprintf(t->error, sizeof(t->error), "out of memory");
		return -1;
	}
	return 0;
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

size_t
tlsio_out_take(struct tlsio *t, void *p, size_t cap)
{
	size_t got = 0;

	if (BIO_read_ex(t->wbio, p, cap, &got) != 1)
		got = 0;
	return got;
}

size_t
tlsio_out_pending(const struct tlsio *t)
{
	return BIO_ctrl_pending(t->wbio);
}

/* Memory BIOs keep their peak allocation; past this, replace them. */
#define TRIM_ABOVE 4096

static BIO *
trimmed(BIO *b)
{
	BUF_MEM *bm = NULL;
	BIO *fresh;

	if (BIO_ctrl_pending(b) != 0 || BIO_get_mem_ptr(b, &bm) != 1 ||
	    bm == NULL || bm->max <= TRIM_ABOVE)
		return NULL;
	if ((fresh = BIO_new(BIO_s_mem())) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	BIO_set_mem_eof_return(fresh, -1);
	return fresh;
}

void
tlsio_trim(struct tlsio *t)
{
	BIO *b;

	/* SSL_set0_*bio frees the BIO it replaces. */
	if ((b = trimmed(t->rbio)) != NULL) {
		SSL_set0_rbio(t->ssl, b);
		t->rbio = b;
	}
	if ((b = trimmed(t->wbio)) != NULL) {
		SSL_set0_wbio(t->ssl, b);
		t->wbio = b;
	}
}

const char *
tlsio_error(const struct tlsio *t)
{
	return t->error;
}
