/* SPDX-License-Identifier: MIT */
/*
 * testcert.h: self-signed P-256 certificates made in memory, for unit
 * tests that need a real X509 without files.
 */
#ifndef TESTS_TESTCERT_H
#define TESTS_TESTCERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/*
 * testcert_make(cn, san, &key): a self-signed certificate with subject
 * CN=cn (none if NULL) and subjectAltName san ("DNS:a,URI:b", or NULL),
 * valid for a day.  The caller frees both.
 */
static inline X509 *
testcert_make(const char *cn, const char *san, EVP_PKEY **keyp)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);
	X509V3_CTX v3;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	if (cn != NULL)
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (san != NULL) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_subject_alt_name, san);

		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, key, EVP_sha256());
	*keyp = key;
	return x;
}

#endif
