/* SPDX-License-Identifier: MIT */
/*
 * pki.h: making keys, certificates, requests and CRLs with OpenSSL's X.509
 * API.  Defaults fit mutual TLS: ECDSA P-256 and SHA-256; leaves carry
 * digitalSignature, serverAuth+clientAuth and CA:FALSE; a CA carries
 * CA:TRUE with pathlen 0; serial numbers are 128 random bits.
 */
#ifndef CERTS_PKI_H
#define CERTS_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum pki_keytype { PKI_KEY_EC, PKI_KEY_ED25519, PKI_KEY_RSA };

/* A certificate authority as dbtls-certs keeps it: DIR/ca.crt, DIR/ca.key. */
struct pki_ca {
	X509 *cert;
	EVP_PKEY *key;
	char dir[4096];
};

/* Names for a new certificate; lists may be empty. */
struct pki_names {
	const char *cn;
	const char **dns;
	int ndns;
	const char **ip;
	int nip;
	const char **uri;
	int nuri;
};

int pki_keytype_parse(const char *s, enum pki_keytype *out);
EVP_PKEY *pki_keygen(enum pki_keytype t);
/* pki_keytype_of(key): the type to renew key with. */
enum pki_keytype pki_keytype_of(const EVP_PKEY *key);

/* pki_sans(n): the subjectAltName of n, or NULL (reason printed). */
GENERAL_NAMES *pki_sans(const struct pki_names *n);
/* pki_subject(cn): "CN=cn". */
X509_NAME *pki_subject(const char *cn);

X509 *pki_make_ca(EVP_PKEY *key, const char *cn, int days);
/*
 * pki_make_leaf(pub, subject, sans, ca, days): a leaf for pub signed by
 * ca.  sans may be NULL.  Returns NULL (reason printed) on failure.
 */
X509 *pki_make_leaf(EVP_PKEY *pub, const X509_NAME *subject,
    const GENERAL_NAMES *sans, const struct pki_ca *ca, int days);
X509_REQ *pki_make_req(EVP_PKEY *key, const X509_NAME *subject,
    const GENERAL_NAMES *sans);
/*
 * pki_write_leaf(path, leaf, ca, force): write leaf, then ca's certificate
 * when ca is an intermediate (a root is never sent).  0 or -1 (printed).
 */
int pki_write_leaf(const char *path, X509 *leaf, const struct pki_ca *ca,
    int force);

/* pki_req_sans(req): the subjectAltName a request asks for, or NULL. */
GENERAL_NAMES *pki_req_sans(X509_REQ *req);
/* pki_cert_sans(x): the subjectAltName of a certificate, or NULL. */
GENERAL_NAMES *pki_cert_sans(X509 *x);

/*
 * pki_ca_load(dir, ca): read DIR/ca.crt and DIR/ca.key and check that the
 * certificate is a CA, in date, and matches the key.  0 or -1 (printed).
 */
int pki_ca_load(const char *dir, struct pki_ca *ca);
void pki_ca_free(struct pki_ca *ca);

/*
 * pki_ca_revoke(ca, cert, days): add cert's serial to DIR/revoked.txt and
 * write a fresh DIR/ca.crl, valid for days.  0 or -1.
 */
int pki_ca_revoke(struct pki_ca *ca, X509 *cert, int days);
/* pki_ca_write_crl(ca, days): sign DIR/ca.crl anew from DIR/revoked.txt. */
int pki_ca_write_crl(struct pki_ca *ca, int days);

#endif
