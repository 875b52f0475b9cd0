/* SPDX-License-Identifier: MIT */
/*
 * store.c: atomic file writes and PEM reading for dbtls-certs.  Errors are
 * printed here, where the path and errno are known.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "certs/store.h"

/* Who owns what is written: set by --owner/--group, else kept from the
 * file replaced, else the caller. */
static uid_t owner_uid = (uid_t)-1;
static gid_t owner_gid = (gid_t)-1;

int
store_set_owner(const char *user, const char *group)
{
	const struct passwd *pw;
	const struct group *gr;

	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			fprintf(stderr,
			    "dbtls-certs: --owner %s: no such "
			    "user\n",
			    user);
			return -1;
		}
		owner_uid = pw->pw_uid;
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			fprintf(stderr,
			    "dbtls-certs: --group %s: no such "
			    "group\n",
			    group);
			return -1;
		}
		owner_gid = gr->gr_gid;
	}
	return 0;
}

static void
ossl_err(const char *path, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	fprintf(stderr, "dbtls-certs: %s: %s%s%s\n", path, what,
	    buf[0] ? ": " : "", buf);
}

static void
fsync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
store_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* write_as: the atomic write, owned by uid:gid (-1: unchanged). */
static int
write_as(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
    gid_t gid)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "dbtls-certs: %s: path too long\n", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr,
		    "dbtls-certs: cannot create a file beside %s: "
		    "%s\n",
		    path, strerror(errno));
		return -1;
	}
	/* Owner and final mode from the first byte: a key is never
	 * readable by others, not even for a moment. */
	if (((uid != (uid_t)-1 || gid != (gid_t)-1) &&
		fchown(fd, uid, gid) != 0) ||
	    fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	fsync_dir(path);
	return 0;

fail:
	fprintf(stderr, "dbtls-certs: cannot write %s: %s\n", path,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int
store_write(const char *path, const void *data, size_t len, mode_t mode,
    int force)
{
	uid_t uid = owner_uid;
	gid_t gid = owner_gid;
	char real[PATH_MAX];
	struct stat old;

	/* A symlink (a Kubernetes ..data layout, a "current" link) stays:
	 * the file it leads to is the one replaced. */
	if (lstat(path, &old) == 0 && S_ISLNK(old.st_mode) &&
	    realpath(path, real) != NULL)
		path = real;
	if (lstat(path, &old) == 0) {
		if (!force) {
			fprintf(stderr,
			    "dbtls-certs: %s exists; use --force "
			    "to replace it\n",
			    path);
			return -1;
		}
		/* A replaced file keeps its owner, and a key its group's
		 * read access: rotation never locks the agent out. */
		if (S_ISREG(old.st_mode)) {
			uid = uid == (uid_t)-1 ? old.st_uid : uid;
			gid = gid == (gid_t)-1 ? old.st_gid : gid;
			if ((mode & 077) == 0)
				mode |= old.st_mode & 040;
		}
	}
	if (owner_gid != (gid_t)-1 && (mode & 077) == 0)
		mode |= 040; /* a key, for the group named */
	return write_as(path, data, len, mode, uid, gid);
}

int
store_copy(const char *from, const char *to)
{
	struct stat st;
	char *buf;
	FILE *f;
	int rc;

	if ((f = fopen(from, "r")) == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "dbtls-certs: cannot read %s: %s\n", from,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "dbtls-certs: cannot read %s\n", from);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = write_as(to, buf, (size_t)st.st_size, st.st_mode & 0777, st.st_uid,
	    st.st_gid);
	free(buf);
	return rc;
}

/* write_bio: store what a PEM writer put into a memory BIO. */
static int
write_bio(const char *path, BIO *b, int ok, mode_t mode, int force)
{
	char *data;
	int rc = -1;

	if (!ok) {
		ossl_err(path, "cannot encode");
	} else {
		long len;

		len = BIO_get_mem_data(b, &data);
		rc = store_write(path, data, (size_t)len, mode, force);
	}
	BIO_free(b);
	return rc;
}

int
store_write_key(const char *path, EVP_PKEY *key, int force)
{
	BIO *b = BIO_new(BIO_s_mem());

	return write_bio(path, b,
	    b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL),
	    0600, force);
}

int
store_write_certs(const char *path, X509 *const *certs, int n, int force)
{
	BIO *b = BIO_new(BIO_s_mem());
	int ok = b != NULL;

	for (int i = 0; ok && i < n; i++)
		ok = PEM_write_bio_X509(b, certs[i]);
	return write_bio(path, b, ok, 0644, force);
}

int
store_write_req(const char *path, X509_REQ *req, int force)
{
	BIO *b = BIO_new(BIO_s_mem());

	return write_bio(path, b, b && PEM_write_bio_X509_REQ(b, req), 0644,
	    force);
}

int
store_write_crl(const char *path, X509_CRL *crl, int force)
{
	BIO *b = BIO_new(BIO_s_mem());

	return write_bio(path, b, b && PEM_write_bio_X509_CRL(b, crl), 0644,
	    force);
}

static BIO *
open_read(const char *path)
{
	BIO *b = BIO_new_file(path, "r");

	if (b == NULL) {
		ERR_clear_error();
		fprintf(stderr, "dbtls-certs: cannot read %s: %s\n", path,
		    strerror(errno));
	}
	return b;
}

X509 **
store_read_certs(const char *path, int *n)
{
	X509 **certs = NULL, *x;
	BIO *b;

	*n = 0;
	if ((b = open_read(path)) == NULL)
		return NULL;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): X509 *[] */
		X509 **more = realloc(certs, sizeof(*certs) * (size_t)(*n + 1));

		if (more == NULL) {
			X509_free(x);
			break;
		}
		certs = more;
		certs[(*n)++] = x;
	}
	ERR_clear_error(); /* the loop ends on "no start line" */
	BIO_free(b);
	if (*n == 0) {
		fprintf(stderr, "dbtls-certs: %s: no PEM certificate in it\n",
		    path);
		free(certs);
		return NULL;
	}
	return certs;
}

void
store_free_certs(X509 **certs, int n)
{
	for (int i = 0; i < n; i++)
		X509_free(certs[i]);
	free(certs);
}

EVP_PKEY *
store_read_key(const char *path)
{
	BIO *b = open_read(path);
	EVP_PKEY *k;

	if (b == NULL)
		return NULL;
	if ((k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		ossl_err(path, "no usable PEM private key");
	BIO_free(b);
	return k;
}

X509_REQ *
store_read_req(const char *path)
{
	BIO *b = open_read(path);
	X509_REQ *r;

	if (b == NULL)
		return NULL;
	if ((r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL)
		ossl_err(path, "no PEM certificate request");
	BIO_free(b);
	return r;
}

X509_CRL *
store_read_crl(const char *path)
{
	BIO *b = open_read(path);
	X509_CRL *c;

	if (b == NULL)
		return NULL;
	if ((c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) == NULL)
		ossl_err(path, "no PEM CRL");
	BIO_free(b);
	return c;
}
