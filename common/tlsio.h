/* SPDX-License-Identifier: MIT */
/*
 * tlsio.h: one TLS connection over caller-owned bytes.  It knows OpenSSL
 * and bytes, not sockets: the caller lends it ciphertext read from the
 * network, gives it room in its own queue for ciphertext to send, and
 * reads and writes plaintext.
 *
 * OpenSSL runs the handshake.  Once a TLS 1.3 handshake is over, tlsio
 * protects application data itself (rec13) and frees the SSL object, as
 * kernel TLS would (a client keeps it until its session tickets are
 * read): an established connection then costs about 2 KiB
 * instead of about 30, and records are sealed straight into the queue
 * and opened straight into the reader's buffer.  TLS 1.2 stays with
 * OpenSSL throughout.
 */
#ifndef COMMON_TLSIO_H
#define COMMON_TLSIO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct tlsio;

enum tlsio_rc {
	TLSIO_OK,      /* done, or bytes returned */
	TLSIO_AGAIN,   /* needs more ciphertext from the peer */
	TLSIO_CLOSED,  /* the peer sent close_notify */
	TLSIO_FAILED,  /* fatal; tlsio_error() says why */
	TLSIO_CONTROL, /* a control record: its code is in the buffer */
};

/*
 * Where ciphertext goes: room(arg, min, &space) returns at least min
 * (<= TLSIO_ROOM_MAX) contiguous bytes, *space long, or NULL if memory is
 * short; commit(arg, n) queues the first n of them.
 */
struct tlsio_sink {
	char *(*room)(void *arg, size_t min, size_t *space);
	void (*commit)(void *arg, size_t n);
	void *arg;
};

#define TLSIO_ROOM_MAX (16384 + 256) /* a TLS 1.3 record's body */

/*
 * tlsio_ctx_init(ctx): let connections on ctx leave OpenSSL after a TLS
 * 1.3 handshake (it installs a key log callback that hands the traffic
 * secrets to tlsio, and nobody else): 0; or -1, and they stay with
 * OpenSSL, if the OpenSSL running is not one the takeover was tested on
 * (tlsio_takeover_tested() is 0).  Call before ctx is shared between
 * threads.
 */
int tlsio_ctx_init(SSL_CTX *ctx);
int tlsio_takeover_tested(void);

/*
 * tlsio_new(ctx, server, sink): a new connection on ctx (which it
 * references) whose ciphertext goes to *sink (copied).  Returns NULL if
 * memory is short.  The caller owns it; tlsio_free() accepts NULL.
 */
struct tlsio *tlsio_new(SSL_CTX *ctx, int server,
    const struct tlsio_sink *sink);
void tlsio_free(struct tlsio *t);

/*
 * tlsio_ssl(t): the SSL object, borrowed, for settings and inspection
 * until the handshake is over and the first tlsio_read or tlsio_write
 * after it; NULL once tlsio has taken over from OpenSSL.
 */
SSL *tlsio_ssl(struct tlsio *t);

/*
 * tlsio_describe(t, buf, len): "TLSv1.3/TLS_AES_128_GCM_SHA256 resumed=no
 * records=dbtls" (or records=openssl: who protects the records now).
 */
void tlsio_describe(const struct tlsio *t, char *buf, size_t len);

/* tlsio_offloaded(t): 1 if tlsio, not OpenSSL, now protects the records. */
int tlsio_offloaded(const struct tlsio *t);

/*
 * tlsio_feed(t, p, n): lend ciphertext from the peer; t reads it in place
 * until tlsio_feed_end(t), which keeps a copy of what was not consumed (at
 * most a partial record) and returns 0, or -1 if memory was short and
 * bytes were lost (the connection is then unusable).  Between
 * the two, call tlsio_handshake/tlsio_read.
 */
void tlsio_feed(struct tlsio *t, const void *p, size_t n);
int tlsio_feed_end(struct tlsio *t);

/*
 * tlsio_handshake(t): advance the handshake: OK when complete.  The
 * peer's certificate and ALPN are then on tlsio_ssl(t) until the next
 * tlsio_read or tlsio_write.
 */
enum tlsio_rc tlsio_handshake(struct tlsio *t);

/*
 * tlsio_read(t, p, cap, got): decrypt up to cap bytes into p.  TLSIO_OK
 * with *got > 0, or AGAIN/CLOSED/FAILED with *got == 0.  With cap >=
 * TLSIO_ROOM_MAX a record is opened straight into p, else through a
 * buffer of t's.
 */
enum tlsio_rc tlsio_read(struct tlsio *t, void *p, size_t cap, size_t *got);

/* tlsio_write(t, p, n): encrypt all n bytes to the output.  0 or -1. */
int tlsio_write(struct tlsio *t, const void *p, size_t n);

/*
 * Control records carry one byte in a private content type, between two
 * dbtls agents that agreed on it (ALPN) over TLS 1.3 records of tlsio's
 * own.  tlsio_control(t, code) sends one: 0, or -1 if t cannot (it does
 * not protect its own records).  tlsio_read returns TLSIO_CONTROL with
 * *got == 1 and the code in p[0] when one arrives.
 */
int tlsio_control(struct tlsio *t, uint8_t code);

/*
 * tlsio_peer_closed(t): 1 once the peer's close_notify has been read:
 * only then is the end of its TCP stream the end of its data.
 */
int tlsio_peer_closed(const struct tlsio *t);

/* tlsio_shutdown(t): send a close_notify alert.  Reads may go on. */
void tlsio_shutdown(struct tlsio *t);

/* tlsio_error(t): why the last call failed, for one log line. */
const char *tlsio_error(const struct tlsio *t);

#endif
