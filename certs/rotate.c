/* SPDX-License-Identifier: MIT */
/*
 * rotate.c: dbtls-certs rotate.  For every leaf certificate the agent
 * config names (each file once), a new key of the same type and a new
 * certificate with the same subject and SANs, from the CA in --ca.  The
 * previous pair is kept as *.prev; the new key is installed before the
 * new certificate, each by atomic rename, so a reload in between sees the
 * old certificate with a new key, refuses it as a mismatch and keeps
 * serving, and the next reload takes both.  With --reload the running
 * agent is told: SIGHUP to the pid in the config's pidfile, or
 * "systemctl reload dbtls-agent" when the config names none.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/allow.h"
#include "common/cfg.h"
#include "certs/args.h"
#include "certs/pki.h"
#include "certs/rotate.h"
#include "certs/store.h"

extern char **environ;

/* validity_days: the old certificate's lifetime, which the new one keeps. */
static int
validity_days(X509 *x)
{
	int days = 0, secs = 0;

	if (!ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
		X509_get0_notAfter(x)) ||
	    days < 1)
		return 90;
	return days + (secs > 0);
}

/* trusted_by: the new leaf verifies against some certificate in ca. */
static int
trusted_by(X509 *leaf, const char *ca)
{
	int n, ok = 0;
	X509 **certs = store_read_certs(ca, &n);

	for (int i = 0; certs && i < n && !ok; i++)
		ok = X509_verify(leaf, X509_get0_pubkey(certs[i])) == 1;
	store_free_certs(certs, certs ? n : 0);
	ERR_clear_error();
	return ok;
}

static int
rotate_one(const struct cfg_tunnel *t, struct pki_ca *ca, int days, int dry_run)
{
	const char *crt = t->tls.cert.path, *keyp = t->tls.key.path;
	char prev[4200], oldser[72], newser[72];
	X509 **certs, *leaf = NULL;
	EVP_PKEY *key = NULL;
	GENERAL_NAMES *sans;
	int n, rc = -1;

	if ((certs = store_read_certs(crt, &n)) == NULL)
		return -1;
	allow_serial(certs[0], oldser, sizeof(oldser));
	if (dry_run) {
		printf("would rotate %s and %s (serial %s, tunnel %s)\n", crt,
		    keyp, oldser, t->name);
		store_free_certs(certs, n);
		return 0;
	}
	sans = pki_cert_sans(certs[0]);
	if ((key = pki_keygen(pki_keytype_of(X509_get0_pubkey(certs[0])))) ==
		NULL ||
	    (leaf = pki_make_leaf(key, X509_get_subject_name(certs[0]), sans,
		 ca, days ? days : validity_days(certs[0]))) == NULL)
		goto out;
	snprintf(prev, sizeof(prev), "%s.prev", crt);
	if (store_copy(crt, prev) != 0)
		goto out;
	snprintf(prev, sizeof(prev), "%s.prev", keyp);
	if (store_copy(keyp, prev) != 0)
		goto out;
	if (store_write_key(keyp, key, 1) != 0 ||
	    pki_write_leaf(crt, leaf, ca, 1) != 0)
		goto out;
	allow_serial(leaf, newser, sizeof(newser));
	printf("rotated %s (serial %s -> %s), previous kept as %s.prev\n", crt,
	    oldser, newser, crt);
	if (!trusted_by(leaf, t->tls.ca.path))
		fprintf(stderr,
		    "dbtls-certs: note: %s/ca.crt is not in %s: "
		    "peers that trust only that file will refuse %s\n",
		    ca->dir, t->tls.ca.path, crt);
	rc = 0;
out:
	GENERAL_NAMES_free(sans);
	X509_free(leaf);
	EVP_PKEY_free(key);
	store_free_certs(certs, n);
	return rc;
}

/* is_agent: pid is a running dbtls-agent, not a process that took over
 * a stale pid. */
static int
is_agent(pid_t pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "dbtls-agent", 11) == 0;
}

