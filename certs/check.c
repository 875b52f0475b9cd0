/* SPDX-License-Identifier: MIT */
/*
 * check.c: dbtls-certs check.  Each file is judged once, however many
 * tunnels name it: a leaf must parse, match its key, be in date and chain
 * to the tunnel's CA file; a key must be readable only by its owner; CA
 * certificates must be in date; a CRL must be signed by a CA in the CA
 * file and not past its next update.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/analyzer.h"
#include "common/cfg.h"
#include "common/tlsctx.h"
#include "certs/args.h"
#include "certs/check.h"
#include "certs/inspect.h"
#include "certs/store.h"

enum verdict { V_OK, V_WARN, V_INVALID };

struct checker {
	int json;
	int warn_days;
	enum verdict worst;
	int nresults;
	char **seen; /* "kind path" judged already */
	int nseen;
};

/* copy is kept in k->seen, freed at the end of check_main; gcc 12's
 * analyzer loses it when realloc keeps the block in place. */
LEAK_CHECK_OFF
static int
already(struct checker *k, const char *kind, const char *path)
{
	char key[4200];
	char **more, *copy;

	snprintf(key, sizeof(key), "%s %s", kind, path);
	for (int i = 0; i < k->nseen; i++)
		if (strcmp(k->seen[i], key) == 0)
			return 1;
	/* Out of memory: judged again later, which is only slower. */
	if ((copy = strdup(key)) == NULL)
		return 0;
	if ((more = realloc(k->seen, sizeof(*more) * (size_t)(k->nseen + 1))) ==
	    NULL) {
		free(copy);
		return 0;
	}
	k->seen = more;
	k->seen[k->nseen++] = copy;
	return 0;
}
LEAK_CHECK_ON

static void report(struct checker *k, enum verdict v, const char *kind,
    const char *file, int days, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
report(struct checker *k, enum verdict v, const char *kind, const char *file,
    int days, const char *fmt, ...)
{
	static const char *const names[] = { "ok", "warn", "invalid" };
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (v > k->worst)
		k->worst = v;
	if (k->json) {
		printf(
		    "%s\n  {\"status\": \"%s\", \"kind\": \"%s\", \"file\": ",
		    k->nresults ? "," : "", names[v], kind);
		json_string(stdout, file);
		printf(", \"detail\": ");
		json_string(stdout, detail);
		if (days != INT32_MIN)
			printf(", \"days_left\": %d", days);
		printf("}");
	} else {
		printf("%-7s %-4s %s: %s\n", names[v], kind, file, detail);
	}
	k->nresults++;
}

/* judge_dates: invalid if expired, warn if within warn-days. */
static enum verdict
judge_dates(struct checker *k, X509 *x, int *days)
{
	*days = inspect_days_left(x);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		return V_INVALID;
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		return V_INVALID;
	return *days < k->warn_days ? V_WARN : V_OK;
}

static X509_STORE *
load_store(const char *ca)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL || X509_STORE_load_file(st, ca) != 1) {
		X509_STORE_free(st);
		ERR_clear_error();
		return NULL;
	}
	return st;
}

static void
check_leaf(struct checker *k, const struct cfg_tunnel *t)
{
	const char *path = t->tls.cert.path;
	X509 **certs;
	EVP_PKEY *key;
	X509_STORE *st;
	X509_STORE_CTX *vctx;
	STACK_OF(X509) * chain;
	char subject[512], na[40];
	int n, days;
	enum verdict v;

	if (already(k, "cert", path))
		return;
	if ((certs = store_read_certs(path, &n)) == NULL) {
		report(k, V_INVALID, "cert", path, INT32_MIN,
		    "unreadable or "
		    "no PEM certificate");
		return;
	}
	inspect_subject(X509_get_subject_name(certs[0]), subject,
	    sizeof(subject));
	inspect_date(X509_get0_notAfter(certs[0]), na, sizeof(na));
	v = judge_dates(k, certs[0], &days);
	if ((key = store_read_key(t->tls.key.path)) == NULL ||
	    X509_check_private_key(certs[0], key) != 1) {
		ERR_clear_error();
		report(k, V_INVALID, "cert", path, days,
		    "%s: key %s does not "
		    "match it",
		    subject, t->tls.key.path);
		goto out;
	}
	if ((st = load_store(t->tls.ca.path)) == NULL) {
		report(k, V_INVALID, "cert", path, days,
		    "%s: cannot load the "
		    "CA file %s to verify it",
		    subject, t->tls.ca.path);
		goto out;
	}
	chain = sk_X509_new_null();
	for (int i = 1; i < n; i++)
		sk_X509_push(chain, certs[i]);
	vctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(vctx, st, certs[0], chain);
	if (X509_verify_cert(vctx) != 1) {
		report(k, V_INVALID, "cert", path, days,
		    "%s: does not chain "
		    "to %s: %s",
		    subject, t->tls.ca.path,
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(vctx)));
	} else {
		report(k, v, "cert", path, days, "%s, %s %s (%d day%s)",
		    subject, v == V_INVALID ? "expired" : "expires", na, days,
		    abs(days) == 1 ? "" : "s");
	}
	ERR_clear_error();
	X509_STORE_CTX_free(vctx);
	sk_X509_free(chain);
	X509_STORE_free(st);
