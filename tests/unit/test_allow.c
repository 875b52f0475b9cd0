/* SPDX-License-Identifier: MIT */
/* test_allow.c: allow-list matching by CN, DNS SAN and URI SAN. */
#include "common/allow.h"
#include "harness.h"
#include "testcert.h"

static int
match(X509 *x, char **cn, size_t ncn, char **dns, size_t ndns, char **uri,
    size_t nuri, char *why, size_t len)
{
	struct cfg_allow a = { cn, ncn, dns, ndns, uri, nuri };

	return allow_match(&a, x, why, len);
}

int
main(void)
{
	char *cn[] = { "app1", "app2" }, *dns[] = { "App1.Example.com" },
	    *uri[] = { "spiffe://example.com/app1" }, *other[] = { "app" };
	char why[256], id[64];
	EVP_PKEY *k1, *k2, *k3;
	X509 *full = testcert_make("app1", "DNS:app1.example.com,"
	    "URI:spiffe://example.com/app1", &k1);
	X509 *sanonly = testcert_make(NULL, "DNS:app1.example.com", &k2);
	X509 *intruder = testcert_make("intruder", "DNS:evil.example.com,"
	    "URI:spiffe://example.com/app1/x", &k3);

	CHECK_EQ(match(full, cn, 2, NULL, 0, NULL, 0, why, sizeof(why)), 1);
	CHECK_EQ(match(full, other, 1, NULL, 0, NULL, 0, why, sizeof(why)), 0);
	CHECK_STR(why, "CN=app1, DNS:app1.example.com, "
	    "URI:spiffe://example.com/app1");
	/* DNS names compare without case; URIs and CNs exactly. */
	CHECK_EQ(match(full, NULL, 0, dns, 1, NULL, 0, why, sizeof(why)), 1);
	CHECK_EQ(match(full, NULL, 0, NULL, 0, uri, 1, why, sizeof(why)), 1);
	CHECK_EQ(match(sanonly, cn, 2, NULL, 0, NULL, 0, why, sizeof(why)), 0);
	CHECK_STR(why, "no CN, DNS:app1.example.com");
	CHECK_EQ(match(sanonly, NULL, 0, dns, 1, NULL, 0, why, sizeof(why)), 1);
	/* A prefix is no match. */
	CHECK_EQ(match(intruder, cn, 2, dns, 1, uri, 1, why, sizeof(why)), 0);
	CHECK_CONTAINS(why, "CN=intruder");

	CHECK_STR(allow_identity(full, id, sizeof(id)), "CN=app1");
	CHECK_STR(allow_identity(sanonly, id, sizeof(id)), "(no CN)");
	CHECK_STR(allow_identity(NULL, id, sizeof(id)), "-");
	X509_free(full);
	X509_free(sanonly);
	X509_free(intruder);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	return harness_done("test_allow");
}
