/* SPDX-License-Identifier: MIT */
/*
 * inspect.c: dbtls-certs inspect.  Every certificate in every file named,
 * in order; a file with none is an error (exit 2) after the others have
 * been shown.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "common/allow.h"
#include "certs/inspect.h"
#include "certs/store.h"

void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

int
inspect_days_left(const X509 *x)
{
	int days = 0, secs = 0;

	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		return 0;
	return days < 0 || secs < 0 ? days - (secs < 0) : days;
}

char *
inspect_date(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

char *
inspect_subject(const X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;

	buf[0] = '\0';
	if (b != NULL &&
	    X509_NAME_print_ex(b, n, 0,
		XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		long l;

		l = BIO_get_mem_data(b, &data);
		snprintf(buf, len, "%.*s", (int)l, data);
	}
	BIO_free(b);
	return buf;
}

/* sans_list: "DNS:a", "IP:1.2.3.4", "URI:x" into items; count in *n. */
static void
sans_list(X509 *x, char items[][300], int max, int *n)
{
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);

	*n = 0;
	for (int i = 0; g && i < sk_GENERAL_NAME_num(g) && *n < max; i++) {
		const GENERAL_NAME *e = sk_GENERAL_NAME_value(g, i);
		const ASN1_STRING *s;

		switch (e->type) {
		case GEN_DNS:
		case GEN_URI:
			s = e->type == GEN_DNS ? e->d.dNSName :
						 e->d.uniformResourceIdentifier;
			snprintf(items[(*n)++], 300, "%s:%.*s",
			    e->type == GEN_DNS ? "DNS" : "URI",
			    ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s));
			break;
		case GEN_IPADD: {
			char ip[INET6_ADDRSTRLEN] = "?";
			int l = ASN1_STRING_length(e->d.iPAddress);

			if (l == 4 || l == 16)
				inet_ntop(l == 4 ? AF_INET : AF_INET6,
				    ASN1_STRING_get0_data(e->d.iPAddress), ip,
				    sizeof(ip));
			snprintf(items[(*n)++], 300, "IP:%s", ip);
			break;
		}
		case GEN_EMAIL:
			s = e->d.rfc822Name;
			snprintf(items[(*n)++], 300, "email:%.*s",
			    ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s));
			break;
		}
	}
	GENERAL_NAMES_free(g);
}

static void
key_desc(X509 *x, char *buf, size_t len, int *bits)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	char group[64] = "";
	size_t glen;

	*bits = k ? EVP_PKEY_get_bits(k) : 0;
	if (k == NULL) {
		snprintf(buf, len, "unknown");
	} else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) {
		EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group),
		    &glen);
		snprintf(buf, len, "EC %s",
		    strcmp(group, "prime256v1") == 0 ? "P-256" : group);
	} else {
		snprintf(buf, len, "%s", EVP_PKEY_get0_type_name(k));
	}
}

static void
fingerprint(X509 *x, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t w = 0;

	X509_digest(x, EVP_sha256(), md, &n);
	for (unsigned i = 0; i < n && w + 3 < len; i++)
		w += (size_t)snprintf(buf + w, len - w, "%s%02X", i ? ":" : "",
		    md[i]);
}

static void
describe(const char *file, X509 *x, int json, int first)
{
	char subject[512], issuer[512], nb[40], na[40], key[64], fp[100];
	char sans[32][300];
	char serial[72];
	int nsans, bits, days = inspect_days_left(x);

	allow_serial(x, serial, sizeof(serial));
	inspect_subject(X509_get_subject_name(x), subject, sizeof(subject));
	inspect_subject(X509_get_issuer_name(x), issuer, sizeof(issuer));
	inspect_date(X509_get0_notBefore(x), nb, sizeof(nb));
	inspect_date(X509_get0_notAfter(x), na, sizeof(na));
	sans_list(x, sans, 32, &nsans);
	key_desc(x, key, sizeof(key), &bits);
	fingerprint(x, fp, sizeof(fp));

	if (json) {
		printf("%s\n  {\"file\": ", first ? "" : ",");
		json_string(stdout, file);
		printf(", \"subject\": ");
		json_string(stdout, subject);
		printf(", \"sans\": [");
		for (int i = 0; i < nsans; i++) {
			printf("%s", i ? ", " : "");
			json_string(stdout, sans[i]);
		}
		printf("], \"issuer\": ");
		json_string(stdout, issuer);
		printf(
		    ", \"serial\": \"%s\", \"not_before\": \"%s\", "
		    "\"not_after\": \"%s\", \"days_left\": %d, \"key\": \"%s\", "
		    "\"key_bits\": %d, \"is_ca\": %s, \"sha256\": \"%s\"}",
		    serial, nb, na, days, key, bits,
		    X509_check_ca(x) ? "true" : "false", fp);
	} else {
		printf("%s%s\n", first ? "" : "\n", file);
		printf("  subject:    %s\n", subject);
		printf("  SANs:       ");
		for (int i = 0; i < nsans; i++)
			printf("%s%s", i ? ", " : "", sans[i]);
		printf("%s\n", nsans ? "" : "(none)");
		printf("  issuer:     %s\n", issuer);
		printf("  serial:     %s\n", serial);
		printf("  not before: %s\n", nb);
		printf("  not after:  %s (%s%d day%s%s)\n", na,
		    days < 0 ? "expired " : "", abs(days),
		    abs(days) == 1 ? "" : "s", days < 0 ? " ago" : " left");
		printf("  key:        %s, %d bits%s\n", key, bits,
		    X509_check_ca(x) ? ", CA" : "");
		printf("  sha256:     %s\n", fp);
	}
}

int
inspect_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, ch, rc = 0, first = 1;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return 2;
		json = 1;
	}
	if (optind == argc) {
		fprintf(stderr,
		    "usage: dbtls-certs inspect FILE... [--json]\n");
		return 2;
	}
	if (json)
		printf("[");
	for (int i = optind; i < argc; i++) {
		int n;
		X509 **certs = store_read_certs(argv[i], &n);

		if (certs == NULL) {
			rc = 2;
			continue;
		}
		for (int j = 0; j < n; j++, first = 0)
			describe(argv[i], certs[j], json, first);
		store_free_certs(certs, n);
	}
	if (json)
		printf("\n]\n");
	return rc;
}
