/* SPDX-License-Identifier: MIT */
/*
 * inspect.h: describing certificates for people (text) and programs
 * (JSON): subject, SANs, issuer, serial, validity, days left, key type and
 * size, SHA-256 fingerprint.
 */
#ifndef CERTS_INSPECT_H
#define CERTS_INSPECT_H

#include <stdio.h>

#include <openssl/x509.h>

/* inspect_main(argc, argv): "dbtls-certs inspect FILE... [--json]". */
int inspect_main(int argc, char **argv);

/* inspect_days_left(x): whole days until notAfter (negative if past). */
int inspect_days_left(const X509 *x);

/* inspect_date(t, buf, len): "2027-02-21 05:00:00 UTC". */
char *inspect_date(const ASN1_TIME *t, char *buf, size_t len);

/* inspect_subject(x, buf, len): the subject as "CN=app1,OU=x". */
char *inspect_subject(const X509_NAME *n, char *buf, size_t len);

/* json_string(f, s): s as a JSON string literal, quotes included. */
void json_string(FILE *f, const char *s);

#endif
