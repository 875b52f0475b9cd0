/* SPDX-License-Identifier: MIT */
/*
 * pki.c: key, certificate, request and CRL construction.  Everything is
 * built with OpenSSL's X.509 API; nothing shells out to openssl(1).
 * Subject alternative names are built as GENERAL_NAMEs, never parsed from
 * a comma-separated string, so a name cannot smuggle in another.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/allow.h"
#include "certs/pki.h"
#include "certs/store.h"

static void
pki_err(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	fprintf(stderr, "dbtls-certs: %s%s%s\n", what, buf[0] ? ": " : "", buf);
}

int
pki_keytype_parse(const char *s, enum pki_keytype *out)
{
	if (strcmp(s, "ec") == 0)
		*out = PKI_KEY_EC;
	else if (strcmp(s, "ed25519") == 0)
		*out = PKI_KEY_ED25519;
	else if (strcmp(s, "rsa") == 0)
		*out = PKI_KEY_RSA;
	else
		return -1;
	return 0;
}

EVP_PKEY *
pki_keygen(enum pki_keytype t)
{
	EVP_PKEY *k = NULL;

	switch (t) {
	case PKI_KEY_EC:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case PKI_KEY_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case PKI_KEY_RSA:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	}
	if (k == NULL)
		pki_err("cannot generate a key");
	return k;
}

enum pki_keytype
pki_keytype_of(const EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return PKI_KEY_ED25519;
	case EVP_PKEY_RSA:
		return PKI_KEY_RSA;
	default:
		return PKI_KEY_EC;
	}
}

static const EVP_MD *
digest_for(EVP_PKEY *key)
{
	/* Ed25519 signs the message itself: no separate digest. */
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL :
							       EVP_sha256();
}

static int
add_name(GENERAL_NAMES *gens, int type, const char *value)
{
	GENERAL_NAME *g = GENERAL_NAME_new();

	if (g == NULL)
		return -1;
	if (type == GEN_IPADD) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(value);

		if (ip == NULL) {
			GENERAL_NAME_free(g);
			ERR_clear_error();
			fprintf(stderr,
			    "dbtls-certs: \"%s\" is not an IP "
			    "address\n",
			    value);
			return -1;
		}
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
	} else {
		ASN1_IA5STRING *s;

		if ((s = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(s, value, -1)) {
			ASN1_IA5STRING_free(s);
			GENERAL_NAME_free(g);
			return -1;
		}
		GENERAL_NAME_set0_value(g, type, s);
	}
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return -1;
	}
	return 0;
}

GENERAL_NAMES *
pki_sans(const struct pki_names *n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int ok = gens != NULL;

	for (int i = 0; ok && i < n->ndns; i++)
		ok = add_name(gens, GEN_DNS, n->dns[i]) == 0;
	for (int i = 0; ok && i < n->nip; i++)
		ok = add_name(gens, GEN_IPADD, n->ip[i]) == 0;
	for (int i = 0; ok && i < n->nuri; i++) {
		if (strstr(n->uri[i], ":") == NULL) {
			fprintf(stderr, "dbtls-certs: \"%s\" is not a URI\n",
			    n->uri[i]);
			ok = 0;
		} else {
			ok = add_name(gens, GEN_URI, n->uri[i]) == 0;
		}
	}
	if (!ok) {
		GENERAL_NAMES_free(gens);
		return NULL;
	}
	return gens;
}

X509_NAME *
pki_subject(const char *cn)
{
	X509_NAME *name = X509_NAME_new();

	if (name == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		(const unsigned char *)cn, -1, -1, 0)) {
		X509_NAME_free(name);
		pki_err("cannot build the subject");
		return NULL;
	}
	return name;
}

static int
random_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	b[0] &= 0x7f; /* positive */
	b[0] |= 0x40; /* and a full 127 bits, never a short number */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* new_cert: version 3, random serial, validity from 5 minutes ago. */
