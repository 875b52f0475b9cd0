/* SPDX-License-Identifier: MIT */
/*
 * recheck.c: the peer's certificate against a newer generation.  The
 * verification is OpenSSL's own, with the new context's store (CA file
 * and CRL) and the connection's own parameters (purpose, the server name
 * a client checks), so it asks exactly what the handshake asked.
 */
#include <stdio.h>

#include <openssl/x509_vfy.h>

#include "common/allow.h"
#include "agent/recheck.h"

int
recheck_keep(struct recheck_peer *p, SSL *ssl)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);

	recheck_free(p);
	if (leaf == NULL)
		return 0;
	if ((p->param = X509_VERIFY_PARAM_new()) == NULL ||
	    X509_VERIFY_PARAM_set1(p->param, SSL_get0_param(ssl)) != 1 ||
	    (chain != NULL && (p->chain = X509_chain_up_ref(chain)) == NULL)) {
		recheck_free(p);
		return -1;
	}
	X509_up_ref(leaf);
	p->leaf = leaf;
	return 0;
}

void
recheck_free(struct recheck_peer *p)
{
	X509_free(p->leaf);
	sk_X509_pop_free(p->chain, X509_free);
	X509_VERIFY_PARAM_free(p->param);
	p->leaf = NULL;
	p->chain = NULL;
	p->param = NULL;
}

/*
 * revoked_by_crl: the leaf's serial in a CRL of store whose issuer is the
 * leaf's.  For a resumed session, whose intermediates OpenSSL does not
 * keep: its chain cannot be built again, but its revocation can be seen.
 */
static int
revoked_by_crl(X509_STORE *store, X509 *leaf)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	int revoked = 0;

	for (int i = 0; i < sk_X509_OBJECT_num(objs) && !revoked; i++) {
		X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
		X509_CRL *crl;
		X509_REVOKED *r;

		if (X509_OBJECT_get_type(o) != X509_LU_CRL)
			continue;
		crl = X509_OBJECT_get0_X509_CRL(o);
		revoked = X509_NAME_cmp(X509_CRL_get_issuer(crl),
			      X509_get_issuer_name(leaf)) == 0 &&
		    X509_CRL_get0_by_serial(crl, &r,
			X509_get0_serialNumber(leaf)) == 1;
	}
	return revoked;
}

int
recheck_peer(const struct recheck_peer *p, const struct gen *g, size_t index,
    char *why, size_t len)
{
	const struct cfg_tunnel *t = &g->cfg->tunnels[index];
	X509_STORE *store = SSL_CTX_get_cert_store(g->ctx[index]);
	X509_STORE_CTX *vctx;
	int ok;

	if (p->leaf == NULL) {
		snprintf(why, len, "no peer certificate");
		return 0;
	}
	if ((vctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(vctx, store, p->leaf, p->chain) != 1) {
		X509_STORE_CTX_free(vctx);
		snprintf(why, len, "out of memory checking the peer again");
		return 0;
	}
	/* The connection's purpose and name, the new store's CRL flags. */
	X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(vctx), p->param);
	X509_VERIFY_PARAM_clear_flags(X509_STORE_CTX_get0_param(vctx),
	    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	X509_STORE_CTX_set_flags(vctx,
	    X509_V_FLAG_NO_CHECK_TIME |
		X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(store)));
	ok = X509_verify_cert(vctx) == 1;
	if (!ok && (p->chain == NULL || sk_X509_num(p->chain) == 0) &&
	    X509_STORE_CTX_get_error(vctx) ==
		X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) {
		/* Resumed, with an intermediate we were not given again. */
		ok = !revoked_by_crl(store, p->leaf);
		if (!ok)
			snprintf(why, len,
			    "its certificate no longer "
			    "verifies: certificate revoked");
	} else if (!ok) {
		snprintf(why, len, "its certificate no longer verifies: %s",
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(vctx)));
	}
	X509_STORE_CTX_free(vctx);
	if (ok && t->has_allow) {
		char carries[400];

		if (!allow_match(&t->allow, p->leaf, carries,
			sizeof(carries))) {
			snprintf(why, len,
			    "it is no longer allowed: it "
			    "carries %s",
			    carries);
			ok = 0;
		}
	}
	return ok;
}
