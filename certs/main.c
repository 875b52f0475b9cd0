/* SPDX-License-Identifier: MIT */
/*
 * main.c: dbtls-certs, the certificate command: a CA, leaves for the
 * agents, requests for outside CAs, signing, revocation, inspection,
 * checks and rotation.  One-shot: every error is printed with the file it
 * concerns and the command exits non-zero.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "certs/args.h"
#include "certs/check.h"
#include "certs/inspect.h"
#include "certs/pki.h"
#include "certs/rotate.h"
#include "certs/store.h"

#define MAX_NAMES 64

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dbtls-certs COMMAND [options]\n"
	    "\n"
	    "  init-ca --dir DIR [--cn NAME] [--days 3650] [--key ec|ed25519|rsa] [--force]\n"
	    "        -> DIR/ca.crt, DIR/ca.key (0600)\n"
	    "  issue --ca DIR --cn NAME [--dns NAME]... [--ip ADDR]... [--uri URI]...\n"
	    "        [--days 90] [--out DIR] [--key ec|ed25519|rsa] [--force]\n"
	    "        [--owner USER] [--group GROUP]\n"
	    "        -> OUT/NAME.crt (leaf, then chain), OUT/NAME.key (0600;\n"
	    "           0640 with --group, for an agent running as that group)\n"
	    "  csr --cn NAME [--dns ...] [--ip ...] [--uri ...] --out DIR [--key TYPE]\n"
	    "        [--owner USER] [--group GROUP]\n"
	    "        -> DIR/NAME.key, DIR/NAME.csr, for an outside CA\n"
	    "  sign --ca DIR --csr FILE [--days 90] --out FILE [--force]\n"
	    "  revoke --ca DIR --cert FILE [--crl-days 30]   -> DIR/ca.crl\n"
	    "  crl --ca DIR [--days 30]                      -> DIR/ca.crl, re-signed\n"
	    "  inspect FILE... [--json]\n"
	    "  check --config AGENT.CONF [--warn-days 30] [--json]\n"
	    "        exit 0 all good, 1 something expires within warn-days, 2 invalid\n"
	    "  rotate --config AGENT.CONF --ca DIR [--days N] [--reload] [--dry-run]\n"
	    "        [--unit UNIT] [--owner USER] [--group GROUP]\n"
	    "        new files keep the old ones' owner, group and mode; --reload\n"
	    "        signals the config's pidfile, or reloads UNIT (dbtls-agent.service)\n"
	    "\n"
	    "Defaults: ECDSA P-256 keys, SHA-256, 128-bit random serials.\n");
}

/* opts: what the issuing commands take. */
struct opts {
	const char *dir, *ca, *cn, *out, *csr, *cert;
	const char *dns[MAX_NAMES], *ip[MAX_NAMES], *uri[MAX_NAMES];
	int ndns, nip, nuri;
	int days, force;
	enum pki_keytype keytype;
};

