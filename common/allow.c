/* SPDX-License-Identifier: MIT */
/*
 * allow.c: allow-list matching on verified peer certificates.  Names are
 * compared as exact strings; a name with an embedded NUL never matches.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "common/allow.h"

/* cert_cn(cert, buf, len): the last CN of the subject, or NULL. */
static const char *
cert_cn(X509 *cert, char *buf, size_t len)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int idx = -1, i;
	ASN1_STRING *d;
	unsigned char *u = NULL;
	int n;

	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
		idx = i;
	if (idx < 0)
		return NULL;
	d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	if ((n = ASN1_STRING_to_UTF8(&u, d)) < 0)
		return NULL;
	if ((size_t)n >= len || memchr(u, '\0', (size_t)n) != NULL) {
		OPENSSL_free(u);
		return NULL;
	}
	memcpy(buf, u, (size_t)n);
	buf[n] = '\0';
	OPENSSL_free(u);
	return buf;
}

/* san_str: the IA5 string of a DNS or URI name, or NULL if malformed. */
static const char *
san_str(const GENERAL_NAME *g, int type, int *len)
{
	const ASN1_IA5STRING *s;

	if (g->type != type)
		return NULL;
	s = type == GEN_DNS ? g->d.dNSName : g->d.uniformResourceIdentifier;
	*len = ASN1_STRING_length(s);
	if (memchr(ASN1_STRING_get0_data(s), '\0', (size_t)*len) != NULL)
		return NULL;
	return (const char *)ASN1_STRING_get0_data(s);
}

static int
san_in(char **list, size_t n, const char *v, int len, int nocase)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(list[i]) != (size_t)len)
			continue;
		if (nocase ? strncasecmp(list[i], v, (size_t)len) == 0 :
			     memcmp(list[i], v, (size_t)len) == 0)
			return 1;
	}
	return 0;
}

/* ou_match: any OU of the subject in the list; appends them to why. */
static int
ou_match(const struct cfg_allow *a, X509 *cert, char *why, size_t len,
    size_t *w)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int idx = -1, matched = 0;

	while ((idx = X509_NAME_get_index_by_NID(name,
		    NID_organizationalUnitName, idx)) >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(name, idx));
		unsigned char *u = NULL;
		int n = ASN1_STRING_to_UTF8(&u, d);

		if (n < 0)
			continue;
		if (memchr(u, '\0', (size_t)n) == NULL) {
			for (size_t i = 0; i < a->nou; i++)
				matched |= strlen(a->ou[i]) == (size_t)n &&
				    memcmp(a->ou[i], u, (size_t)n) == 0;
			if (*w < len)
				*w += (size_t)snprintf(why + *w, len - *w,
				    ", OU=%.*s", n, u);
		}
		OPENSSL_free(u);
	}
	return matched;
}

int
allow_spki_sha256(X509 *cert, unsigned char out[CFG_SPKI_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	int ok = n > 0 &&
	    EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == CFG_SPKI_LEN;

	OPENSSL_free(der);
	return ok ? 0 : -1;
}

/* spki_match: the key's pin in the list; appends it (base64) to why. */
static int
spki_match(const struct cfg_allow *a, X509 *cert, char *why, size_t len,
    size_t *w)
{
	unsigned char pin[CFG_SPKI_LEN], b64[64];
	int matched = 0;

	if (allow_spki_sha256(cert, pin) != 0)
		return 0;
	for (size_t i = 0; i < a->nspki; i++)
		matched |= memcmp(a->spki[i], pin, CFG_SPKI_LEN) == 0;
	EVP_EncodeBlock(b64, pin, CFG_SPKI_LEN);
	if (*w < len)
		*w += (size_t)snprintf(why + *w, len - *w, ", spki_sha256=%s",
		    b64);
	return matched;
}

int
allow_match(const struct cfg_allow *a, X509 *cert, char *why, size_t len)
{
	GENERAL_NAMES *sans;
	char cn[256];
	int matched = 0, l;
	size_t w = 0;

	if (cert_cn(cert, cn, sizeof(cn)) != NULL) {
		for (size_t i = 0; i < a->ncn && !matched; i++)
			matched = strcmp(a->cn[i], cn) == 0;
		w += (size_t)snprintf(why + w, len - w, "CN=%s", cn);
	} else {
		w += (size_t)snprintf(why + w, len - w, "no CN");
	}
	matched |= ou_match(a, cert, why, len, &w);
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const char *v;

		if ((v = san_str(g, GEN_DNS, &l)) != NULL) {
			matched |= san_in(a->dns, a->ndns, v, l, 1);
			if (w < len)
				w += (size_t)snprintf(why + w, len - w,
				    ", DNS:%.*s", l, v);
		} else if ((v = san_str(g, GEN_URI, &l)) != NULL) {
			matched |= san_in(a->uri, a->nuri, v, l, 0);
			if (w < len)
				w += (size_t)snprintf(why + w, len - w,
				    ", URI:%.*s", l, v);
		}
	}
	GENERAL_NAMES_free(sans);
	matched |= spki_match(a, cert, why, len, &w);
	return matched;
}

char *
allow_identity(X509 *cert, char *buf, size_t len)
{
	char cn[256];

	if (cert == NULL)
		snprintf(buf, len, "-");
	else if (cert_cn(cert, cn, sizeof(cn)) != NULL)
		snprintf(buf, len, "CN=%s", cn);
	else
		snprintf(buf, len, "(no CN)");
	return buf;
}

char *
allow_serial(X509 *cert, char *buf, size_t len)
{
	BIGNUM *bn = cert ?
	    ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL) :
	    NULL;
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", hex ? hex : "-");
	OPENSSL_free(hex);
	BN_free(bn);
	return buf;
}
