/* SPDX-License-Identifier: MIT */
/*
 * allow.h: identity of a peer certificate, and matching it against a
 * tunnel's allow list (common name, DNS SAN or URI SAN; any match admits).
 * Chain verification is OpenSSL's job and has happened before these run.
 */
#ifndef COMMON_ALLOW_H
#define COMMON_ALLOW_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/cfg.h"

/*
 * allow_match(a, cert, why, len): 1 if cert carries a CN, OU, DNS SAN or
 * URI SAN that a lists (exact; DNS names without regard to case), or its
 * public key has a listed SHA-256 pin; else 0.  Either way why says what
 * the certificate carries, pin included, for the log.
 */
int allow_match(const struct cfg_allow *a, X509 *cert, char *why, size_t len);

/* allow_spki_sha256(cert, out): SHA-256 of the DER SubjectPublicKeyInfo. */
int allow_spki_sha256(X509 *cert, unsigned char out[CFG_SPKI_LEN]);

/* allow_serial(cert, buf, len): the serial number in hex, or "-". */
char *allow_serial(X509 *cert, char *buf, size_t len);

/* allow_identity(cert, buf, len): "CN=app1" or a SAN when there is no CN. */
char *allow_identity(X509 *cert, char *buf, size_t len);

#endif