out:
	EVP_PKEY_free(key);
	store_free_certs(certs, n);
}

static void
check_key(struct checker *k, const char *path, gid_t group)
{
	struct stat st;

	if (already(k, "key", path))
		return;
	if (stat(path, &st) != 0) {
		report(k, V_INVALID, "key", path, INT32_MIN, "cannot read it");
		return;
	}
	if (!tlsctx_key_private(path, &st, group))
		report(k, V_INVALID, "key", path, INT32_MIN,
		    "open to group or "
		    "others (mode %04o, gid %u, or an ACL): the agent refuses "
		    "it; chmod 600, or 640 in the group the config names",
		    (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
	else
		report(k, V_OK, "key", path, INT32_MIN, "mode %04o",
		    (unsigned)(st.st_mode & 07777));
}

static void
check_ca(struct checker *k, const char *path)
{
	X509 **certs;
	char subject[512], na[40];
	int n, days;

	if (already(k, "ca", path))
		return;
	if ((certs = store_read_certs(path, &n)) == NULL) {
		report(k, V_INVALID, "ca", path, INT32_MIN,
		    "unreadable or no "
		    "PEM certificate");
		return;
	}
	for (int i = 0; i < n; i++) {
		enum verdict v = judge_dates(k, certs[i], &days);

		inspect_subject(X509_get_subject_name(certs[i]), subject,
		    sizeof(subject));
		inspect_date(X509_get0_notAfter(certs[i]), na, sizeof(na));
		report(k, v, "ca", path, days, "%s, %s %s (%d day%s)", subject,
		    v == V_INVALID ? "expired" : "expires", na, days,
		    abs(days) == 1 ? "" : "s");
	}
	store_free_certs(certs, n);
}

static void
check_crl(struct checker *k, const char *path, const char *ca)
{
	X509_CRL *crl;
	X509 **certs;
	const ASN1_TIME *next;
	int n, days = 0, secs = 0, signed_ok = 0;
	char when[40];

	if (already(k, "crl", path))
		return;
	if ((crl = store_read_crl(path)) == NULL) {
		report(k, V_INVALID, "crl", path, INT32_MIN,
		    "unreadable or "
		    "no PEM CRL");
		return;
	}
	if ((certs = store_read_certs(ca, &n)) != NULL) {
		for (int i = 0; i < n && !signed_ok; i++)
			signed_ok = X509_CRL_verify(crl,
					X509_get0_pubkey(certs[i])) == 1;
		store_free_certs(certs, n);
	}
	ERR_clear_error();
	next = X509_CRL_get0_nextUpdate(crl);
	if (next != NULL)
		ASN1_TIME_diff(&days, &secs, NULL, next);
	if (!signed_ok)
		report(k, V_INVALID, "crl", path, INT32_MIN,
		    "not signed by a "
		    "CA in %s",
		    ca);
	else if (next != NULL && X509_cmp_current_time(next) < 0)
		report(k, V_INVALID, "crl", path, days,
		    "next update was due "
		    "%s: the agent refuses it",
		    inspect_date(next, when, sizeof(when)));
	else
		report(k, next && days < k->warn_days ? V_WARN : V_OK, "crl",
		    path, next ? days : INT32_MIN, "%d revoked, next update %s",
		    sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)),
		    next ? inspect_date(next, when, sizeof(when)) : "none");
	X509_CRL_free(crl);
}

int
check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "warn-days", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct checker k = { .warn_days = 30 };
	const char *path = NULL;
	struct cfg *cfg;
	char err[1024];
	int ch, bad = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'w':
			if (args_whole(optarg, &k.warn_days) != 0)
				bad = 1;
			break;
		case 'j':
			k.json = 1;
			break;
		default:
			return 2;
		}
	}
	if (path == NULL || optind != argc || bad) {
		fprintf(stderr,
		    "usage: dbtls-certs check --config FILE "
		    "[--warn-days 30] [--json]\n");
		return 2;
	}
	if ((cfg = cfg_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dbtls-certs: %s\n", err);
		return 2;
	}
	if (k.json) {
		printf("{\"config\": ");
		json_string(stdout, path);
		printf(", \"results\": [");
	}
	for (size_t i = 0; i < cfg->ntunnels; i++) {
		const struct cfg_tunnel *t = &cfg->tunnels[i];

		check_leaf(&k, t);
		check_key(&k, t->tls.key.path, cfg->gid);
		check_ca(&k, t->tls.ca.path);
		if (t->tls.crl.path != NULL)
			check_crl(&k, t->tls.crl.path, t->tls.ca.path);
	}
	if (k.json)
		printf("\n], \"status\": \"%s\"}\n",
		    k.worst == V_OK	  ? "ok" :
			k.worst == V_WARN ? "warn" :
					    "invalid");
	for (int i = 0; i < k.nseen; i++)
		free(k.seen[i]);
	free(k.seen);
	cfg_free(cfg);
	return k.worst == V_OK ? 0 : k.worst == V_WARN ? 1 : 2;
}
