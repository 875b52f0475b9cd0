/* SPDX-License-Identifier: MIT */
/*
 * handshake.c: how a link gets from a connected socket to READY: the
 * PostgreSQL SSLRequest exchange (or a direct TLS ClientHello), the TLS
 * handshake through tlsio, and the checks on the peer's certificate
 * (allow list, ALPN).  Bytes that come before or across the SSLRequest
 * answer are refused (CVE-2021-23214/23222 classes).
 */
#include <arpa/inet.h>
#include <string.h>

#include <uv.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/allow.h"
#include "common/tlsctx.h"
#include "common/tlsio.h"
#include "agent/gen.h"
#include "agent/pgwire.h"
#include "agent/worker.h"
#include "agent/link_impl.h"
#include "agent/handshake.h"

static int
verify_peer(struct link *l)
{
	SSL *ssl = tlsio_ssl(l->tio);
	X509 *cert = SSL_get0_peer_certificate(ssl);
	char why[512];

	allow_identity(cert, l->ident, sizeof(l->ident));
	allow_serial(cert, l->serial, sizeof(l->serial));
	if (cert == NULL) { /* verification demands one; be sure */
		link_refused(l, REFUSED_NO_CERTIFICATE);
		link_end(l, 0, 0, "%s presented no certificate",
		    link_peer_name(l));
		return -1;
	}
	if (l->cfg->has_allow &&
	    !allow_match(&l->cfg->allow, cert, why, sizeof(why))) {
		link_refused(l, REFUSED_NOT_ALLOWED);
		link_end(l, 0, 0,
		    "%s certificate is not allowed: it carries "
		    "%s",
		    link_peer_name(l), why);
		return -1;
	}
	if (l->direct_tls) {
		const unsigned char *alpn;
		unsigned len;

		SSL_get0_alpn_selected(ssl, &alpn, &len);
		if (len == 0) {
			link_refused(l, REFUSED_PROTOCOL);
			link_end(l, 0, 0,
			    "direct TLS without ALPN "
			    "\"postgresql\" refused");
			return -1;
		}
	}
	return 0;
}

/* peer_until: when the peer's certificate ends (close_expired). */
static time_t
peer_until(const X509 *cert)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (cert == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* done: the handshake is over: check the peer, then the link is ready. */
static void
done(struct link *l)
{
	const unsigned char *alpn;
	unsigned len;

	l->handshaken_at = uv_now(&l->w->loop);
	if (verify_peer(l) != 0)
		return;
	stats_add(&l->st->handshakes[SSL_session_reused(tlsio_ssl(l->tio))], 1);
	l->peer_until = peer_until(
	    SSL_get0_peer_certificate(tlsio_ssl(l->tio)));
	if (recheck_keep(&l->peer_cert, tlsio_ssl(l->tio)) != 0) {
		link_end(l, 0, 0, "out of memory");
		return;
	}
	stats_observe(&l->st->handshake, uv_hrtime() - l->hs_ns);
	SSL_get0_alpn_selected(tlsio_ssl(l->tio), &alpn, &len);
	l->streams = len == sizeof(TLSCTX_ALPN_DBTLS) - 1 &&
	    memcmp(alpn, TLSCTX_ALPN_DBTLS, len) == 0;
	if (l->streams && !tlsio_offloaded(l->tio)) {
		link_refused(l, REFUSED_PROTOCOL);
		link_end(l, 0, 0,
		    "%s agreed on %s, but the records stayed "
		    "with OpenSSL",
		    link_peer_name(l), TLSCTX_ALPN_DBTLS);
		return;
	}
	link_ready(l);
}

static void
progress(struct link *l)
{
	enum tlsio_rc rc = tlsio_handshake(l->tio);

	if (link_flush(l) != 0 || rc == TLSIO_AGAIN)
		return;
	if (rc != TLSIO_OK) {
		/* Name who tried, even when their chain failed. */
		X509 *peer = SSL_get0_peer_certificate(tlsio_ssl(l->tio));

		allow_identity(peer, l->ident, sizeof(l->ident));
		allow_serial(peer, l->serial, sizeof(l->serial));
		link_refused(l, REFUSED_HANDSHAKE);
		link_end(l, 0, 0, "TLS handshake with %s failed: %s",
		    link_peer_name(l),
		    rc == TLSIO_CLOSED ? "peer closed" : tlsio_error(l->tio));
		return;
	}
	done(l);
}

/* Ciphertext goes straight into the socket's queue. */
static char *
tls_room_cb(void *arg, size_t min, size_t *space)
{
	struct link *l = arg;

	return sock_room(&l->sock, min, space);
}

static void
tls_commit_cb(void *arg, size_t n)
{
	struct link *l = arg;

	sock_commit(&l->sock, n);
}

static int
start_tls(struct link *l)
{
	const struct cfg_tunnel *t = l->cfg;
	const struct tlsio_sink sink = { tls_room_cb, tls_commit_cb, l };
	SSL *ssl;

	if ((l->tio = tlsio_new(l->gen->ctx[l->t->index], !l->client, &sink)) ==
	    NULL) {
		link_end(l, 0, 0, "out of memory");
		return -1;
	}
	ssl = tlsio_ssl(l->tio);
	SSL_set_app_data(ssl, l);
	if (l->client) {
		struct in6_addr ip;
		SSL_SESSION *sess = l->w->sessions[l->t->index];
		int is_ip = inet_pton(AF_INET, t->server_name, &ip) == 1 ||
		    inet_pton(AF_INET6, t->server_name, &ip) == 1;

		/* A session from older material must not skip the new
		 * checks: resume only within one generation. */
		if (l->w->session_gen[l->t->index] != l->gen->id)
			sess = NULL;
		if (is_ip)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    t->server_name);
		else if (!SSL_set_tlsext_host_name(ssl, t->server_name) ||
		    !SSL_set1_host(ssl, t->server_name)) {
			link_end(l, 0, 0, "cannot set server name");
			return -1;
		}
		if (sess != NULL && SSL_SESSION_is_resumable(sess))
			SSL_set_session(ssl, sess);
	}
	link_set_state(l, LINK_HANDSHAKE);
	link_timer_set(l, t->handshake_timeout_ms);
	return 0;
}

