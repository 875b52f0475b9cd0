/* SPDX-License-Identifier: MIT */
/*
 * tlsio.h: one TLS connection over memory buffers.  It knows OpenSSL and
 * bytes, not sockets: the caller feeds ciphertext read from the network,
 * takes ciphertext to send, and reads and writes plaintext.
 */
#ifndef COMMON_TLSIO_H
#define COMMON_TLSIO_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tlsio;

enum tlsio_rc {
	TLSIO_OK,	/* done, or bytes returned */
	TLSIO_AGAIN,	/* needs more ciphertext from the peer */
	TLSIO_CLOSED,	/* the peer sent close_notify */
	TLSIO_FAILED,	/* fatal; tlsio_error() says why */
};

/*
 * tlsio_new(ctx, server): a new connection on ctx (which it references).
 * Returns NULL if memory is short.  The caller owns it; tlsio_free()
 * releases it and accepts NULL.
 */
struct tlsio	*tlsio_new(SSL_CTX *ctx, int server);
void		 tlsio_free(struct tlsio *t);

/* tlsio_ssl(t): the SSL object, borrowed, for settings and inspection. */
SSL		*tlsio_ssl(struct tlsio *t);

/* tlsio_feed(t, p, n): ciphertext from the peer; copies it.  0 or -1. */
int		 tlsio_feed(struct tlsio *t, const void *p, size_t n);

/* tlsio_handshake(t): advance the handshake: OK when complete. */
enum tlsio_rc	 tlsio_handshake(struct tlsio *t);

/*
 * tlsio_read(t, p, cap, got): decrypt up to cap bytes into p.  TLSIO_OK
 * with *got > 0, or AGAIN/CLOSED/FAILED with *got == 0.
 */
enum tlsio_rc	 tlsio_read(struct tlsio *t, void *p, size_t cap, size_t *got);

/* tlsio_write(t, p, n): encrypt all n bytes into the output.  0 or -1. */
int		 tlsio_write(struct tlsio *t, const void *p, size_t n);

/* tlsio_shutdown(t): queue a close_notify alert.  Reads may go on. */
void		 tlsio_shutdown(struct tlsio *t);

/* tlsio_out_take(t, p, cap): move up to cap bytes of ciphertext to p. */
size_t		 tlsio_out_take(struct tlsio *t, void *p, size_t cap);
size_t		 tlsio_out_pending(const struct tlsio *t);

/*
 * tlsio_trim(t): give back buffer memory a burst left behind, once both
 * directions are drained, so an idle connection stays small.
 */
void		 tlsio_trim(struct tlsio *t);

/* tlsio_error(t): why the last call failed, for one log line. */
const char	*tlsio_error(const struct tlsio *t);

#endif
