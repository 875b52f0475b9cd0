/* SPDX-License-Identifier: MIT */
/*
 * store.h: files of dbtls-certs.  Writes are atomic (a temp file beside
 * the target with the final mode from the start, fsync, rename, fsync of
 * the directory), so a reader never sees half a key or certificate.
 */
#ifndef CERTS_STORE_H
#define CERTS_STORE_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * store_write(path, data, len, mode, force): atomically replace path with
 * data.  Without force an existing file is an error.  Owner and mode as
 * store_set_owner says.  0, or -1 with the reason printed.
 */
int store_write(const char *path, const void *data, size_t len, mode_t mode,
    int force);

/*
 * store_set_owner(user, group): files written from now on belong to them
 * (either may be NULL), and keys become readable by that group (0640).
 * Without it, a replaced file keeps its owner, group and group read.
 * 0, or -1 (printed) for an unknown name.
 */
int store_set_owner(const char *user, const char *group);

/* store_copy(from, to): atomically copy a file, keeping mode and owner. */
int store_copy(const char *from, const char *to);

/* store_exists(path): 1 if path exists. */
int store_exists(const char *path);

/* PEM writers on top of store_write: keys 0600, the rest 0644. */
int store_write_key(const char *path, EVP_PKEY *key, int force);
int store_write_certs(const char *path, X509 *const *certs, int n, int force);
int store_write_req(const char *path, X509_REQ *req, int force);
int store_write_crl(const char *path, X509_CRL *crl, int force);

/*
 * store_read_certs(path, &n): every certificate in a PEM file, in order,
 * or NULL (reason printed) if there is none or the file cannot be read.
 * Free with store_free_certs(certs, n).
 */
X509 **store_read_certs(const char *path, int *n);
void store_free_certs(X509 **certs, int n);
EVP_PKEY *store_read_key(const char *path);
X509_REQ *store_read_req(const char *path);
X509_CRL *store_read_crl(const char *path);

#endif
