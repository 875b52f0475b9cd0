/* SPDX-License-Identifier: MIT */
/*
 * tlsio.h: one TLS connection over caller-owned bytes.  It knows OpenSSL
 * and bytes, not sockets: the caller lends it ciphertext read from the
 * network, receives ciphertext to send through a callback, and reads and
 * writes plaintext.  No copy is made that OpenSSL does not need: input is
 * read in place, output goes straight to the caller's queue.
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

/* tlsio_out_fn(arg, p, n): take n bytes of ciphertext; 0, or -1 (no memory). */
typedef int	(*tlsio_out_fn)(void *arg, const void *p, size_t n);

/*
 * tlsio_new(ctx, server, out, arg): a new connection on ctx (which it
 * references) whose ciphertext goes to out(arg, ...).  Returns NULL if
 * memory is short.  The caller owns it; tlsio_free() accepts NULL.
 */
struct tlsio	*tlsio_new(SSL_CTX *ctx, int server, tlsio_out_fn out, void *arg);
void		 tlsio_free(struct tlsio *t);

/* tlsio_ssl(t): the SSL object, borrowed, for settings and inspection. */
SSL		*tlsio_ssl(struct tlsio *t);

/*
 * tlsio_feed(t, p, n): lend ciphertext from the peer; t reads it in place
 * until tlsio_feed_end(t), which keeps a copy of what was not consumed (at
 * most a partial record) and returns 0, or -1 if memory was short and
 * bytes were lost (the connection is then unusable).  Between
 * the two, call tlsio_handshake/tlsio_read.
 */
void		 tlsio_feed(struct tlsio *t, const void *p, size_t n);
int		 tlsio_feed_end(struct tlsio *t);

/* tlsio_handshake(t): advance the handshake: OK when complete. */
enum tlsio_rc	 tlsio_handshake(struct tlsio *t);

/*
 * tlsio_read(t, p, cap, got): decrypt up to cap bytes into p.  TLSIO_OK
 * with *got > 0, or AGAIN/CLOSED/FAILED with *got == 0.
 */
enum tlsio_rc	 tlsio_read(struct tlsio *t, void *p, size_t cap, size_t *got);

/* tlsio_write(t, p, n): encrypt all n bytes to the output.  0 or -1. */
int		 tlsio_write(struct tlsio *t, const void *p, size_t n);

/* tlsio_shutdown(t): send a close_notify alert.  Reads may go on. */
void		 tlsio_shutdown(struct tlsio *t);

/* tlsio_error(t): why the last call failed, for one log line. */
const char	*tlsio_error(const struct tlsio *t);

#endif