static X509 *
new_cert(EVP_PKEY *pub, const X509_NAME *subject, int days)
{
	X509 *x = X509_new();

	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !random_serial(x) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ||
	    !X509_set_subject_name(x, subject) || !X509_set_pubkey(x, pub)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *
pki_make_ca(EVP_PKEY *key, const char *cn, int days)
{
	X509_NAME *name = pki_subject(cn);
	X509 *x = name ? new_cert(key, name, days) : NULL;

	if (x == NULL || !X509_set_issuer_name(x, name) ||
	    !add_ext(x, x, NID_basic_constraints,
		"critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, digest_for(key))) {
		pki_err("cannot make the CA certificate");
		X509_free(x);
		x = NULL;
	}
	X509_NAME_free(name);
	return x;
}

X509 *
pki_make_leaf(EVP_PKEY *pub, const X509_NAME *subject,
    const GENERAL_NAMES *sans, const struct pki_ca *ca, int days)
{
	X509 *x = new_cert(pub, subject, days);
	const char *ku = EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA ?
	    "critical,digitalSignature,keyEncipherment" :
	    "critical,digitalSignature";

	if (x == NULL ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    !add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, ca->cert, NID_key_usage, ku) ||
	    !add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !add_ext(x, ca->cert, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, ca->cert, NID_authority_key_identifier,
		"keyid:always") ||
	    (sans != NULL && sk_GENERAL_NAME_num(sans) > 0 &&
		!X509_add1_ext_i2d(x, NID_subject_alt_name, (void *)sans, 0,
		    0)) ||
	    !X509_sign(x, ca->key, digest_for(ca->key))) {
		pki_err("cannot make the certificate");
		X509_free(x);
		return NULL;
	}
	return x;
}

X509_REQ *
pki_make_req(EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *sans)
{
	X509_REQ *r = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	int ok = r != NULL && exts != NULL && X509_REQ_set_version(r, 0) &&
	    X509_REQ_set_subject_name(r, subject) &&
	    X509_REQ_set_pubkey(r, key);

	if (ok && sans != NULL && sk_GENERAL_NAME_num(sans) > 0)
		ok = X509V3_add1_i2d(&exts, NID_subject_alt_name, (void *)sans,
			 0, 0) == 1 &&
		    X509_REQ_add_extensions(r, exts);
	ok = ok && X509_REQ_sign(r, key, digest_for(key));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (!ok) {
		pki_err("cannot make the request");
		X509_REQ_free(r);
		return NULL;
	}
	return r;
}

int
pki_write_leaf(const char *path, X509 *leaf, const struct pki_ca *ca, int force)
{
	X509 *chain[2] = { leaf, ca->cert };
	int root = X509_check_issued(ca->cert, ca->cert) == X509_V_OK;

	return store_write_certs(path, chain, root ? 1 : 2, force);
}

GENERAL_NAMES *
pki_req_sans(X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *g = X509V3_get_d2i(exts, NID_subject_alt_name, NULL,
	    NULL);

	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return g;
}

GENERAL_NAMES *
pki_cert_sans(X509 *x)
{
	return X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
}

int
pki_ca_load(const char *dir, struct pki_ca *ca)
{
	char path[4200];
	X509 **certs;
	int n;

	memset(ca, 0, sizeof(*ca));
	snprintf(ca->dir, sizeof(ca->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	if ((certs = store_read_certs(path, &n)) == NULL)
		return -1;
	ca->cert = certs[0];
	for (int i = 1; i < n; i++)
		X509_free(certs[i]);
	free(certs);
	if (X509_check_ca(ca->cert) == 0) {
		fprintf(stderr, "dbtls-certs: %s is not a CA certificate\n",
		    path);
		goto fail;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) < 0) {
		fprintf(stderr,
		    "dbtls-certs: %s has expired; make a new CA "
		    "(see CA rotation in the README)\n",
		    path);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if ((ca->key = store_read_key(path)) == NULL)
		goto fail;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		fprintf(stderr, "dbtls-certs: %s does not match %s/ca.crt\n",
		    path, dir);
		goto fail;
	}
	return 0;
fail:
	pki_ca_free(ca);
	return -1;
}

void
pki_ca_free(struct pki_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->cert = NULL;
	ca->key = NULL;
}

/*
 * revoked_line: the serial (hex) and time of a line of revoked.txt, as
 * pki_ca_revoke() writes it ("%s %lld\n"): 0, or -1.
 */
static int
revoked_line(const char *line, char *hex, size_t hexlen, long long *at)
{
	static const char space[] = " \t\n\v\f\r";
	const char *p = line + strspn(line, space);
	size_t n = strcspn(p, space);
	char *end;

	if (n == 0 || n >= hexlen)
		return -1;
	memcpy(hex, p, n);
	hex[n] = '\0';
	p += n;
	errno = 0;
	*at = strtoll(p, &end, 10);
	if (end == p || errno == ERANGE ||
	    (*end != '\0' && !isspace((unsigned char)*end)))
		return -1;
	return 0;
}

int
pki_ca_write_crl(struct pki_ca *ca, int days)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
	ASN1_TIME *next = X509_gmtime_adj(NULL, (long)days * 86400);
	char path[4200];
	FILE *f;
	int ok, rc = -1;

	ok = crl && now && next &&
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) &&
	    X509_CRL_set1_lastUpdate(crl, now) &&
	    X509_CRL_set1_nextUpdate(crl, next);
	snprintf(path, sizeof(path), "%s/revoked.txt", ca->dir);
	if (ok && (f = fopen(path, "r")) != NULL) {
		char line[256];

		while (ok && fgets(line, sizeof(line), f) != NULL) {
			X509_REVOKED *r = X509_REVOKED_new();
			BIGNUM *bn = NULL;
			ASN1_INTEGER *serial = NULL;
			ASN1_TIME *when = NULL;
			long long at = 0;
			char hex[130];

			if (revoked_line(line, hex, sizeof(hex), &at) != 0 ||
			    !BN_hex2bn(&bn, hex) ||
			    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
			    (when = ASN1_TIME_set(NULL, (time_t)at)) == NULL ||
			    !X509_REVOKED_set_serialNumber(r, serial) ||
			    !X509_REVOKED_set_revocationDate(r, when) ||
			    !X509_CRL_add0_revoked(crl, r)) {
				fprintf(stderr, "dbtls-certs: %s: bad line: %s",
				    path, line);
				X509_REVOKED_free(r);
				ok = 0;
			}
			BN_free(bn);
			ASN1_INTEGER_free(serial);
			ASN1_TIME_free(when);
		}
		fclose(f);
	}
	if (ok && X509_CRL_sort(crl) &&
	    X509_CRL_sign(crl, ca->key, digest_for(ca->key))) {
		snprintf(path, sizeof(path), "%s/ca.crl", ca->dir);
		rc = store_write_crl(path, crl, 1);
	} else if (ok) {
		pki_err("cannot sign the CRL");
	}
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return rc;
}

int
pki_ca_revoke(struct pki_ca *ca, X509 *cert, int days)
{
	char path[4200], hex[72];
	FILE *f;

	if (X509_check_issued(ca->cert, cert) != X509_V_OK) {
		fprintf(stderr,
		    "dbtls-certs: that certificate was not issued "
		    "by %s/ca.crt\n",
		    ca->dir);
		return -1;
	}
	allow_serial(cert, hex, sizeof(hex));
	snprintf(path, sizeof(path), "%s/revoked.txt", ca->dir);
	if ((f = fopen(path, "a")) == NULL) {
		fprintf(stderr, "dbtls-certs: cannot append to %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	fprintf(f, "%s %lld\n", hex, (long long)time(NULL));
	if (fclose(f) != 0) {
		fprintf(stderr, "dbtls-certs: cannot write %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return pki_ca_write_crl(ca, days);
}
