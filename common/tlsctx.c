/* SPDX-License-Identifier: MIT */
/*
 * tlsctx.c: SSL_CTX construction.  Safe defaults live here: TLS 1.2 at the
 * very least, no renegotiation, no compression, mandatory peer
 * certificates, X25519 first, and buffers released while a connection is
 * idle.  Building a context costs milliseconds, so it is done once per
 * tunnel and shared by all workers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/tlsio.h"
#include "common/tlsctx.h"

static atomic_int said_untested; /* the warning is given once */

struct ctxerr {
	const char *cfgfile;
	const struct cfg_tunnel *t;
	char *err;
	size_t errlen;
};

static SSL_CTX *ctx_fail(struct ctxerr *E, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static SSL_CTX *
ctx_fail(struct ctxerr *E, int line, const char *fmt, ...)
{
	int n;

	n = snprintf(E->err, E->errlen, "%s:%d: tunnel \"%s\": ", E->cfgfile,
	    line, E->t->name);
	if (n >= 0 && (size_t)n < E->errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(E->err + n, E->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

/* check_readable: fopen gives the errno an operator needs to see. */
static int
check_readable(struct ctxerr *E, const char *what, const struct cfg_file *f)
{
	FILE *fp = fopen(f->path, "r");

	if (fp == NULL) {
		ctx_fail(E, f->line, "%s \"%s\": %s", what, f->path,
		    strerror(errno));
		return -1;
	}
	fclose(fp);
	return 0;
}

static EVP_PKEY *
load_key(const char *path)
{
	EVP_PKEY *pkey;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	return pkey;
}

/*
 * load_crl: revoked peers are refused.  CRL_CHECK covers the peer's leaf;
 * a CRL past its nextUpdate would make OpenSSL refuse every peer, so such
 * a file is refused here instead.
 */
static int
load_crl(struct ctxerr *E, SSL_CTX *ctx, const struct cfg_file *f)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
	STACK_OF(X509_OBJECT) * objs;

	if (lookup == NULL ||
	    X509_load_crl_file(lookup, f->path, X509_FILETYPE_PEM) <= 0) {
		char ossl[512];

		ctx_fail(E, f->line, "crl \"%s\": no usable PEM CRL (%s)",
		    f->path, log_openssl_errors(ossl, sizeof(ossl)));
		return -1;
	}
	objs = X509_STORE_get0_objects(store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
		const ASN1_TIME *next;

		if (X509_OBJECT_get_type(o) != X509_LU_CRL)
			continue;
		next = X509_CRL_get0_nextUpdate(X509_OBJECT_get0_X509_CRL(o));
		if (next != NULL && X509_cmp_current_time(next) < 0) {
			ctx_fail(E, f->line,
			    "crl \"%s\" has expired (its "
			    "next update was due); issue a fresh one",
			    f->path);
			return -1;
		}
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}

/*
 * alpn_select_cb: a client agent offers "dbtls/1", chosen over TLS 1.3;
 * a PostgreSQL tunnel otherwise needs "postgresql" (native direct TLS
 * clients send it); other tunnels go on without ALPN.
 */
static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    /* OpenSSL's callback type fixes the parameter's type. */
    /* cppcheck-suppress constParameter */
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char dbtls[] = "\x07" TLSCTX_ALPN_DBTLS;
	static const unsigned char pg[] = "\x0a" TLSCTX_ALPN_POSTGRESQL;
	int is_pg = arg != NULL;
	/* Streams need records of our own (tlsio_ctx_init took). */
	int takeover = SSL_CTX_get_keylog_callback(SSL_get_SSL_CTX(ssl)) !=
	    NULL;

	if (takeover && SSL_version(ssl) == TLS1_3_VERSION &&
	    SSL_select_next_proto((unsigned char **)out, outlen, dbtls,
		sizeof(dbtls) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	if (!is_pg)
		return SSL_TLSEXT_ERR_NOACK;
	if (SSL_select_next_proto((unsigned char **)out, outlen, pg,
		sizeof(pg) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	/* A client that offers only other protocols is talking to the
	 * wrong service: refuse rather than guess. */
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int
has_acl(const char *path)
{
	return getxattr(path, "system.posix_acl_access", NULL, 0) >= 0;
}

int
tlsctx_key_private(const char *path, const struct stat *st, gid_t group)
{
	mode_t mode = st->st_mode;

	return !has_acl(path) &&
	    ((mode & 077) == 0 ||
		((mode & 077) == 040 && group != (gid_t)-1 &&
		    st->st_gid == group));
}

/*
 * key_private: a root-owned key, mode 0640, group dbtls suits an agent
 * that runs as dbtls: it reads the key and cannot change it.
 */
static int
key_private(struct ctxerr *E, const struct cfg_file *key, gid_t group)
{
	struct stat st;
	unsigned mode;

	if (stat(key->path, &st) != 0)
		return 0; /* check_readable said why already */
	mode = (unsigned)(st.st_mode & 07777);
	if (tlsctx_key_private(key->path, &st, group))
		return 0;
	if (has_acl(key->path))
		ctx_fail(E, key->line,
		    "key \"%s\" carries an ACL, which may "
		    "let others read it whatever its mode; remove it "
		    "(setfacl -b)",
		    key->path);
	else if ((mode & 037) == 0)
		ctx_fail(E, key->line,
		    "key \"%s\" is readable by its group "
		    "(gid %u, mode %04o), which is not the agent's group; "
		    "chmod 600 it, or chgrp it to the config's group",
		    key->path, (unsigned)st.st_gid, mode);
	else
		ctx_fail(E, key->line,
		    "key \"%s\" is open to %s (mode "
		    "%04o); chmod 600 it (or 640, in the agent's group)",
		    key->path, mode & 007 ? "others" : "group writes", mode);
	return -1;
}

SSL_CTX *
tlsctx_new(const struct cfg *c, const struct cfg_tunnel *t, char *err,
    size_t errlen)
{
	struct ctxerr E = { c->path, t, err, errlen };
	const struct cfg_tls *tls = &t->tls;
	int server = t->mode == CFG_MODE_SERVER;
	char ossl[512];
	EVP_PKEY *pkey = NULL;
	int takeover;
	SSL_CTX *ctx;
	X509 *leaf;

	if (check_readable(&E, "cert", &tls->cert) != 0 ||
	    check_readable(&E, "key", &tls->key) != 0 ||
	    check_readable(&E, "ca", &tls->ca) != 0 ||
	    (tls->crl.path != NULL &&
		check_readable(&E, "crl", &tls->crl) != 0))
		return NULL;
	if (key_private(&E, &tls->key, c->gid) != 0)
		return NULL;

	ERR_clear_error();
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL)
		return ctx_fail(&E, t->line, "SSL_CTX_new: %s",
		    log_openssl_errors(ossl, sizeof(ossl)));

	SSL_CTX_set_min_proto_version(ctx, tls->min_version);
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
		SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1)
		goto fail_ossl;
	/* TLS 1.2, if allowed: forward secrecy and AEAD only (no RSA key
	 * exchange, no CBC); TLS 1.3's suites are all of that kind. */
	if (SSL_CTX_set_cipher_list(ctx,
		"ECDHE+AESGCM:ECDHE+CHACHA20:"
		"!aNULL") != 1)
		goto fail_ossl;

	if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert.path) != 1) {
		ctx_fail(&E, tls->cert.line,
		    "cert \"%s\": no usable PEM "
		    "certificate chain (%s)",
		    tls->cert.path, log_openssl_errors(ossl, sizeof(ossl)));
		goto fail;
	}
	leaf = SSL_CTX_get0_certificate(ctx);
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
		ctx_fail(&E, tls->cert.line, "cert \"%s\" has expired",
		    tls->cert.path);
		goto fail;
	}
	if ((pkey = load_key(tls->key.path)) == NULL) {
		ctx_fail(&E, tls->key.line,
		    "key \"%s\": no usable PEM private "
		    "key (%s)",
		    tls->key.path, log_openssl_errors(ossl, sizeof(ossl)));
		goto fail;
	}
	if (X509_check_private_key(leaf, pkey) != 1) {
		ERR_clear_error();
		ctx_fail(&E, tls->key.line,
		    "key \"%s\" does not match cert "
		    "\"%s\"",
		    tls->key.path, tls->cert.path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1)
		goto fail_ossl;
	if (SSL_CTX_load_verify_locations(ctx, tls->ca.path, NULL) != 1) {
		ctx_fail(&E, tls->ca.line,
		    "ca \"%s\": no usable PEM CA "
		    "certificates (%s)",
		    tls->ca.path, log_openssl_errors(ossl, sizeof(ossl)));
		goto fail;
	}

	if (tls->crl.path != NULL && load_crl(&E, ctx, &tls->crl) != 0)
		goto fail;

	/* Before ALPN: the streams protocol needs records of our own. */
	takeover = tlsio_ctx_init(ctx) == 0;
	if (!takeover && !atomic_exchange(&said_untested, 1)) {
		unsigned long v = OpenSSL_version_num();

		log_warnx(
		    "OpenSSL %lu.%lu.%lu is not a release dbtls's record "
		    "takeover was tested on: TLS records stay with OpenSSL "
		    "(records=openssl), one app connection per TLS connection",
		    v >> 28, v >> 20 & 0xff, v >> 4 & 0xff);
	}
	if (server) {
		static const unsigned char sid_ctx[] = "dbtls";
		STACK_OF(X509_NAME) * names;

		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		/* Resumed sessions need a context id when clients present
		 * certificates. */
		SSL_CTX_set_session_id_context(ctx, sid_ctx,
		    sizeof(sid_ctx) - 1);
		/* One ticket is all a client agent keeps; the default two
		 * cost every handshake a second ticket to make and send. */
		SSL_CTX_set_num_tickets(ctx, 1);
		if ((names = SSL_load_client_CA_file(tls->ca.path)) != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb,
		    t->proto == CFG_PROTO_POSTGRESQL ? ctx : NULL);
	} else {
		static const unsigned char alpn[] =
		    "\x07" TLSCTX_ALPN_DBTLS "\x0a" TLSCTX_ALPN_POSTGRESQL;
		/* PostgreSQL 17 wants "postgresql" among what is offered;
		 * "dbtls/1" only if our records can carry streams. */
		const unsigned char *p = takeover ? alpn : alpn + 8;
		size_t n = t->proto == CFG_PROTO_POSTGRESQL ? sizeof(alpn) - 1 :
							      8;

		if (!takeover)
			n -= 8;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (n > 0 && SSL_CTX_set_alpn_protos(ctx, p, (unsigned)n) != 0)
			goto fail_ossl;
	}
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ctx;

fail_ossl:
	ctx_fail(&E, t->line, "OpenSSL: %s",
	    log_openssl_errors(ossl, sizeof(ossl)));
fail:
	EVP_PKEY_free(pkey);
	SSL_CTX_free(ctx);
	return NULL;
}