/* client pg: the server's answer to our SSLRequest. */
static void
negotiated_client(struct link *l, const uint8_t *p, size_t n)
{
	switch (p[0]) {
	case 'S':
		if (n > 1) {
			link_refused(l, REFUSED_PROTOCOL);
			link_end(l, 0, 0,
			    "server sent bytes after 'S' before "
			    "the TLS handshake; refused (CVE-2021-23222 "
			    "class)");
			return;
		}
		if (start_tls(l) == 0)
			progress(l);
		return;
	case 'N':
		link_refused(l, REFUSED_PLAINTEXT);
		link_end(l, 0, 0,
		    "server refused TLS (answered 'N'); dbtls "
		    "never falls back to plaintext");
		return;
	case 'E':
		link_refused(l, REFUSED_PROTOCOL);
		link_end(l, 0, 0,
		    "server answered the SSLRequest with an "
		    "error");
		return;
	default:
		link_refused(l, REFUSED_PROTOCOL);
		link_end(l, 0, 0, "server answered the SSLRequest with 0x%02x",
		    p[0]);
		return;
	}
}

/* answer: queue a pre-TLS answer ('S', 'N', an ErrorResponse). */
static int
answer(struct link *l, const void *p, size_t n)
{
	int rc;

	if ((rc = sock_append(&l->sock, p, n)) != 0) {
		link_end(l, 0, 0, "write to %s: %s", link_peer_name(l),
		    uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* server pg: the client's first packets before TLS. */
static void
negotiated_server(struct link *l, const uint8_t *p, size_t n)
{
	uint8_t err[256];
	size_t take, len;
	enum pg_first k;

	take = pgwire_sniff(l->sniff, &l->nsniff, p, n, &k);
	p += take;
	n -= take;
	switch (k) {
	case PG_NEED_MORE:
		return;
	case PG_SSLREQUEST:
	case PG_GSSENCREQUEST:
		if (n > 0) {
			link_refused(l, REFUSED_PROTOCOL);
			link_end(l, 0, 0,
			    "client sent bytes after its %s "
			    "before our answer; refused (CVE-2021-23214 "
			    "class)",
			    pgwire_first_name(k));
			return;
		}
		l->nsniff = 0;
		if (k == PG_GSSENCREQUEST) { /* libpq then asks for SSL */
			answer(l, "N", 1);
			return;
		}
		if (answer(l, "S", 1) == 0)
			start_tls(l);
		return;
	case PG_TLS_DIRECT:
		if (start_tls(l) != 0)
			return;
		l->direct_tls = 1;
		tlsio_feed(l->tio, l->sniff, l->nsniff);
		tlsio_feed(l->tio, p, n);
		progress(l);
		if (l->state != LINK_CLOSING && tlsio_feed_end(l->tio) != 0)
			link_end(l, 0, 0, "out of memory");
		return;
	case PG_STARTUP:
		len = pgwire_error(err, sizeof(err), "28000",
		    "this server "
		    "requires TLS: connect with sslmode=verify-full and a "
		    "client certificate, or through a dbtls client agent");
		link_refused(l, REFUSED_PLAINTEXT);
		if (answer(l, err, len) == 0)
			link_end(l, 0, 0,
			    "plaintext StartupMessage refused: "
			    "TLS is required");
		return;
	default:
		link_refused(l, REFUSED_PLAINTEXT);
		link_end(l, 0, 0, "%s refused: TLS is required",
		    pgwire_first_name(k));
		return;
	}
}

void
handshake_begin(struct link *l)
{
	l->hs_ns = uv_hrtime();
	if (l->cfg->proto == CFG_PROTO_POSTGRESQL) {
		link_set_state(l, LINK_NEGOTIATING);
		link_timer_set(l, l->cfg->handshake_timeout_ms);
		if (l->client) {
			uint8_t req[8];

			pgwire_sslrequest(req);
			answer(l, req, sizeof(req));
		}
		return;
	}
	if (start_tls(l) == 0 && l->client)
		progress(l);
}

void
handshake_feed(struct link *l, const char *p, size_t n)
{
	if (l->state == LINK_NEGOTIATING) {
		if (l->client)
			negotiated_client(l, (const uint8_t *)p, n);
		else
			negotiated_server(l, (const uint8_t *)p, n);
		return;
	}
	tlsio_feed(l->tio, p, n); /* lent until tlsio_feed_end */
	progress(l);
	if (l->state != LINK_CLOSING && tlsio_feed_end(l->tio) != 0)
		link_end(l, 0, 0, "out of memory");
}
