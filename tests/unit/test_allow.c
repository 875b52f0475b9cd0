/* SPDX-License-Identifier: MIT */
/* test_allow.c: allow-list matching by CN, DNS SAN and URI SAN. */
#include "common/allow.h"
#include "harness.h"
#include "testcert.h"

static int
match(X509 *x, char **cn, size_t ncn, char **dns, size_t ndns, char **uri,
    size_t nuri, char *why, size_t len)
{
	struct cfg_allow a = { .cn = cn,
		.ncn = ncn,
		.dns = dns,
		.ndns = ndns,
		.uri = uri,
		.nuri = nuri };

	return allow_match(&a, x, why, len);
}

int
main(void)
{
	char *cn[] = { "app1", "app2" }, *dns[] = { "App1.Example.com" },
	     *uri[] = { "spiffe://example.com/app1" }, *other[] = { "app" };
	char why[256], id[64];
	EVP_PKEY *k1, *k2, *k3;
	X509 *full = testcert_make("app1",
	    "DNS:app1.example.com,"
	    "URI:spiffe://example.com/app1",
	    &k1);
	X509 *sanonly = testcert_make(NULL, "DNS:app1.example.com", &k2);
	X509 *intruder = testcert_make("intruder",
	    "DNS:evil.example.com,"
	    "URI:spiffe://example.com/app1/x",
	    &k3);

	CHECK_EQ(match(full, cn, 2, NULL, 0, NULL, 0, why, sizeof(why)), 1);
	CHECK_EQ(match(full, other, 1, NULL, 0, NULL, 0, why, sizeof(why)), 0);
	CHECK_CONTAINS(why,
	    "CN=app1, DNS:app1.example.com, "
	    "URI:spiffe://example.com/app1, spki_sha256=");
	/* DNS names compare without case; URIs and CNs exactly. */
	CHECK_EQ(match(full, NULL, 0, dns, 1, NULL, 0, why, sizeof(why)), 1);
	CHECK_EQ(match(full, NULL, 0, NULL, 0, uri, 1, why, sizeof(why)), 1);
	CHECK_EQ(match(sanonly, cn, 2, NULL, 0, NULL, 0, why, sizeof(why)), 0);
	CHECK_CONTAINS(why, "no CN, DNS:app1.example.com, spki_sha256=");
	CHECK_EQ(match(sanonly, NULL, 0, dns, 1, NULL, 0, why, sizeof(why)), 1);
	/* A prefix is no match. */
	CHECK_EQ(match(intruder, cn, 2, dns, 1, uri, 1, why, sizeof(why)), 0);
	CHECK_CONTAINS(why, "CN=intruder");

	/* OU and public-key pins. */
	{
		char *ou[] = { "payments" };
		unsigned char pin[CFG_SPKI_LEN],
		    other_pin[CFG_SPKI_LEN] = { 1 };
		unsigned char pins[2][CFG_SPKI_LEN];
		struct cfg_allow a = { .ou = ou, .nou = 1 };
		EVP_PKEY *k4;
		X509 *withou = testcert_make("svc", NULL, &k4);

		X509_NAME_add_entry_by_txt(X509_get_subject_name(withou), "OU",
		    MBSTRING_ASC, (const unsigned char *)"payments", -1, -1, 0);
		CHECK_EQ(allow_match(&a, withou, why, sizeof(why)), 1);
		CHECK_CONTAINS(why, "OU=payments");
		CHECK_EQ(allow_match(&a, full, why, sizeof(why)), 0);

		CHECK_EQ(allow_spki_sha256(full, pin), 0);
		memcpy(pins[0], other_pin, CFG_SPKI_LEN);
		memcpy(pins[1], pin, CFG_SPKI_LEN);
		a = (struct cfg_allow){ .spki = pins, .nspki = 2 };
		CHECK_EQ(allow_match(&a, full, why, sizeof(why)), 1);
		CHECK_EQ(allow_match(&a, sanonly, why, sizeof(why)), 0);
		a.nspki = 1;
		CHECK_EQ(allow_match(&a, full, why, sizeof(why)), 0);
		X509_free(withou);
		EVP_PKEY_free(k4);
	}

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