/* read_pid: the pid in a pidfile ("%ld\n", as the agent writes): 0, -1. */
static int
read_pid(FILE *f, long *pid)
{
	char line[32], *end;
	long v;

	if (fgets(line, sizeof(line), f) == NULL)
		return -1;
	errno = 0;
	v = strtol(line, &end, 10);
	if (end == line || errno == ERANGE || v > INT_MAX) /* pid_t: an int */
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -1;
	*pid = v;
	return 0;
}

static int
tell_agent(const struct cfg *cfg, const char *unit)
{
	long pid;
	FILE *f;
	pid_t child;
	int status;

	if (cfg->pidfile == NULL) {
		char *argv[] = { "systemctl", "reload", (char *)unit, NULL };

		if (posix_spawnp(&child, "systemctl", NULL, NULL, argv,
			environ) != 0 ||
		    waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr,
			    "dbtls-certs: the config names no "
			    "pidfile and \"systemctl reload %s\" failed: "
			    "reload the agent yourself\n",
			    unit);
			return -1;
		}
		printf("asked systemd to reload %s\n", unit);
		return 0;
	}
	if ((f = fopen(cfg->pidfile, "r")) == NULL || read_pid(f, &pid) != 0 ||
	    pid <= 1) {
		fprintf(stderr, "dbtls-certs: cannot read a pid from %s%s%s\n",
		    cfg->pidfile, f ? "" : ": ", f ? "" : strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	if (!is_agent((pid_t)pid)) {
		fprintf(stderr,
		    "dbtls-certs: pid %ld in %s is not a running "
		    "dbtls-agent (a stale pidfile?): reload the agent "
		    "yourself\n",
		    pid, cfg->pidfile);
		return -1;
	}
	if (kill((pid_t)pid, SIGHUP) != 0) {
		fprintf(stderr,
		    "dbtls-certs: cannot signal the agent (pid "
		    "%ld from %s): %s\n",
		    pid, cfg->pidfile, strerror(errno));
		return -1;
	}
	printf("asked the agent (pid %ld) to reload\n", pid);
	return 0;
}

int
rotate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ca", required_argument, NULL, 'a' },
		{ "days", required_argument, NULL, 'd' },
		{ "reload", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "owner", required_argument, NULL, 'O' },
		{ "unit", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *cadir = NULL, *unit = "dbtls-agent.service";
	int days = 0, reload = 0, dry = 0, ch, rc = 0;
	struct pki_ca ca;
	struct cfg *cfg;
	char err[1024];

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'a':
			cadir = optarg;
			break;
		case 'd':
			if (args_whole(optarg, &days) != 0)
				days = -1; /* refused below */
			break;
		case 'r':
			reload = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'u':
			unit = optarg;
			break;
		case 'O':
		case 'G':
			if (store_set_owner(ch == 'O' ? optarg : NULL,
				ch == 'G' ? optarg : NULL) != 0)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (path == NULL || cadir == NULL || optind != argc || days < 0) {
		fprintf(stderr,
		    "usage: dbtls-certs rotate --config FILE --ca "
		    "DIR [--days N] [--reload [--unit UNIT]] [--dry-run]\n"
		    "       [--owner USER] [--group GROUP]\n");
		return 2;
	}
	if ((cfg = cfg_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dbtls-certs: %s\n", err);
		return 2;
	}
	if (pki_ca_load(cadir, &ca) != 0) {
		cfg_free(cfg);
		return 2;
	}
	for (size_t i = 0; i < cfg->ntunnels && rc == 0; i++) {
		const struct cfg_tunnel *t = &cfg->tunnels[i];
		int done = 0;

		for (size_t j = 0; j < i && !done; j++)
			done = strcmp(cfg->tunnels[j].tls.cert.path,
				   t->tls.cert.path) == 0;
		if (!done && rotate_one(t, &ca, days, dry) != 0)
			rc = 2;
	}
	if (rc == 0 && reload && !dry && tell_agent(cfg, unit) != 0)
		rc = 2;
	pki_ca_free(&ca);
	cfg_free(cfg);
	return rc;
}