static int
push(const char **list, int *n, const char *v)
{
	if (*n == MAX_NAMES) {
		fprintf(stderr, "dbtls-certs: at most %d names of a kind\n",
		    MAX_NAMES);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

static int
parse_days(const char *s, int *out)
{
	int v;

	if (args_whole(s, &v) != 0 || v < 1 || v > 36500) {
		fprintf(stderr,
		    "dbtls-certs: --days %s: a whole number of days "
		    "from 1 to 36500\n",
		    s);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * parse_opts(argc, argv, o, days, owned): the options; --owner and
 * --group only where owned (issue, csr): a CA's key stays root's alone.
 */
static int
parse_opts(int argc, char **argv, struct opts *o, int days, int owned)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "ca", required_argument, NULL, 'a' },
		{ "cn", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "csr", required_argument, NULL, 'r' },
		{ "cert", required_argument, NULL, 'C' },
		{ "dns", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },
		{ "uri", required_argument, NULL, 'u' },
		{ "days", required_argument, NULL, 'y' },
		{ "crl-days", required_argument, NULL, 'y' },
		{ "key", required_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "owner", required_argument, NULL, 'O' },
		{ "group", required_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->days = days;
	o->keytype = PKI_KEY_EC;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int bad = 0;

		switch (ch) {
		case 'D':
			o->dir = optarg;
			break;
		case 'a':
			o->ca = optarg;
			break;
		case 'n':
			o->cn = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'r':
			o->csr = optarg;
			break;
		case 'C':
			o->cert = optarg;
			break;
		case 'd':
			bad = push(o->dns, &o->ndns, optarg);
			break;
		case 'i':
			bad = push(o->ip, &o->nip, optarg);
			break;
		case 'u':
			bad = push(o->uri, &o->nuri, optarg);
			break;
		case 'y':
			bad = parse_days(optarg, &o->days);
			break;
		case 'f':
			o->force = 1;
			break;
		case 'O':
		case 'G':
			if (!owned) {
				fprintf(stderr,
				    "dbtls-certs: --owner and "
				    "--group are for issue and csr (a CA's "
				    "files stay root's)\n");
				return -1;
			}
			bad = store_set_owner(ch == 'O' ? optarg : NULL,
			    ch == 'G' ? optarg : NULL);
			break;
		case 'k':
			if ((bad = pki_keytype_parse(optarg, &o->keytype)) != 0)
				fprintf(stderr,
				    "dbtls-certs: --key %s: use ec, "
				    "ed25519 or rsa\n",
				    optarg);
			break;
		default:
			return -1;
		}
		if (bad)
			return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "dbtls-certs: unexpected \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	return 0;
}

/* need: a required option is present, else say which. */
static int
need(const char *v, const char *flag, const char *cmd)
{
	if (v != NULL)
		return 0;
	fprintf(stderr,
	    "dbtls-certs %s: %s is required (see dbtls-certs "
	    "--help)\n",
	    cmd, flag);
	return -1;
}

/* file_name: a CN used as a file name must not leave the directory. */
static int
file_name(const char *cn)
{
	if (cn[0] == '\0' || cn[0] == '.' || strchr(cn, '/') != NULL) {
		fprintf(stderr,
		    "dbtls-certs: --cn \"%s\" cannot name files "
		    "(no '/', no leading '.')\n",
		    cn);
		return -1;
	}
	return 0;
}

/* identity: a new key, and the subject and SANs the options ask for. */
struct identity {
	GENERAL_NAMES *sans;
	X509_NAME *subject;
	EVP_PKEY *key;
};

static int
identity_new(const struct opts *o, struct identity *id)
{
	struct pki_names n = { o->cn, (const char **)o->dns, o->ndns,
		(const char **)o->ip, o->nip, (const char **)o->uri, o->nuri };

	memset(id, 0, sizeof(*id));
	return (id->sans = pki_sans(&n)) != NULL &&
		(id->subject = pki_subject(o->cn)) != NULL &&
		(id->key = pki_keygen(o->keytype)) != NULL ?
	    0 :
	    -1;
}

static void
identity_free(struct identity *id)
{
	EVP_PKEY_free(id->key);
	X509_NAME_free(id->subject);
	GENERAL_NAMES_free(id->sans);
}

/* make_dir: the folder keys are written to, made (0700) if missing. */
static int
make_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && !store_exists(dir)) {
		perror(dir);
		return -1;
	}
	return 0;
}

static int
cmd_init_ca(int argc, char **argv)
{
	struct opts o;
	char crt[4200], key[4200];
	EVP_PKEY *k;
	X509 *x;
	int rc = 1;

	if (parse_opts(argc, argv, &o, 3650, 0) != 0 ||
	    need(o.dir, "--dir", "init-ca") != 0)
		return 2;
	if (make_dir(o.dir) != 0)
		return 2;
	snprintf(crt, sizeof(crt), "%s/ca.crt", o.dir);
	snprintf(key, sizeof(key), "%s/ca.key", o.dir);
	if (!o.force && (store_exists(crt) || store_exists(key))) {
		fprintf(stderr,
		    "dbtls-certs: %s already holds a CA; use "
		    "--force to replace it\n",
		    o.dir);
		return 2;
	}
	if ((k = pki_keygen(o.keytype)) == NULL)
		return 2;
	if ((x = pki_make_ca(k, o.cn ? o.cn : "dbtls CA", o.days)) != NULL &&
	    store_write_key(key, k, o.force) == 0 &&
	    store_write_certs(crt, &x, 1, o.force) == 0) {
		printf("wrote %s and %s\n", crt, key);
		rc = 0;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	return rc ? 2 : 0;
}

static int
cmd_issue(int argc, char **argv)
{
	struct opts o;
	struct pki_ca ca;
	struct identity id;
	char crt[4200], key[4200];
	X509 *x = NULL;
	int rc = 2;

	if (parse_opts(argc, argv, &o, 90, 1) != 0 ||
	    need(o.ca, "--ca", "issue") != 0 ||
	    need(o.cn, "--cn", "issue") != 0 || file_name(o.cn) != 0)
		return 2;
	if (o.out == NULL)
		o.out = ".";
	if (make_dir(o.out) != 0)
		return 2;
	snprintf(crt, sizeof(crt), "%s/%s.crt", o.out, o.cn);
	snprintf(key, sizeof(key), "%s/%s.key", o.out, o.cn);
	if (!o.force && (store_exists(crt) || store_exists(key))) {
		fprintf(stderr,
		    "dbtls-certs: %s or %s exists; use --force to "
		    "replace them\n",
		    crt, key);
		return 2;
	}
	if (pki_ca_load(o.ca, &ca) != 0)
		return 2;
	if (identity_new(&o, &id) == 0 &&
	    (x = pki_make_leaf(id.key, id.subject, id.sans, &ca, o.days)) !=
		NULL &&
	    store_write_key(key, id.key, o.force) == 0 &&
	    pki_write_leaf(crt, x, &ca, o.force) == 0) {
		printf("wrote %s and %s\n", crt, key);
		rc = 0;
	}
	X509_free(x);
	identity_free(&id);
	pki_ca_free(&ca);
	return rc;
}

static int
cmd_csr(int argc, char **argv)
{
	struct opts o;
	struct identity id;
	char req[4200], key[4200];
	X509_REQ *r = NULL;
	int rc = 2;

	if (parse_opts(argc, argv, &o, 90, 1) != 0 ||
	    need(o.cn, "--cn", "csr") != 0 ||
	    need(o.out, "--out", "csr") != 0 || file_name(o.cn) != 0 ||
	    make_dir(o.out) != 0)
		return 2;
	snprintf(req, sizeof(req), "%s/%s.csr", o.out, o.cn);
	snprintf(key, sizeof(key), "%s/%s.key", o.out, o.cn);
	if (identity_new(&o, &id) == 0 &&
	    (r = pki_make_req(id.key, id.subject, id.sans)) != NULL &&
	    store_write_key(key, id.key, o.force) == 0 &&
	    store_write_req(req, r, o.force) == 0) {
		printf("wrote %s and %s\n", req, key);
		rc = 0;
	}
	X509_REQ_free(r);
	identity_free(&id);
	return rc;
}

static int
cmd_sign(int argc, char **argv)
{
	struct opts o;
	struct pki_ca ca;
	GENERAL_NAMES *sans;
	X509_REQ *r;
	X509 *x = NULL;
	int rc = 2;

	if (parse_opts(argc, argv, &o, 90, 0) != 0 ||
	    need(o.ca, "--ca", "sign") != 0 ||
	    need(o.csr, "--csr", "sign") != 0 ||
	    need(o.out, "--out", "sign") != 0)
		return 2;
	if ((r = store_read_req(o.csr)) == NULL)
		return 2;
	/* The request must be signed by the key it asks a certificate for:
	 * proof that its sender holds that key. */
	if (X509_REQ_verify(r, X509_REQ_get0_pubkey(r)) != 1) {
		ERR_clear_error();
		fprintf(stderr,
		    "dbtls-certs: %s: the request's signature does "
		    "not verify with its own public key (signed by another "
		    "key, or altered)\n",
		    o.csr);
		X509_REQ_free(r);
		return 2;
	}
	if (pki_ca_load(o.ca, &ca) != 0) {
		X509_REQ_free(r);
		return 2;
	}
	sans = pki_req_sans(r);
	if ((x = pki_make_leaf(X509_REQ_get0_pubkey(r),
		 X509_REQ_get_subject_name(r), sans, &ca, o.days)) != NULL &&
	    pki_write_leaf(o.out, x, &ca, o.force) == 0) {
		printf("wrote %s\n", o.out);
		rc = 0;
	}
	X509_free(x);
	GENERAL_NAMES_free(sans);
	X509_REQ_free(r);
	pki_ca_free(&ca);
	return rc;
}

static int
cmd_revoke(int argc, char **argv, int just_crl)
{
	struct opts o;
	struct pki_ca ca;
	X509 **certs = NULL;
	int n = 0, rc;

	if (parse_opts(argc, argv, &o, 30, 0) != 0 ||
	    need(o.ca, "--ca", just_crl ? "crl" : "revoke") != 0 ||
	    (!just_crl && need(o.cert, "--cert", "revoke") != 0))
		return 2;
	if (!just_crl && (certs = store_read_certs(o.cert, &n)) == NULL)
		return 2;
	if (pki_ca_load(o.ca, &ca) != 0) {
		store_free_certs(certs, n);
		return 2;
	}
	rc = just_crl ? pki_ca_write_crl(&ca, o.days) :
			pki_ca_revoke(&ca, certs[0], o.days);
	if (rc == 0)
		printf("wrote %s/ca.crl\n", o.ca);
	store_free_certs(certs, n);
	pki_ca_free(&ca);
	return rc == 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("dbtls-certs %s (%s)\n", DBTLS_VERSION,
		    OpenSSL_version(OPENSSL_VERSION));
		return 0;
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "init-ca") == 0)
		return cmd_init_ca(argc, argv);
	if (strcmp(cmd, "issue") == 0)
		return cmd_issue(argc, argv);
	if (strcmp(cmd, "csr") == 0)
		return cmd_csr(argc, argv);
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(argc, argv);
	if (strcmp(cmd, "revoke") == 0)
		return cmd_revoke(argc, argv, 0);
	if (strcmp(cmd, "crl") == 0)
		return cmd_revoke(argc, argv, 1);
	if (strcmp(cmd, "inspect") == 0)
		return inspect_main(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return check_main(argc, argv);
	if (strcmp(cmd, "rotate") == 0)
		return rotate_main(argc, argv);
	fprintf(stderr, "dbtls-certs: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
