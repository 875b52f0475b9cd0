/* SPDX-License-Identifier: MIT */
/* test_addr.c: parsing and printing of tunnel addresses. */
#include "common/addr.h"
#include "harness.h"

static void
ok(const char *s, enum addr_kind kind, const char *host, int port, int numeric)
{
	struct addr a;
	char err[128], back[300];

	CHECK_EQ(addr_parse(s, &a, err, sizeof(err)), 0);
	CHECK_EQ(a.kind, kind);
	if (kind == ADDR_TCP) {
		CHECK_STR(a.host, host);
		CHECK_EQ(a.port, port);
		CHECK_EQ(a.numeric, numeric);
	} else {
		CHECK_STR(a.path, host);
	}
	CHECK_STR(addr_format(&a, back, sizeof(back)), s);
}

static void
bad(const char *s, const char *why)
{
	struct addr a;
	char err[128] = "";

	CHECK_EQ(addr_parse(s, &a, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, why);
}

static void
local(const char *s, int want)
{
	struct addr a;
	char err[128];

	CHECK_EQ(addr_parse(s, &a, err, sizeof(err)), 0);
	CHECK_EQ(addr_is_local(&a), want);
}

int
main(void)
{
	local("127.0.0.1:5432", 1);
	local("127.8.9.10:5432", 1);
	local("[::1]:5432", 1);
	local("[::ffff:127.0.0.1]:5432", 1);
	local("localhost:5432", 1);
	local("unix:/var/run/postgresql/.s.PGSQL.5432", 1);
	local("10.0.0.5:5432", 0);
	local("128.0.0.1:5432", 0);
	local("[::2]:5432", 0);
	local("[::ffff:10.0.0.1]:5432", 0);
	local("db1.example.com:5432", 0);
	local("0.0.0.0:5432", 0);
	char long_path[200];

	ok("127.0.0.1:6432", ADDR_TCP, "127.0.0.1", 6432, 1);
	ok("0.0.0.0:0", ADDR_TCP, "0.0.0.0", 0, 1);
	ok("[::1]:7432", ADDR_TCP, "::1", 7432, 1);
	ok("[fe80::1]:65535", ADDR_TCP, "fe80::1", 65535, 1);
	ok("db1.example.com:7432", ADDR_TCP, "db1.example.com", 7432, 0);
	ok("unix:/run/dbtls/pg.sock", ADDR_UNIX, "/run/dbtls/pg.sock", 0, 0);

	bad("127.0.0.1", "missing port");
	bad("127.0.0.1:", "missing port");
	bad(":5432", "missing host");
	bad("host:65536", "out of range");
	bad("host:-1", "not a number");
	bad("host:54x", "not a number");
	bad("::1:5432", "brackets");
	bad("[::1:5432", "missing ']'");
	bad("[::1]5432", "missing port");
	bad("[db.example.com]:5432", "not an IPv6 address");
	bad("unix:relative.sock", "absolute");
	memset(long_path, 'a', sizeof(long_path));
	memcpy(long_path, "unix:/", 6);
	long_path[sizeof(long_path) - 1] = '\0';
	bad(long_path, "too long");
	return harness_done("test_addr");
}
