/* SPDX-License-Identifier: MIT */
/* test_cfg.c: config parsing, defaults, inheritance and errors. */
#include <openssl/ssl.h>

#include "common/cfg.h"
#include "harness.h"

static const char good[] =
    "workers = 3;\n"
    "log_level = \"debug\";\n"
    "connect_timeout = 2.5;\n"
    "tls = { cert = \"/c.crt\"; key = \"/c.key\"; ca = \"/ca.crt\"; };\n"
    "tunnels = (\n"
    "  { name = \"pg\"; mode = \"client\"; protocol = \"postgresql\";\n"
    "    listen = \"127.0.0.1:6432\"; connect = \"db1.example.com:7432\";\n"
    "    server_name = \"db.internal\"; idle_timeout = 60; },\n"
    "  { name = \"pg-in\"; mode = \"server\"; protocol = \"postgresql\";\n"
    "    listen = \"0.0.0.0:7432\"; connect = \"unix:/run/pg/.s.PGSQL.5432\";\n"
    "    tls = { cert = \"/s.crt\"; key = \"/s.key\"; min_version = \"1.2\"; };\n"
    "    allow = { cn = [ \"app1\" ]; dns = [ \"a.example.com\" ];\n"
    "              uri = [ \"spiffe://x/app1\", \"spiffe://x/app2\" ]; };\n"
    "    max_connections = 10; keepalive = 0; },\n"
    "  { name = \"m\"; mode = \"client\"; protocol = \"mongodb\";\n"
    "    listen = \"unix:/run/m.sock\"; connect = \"10.0.0.5:27443\"; }\n"
    ");\n";

static void
bad(const char *text, const char *want)
{
	char err[512] = "";
	struct cfg *c = cfg_load_string(text, "agent.conf", err, sizeof(err));

	CHECK(c == NULL);
	CHECK_CONTAINS(err, want);
	cfg_free(c);
}

#define TLS_TOP "tls = { cert = \"/c\"; key = \"/k\"; ca = \"/a\"; };\n"
#define SERVER_HEAD                                       \
	"tunnels = ( { name = \"s\"; mode = \"server\"; " \
	"protocol = \"tcp\"; listen = \"127.0.0.1:1\"; connect = \"127.0.0.1:2\";"

int
main(void)
{
	char err[512] = "";
	struct cfg *c = cfg_load_string(good, "agent.conf", err, sizeof(err));
	const struct cfg_tunnel *t;

	CHECK(c != NULL);
	if (c == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK_EQ(c->workers, 3);
	CHECK_EQ(c->log_level, LOG_LVL_DEBUG);
	CHECK_EQ(c->ntunnels, 3);

	t = &c->tunnels[0];
	CHECK_STR(t->name, "pg");
	CHECK_EQ(t->mode, CFG_MODE_CLIENT);
	CHECK_EQ(t->proto, CFG_PROTO_POSTGRESQL);
	CHECK_STR(t->server_name, "db.internal");
	CHECK_STR(t->tls.cert.path, "/c.crt");
	CHECK_EQ(t->tls.cert.line, 4);
	CHECK_EQ(t->tls.min_version, TLS1_3_VERSION);
	CHECK_EQ(t->connect_timeout_ms, 2500);	  /* top level */
	CHECK_EQ(t->handshake_timeout_ms, 10000); /* default */
	CHECK_EQ(t->idle_timeout_ms, 60000);
	CHECK_EQ(t->keepalive_s, 30);
	CHECK_EQ(t->max_connections, 4096);
	CHECK_EQ(t->connect.numeric, 0);

	t = &c->tunnels[1];
	CHECK_EQ(t->mode, CFG_MODE_SERVER);
	CHECK_STR(t->tls.cert.path, "/s.crt"); /* tunnel overrides */
	CHECK_STR(t->tls.ca.path, "/ca.crt");  /* inherited */
	CHECK_EQ(t->tls.min_version, TLS1_2_VERSION);
	CHECK_EQ(t->has_allow, 1);
	CHECK_EQ(t->allow.ncn, 1);
	CHECK_EQ(t->allow.ndns, 1);
	CHECK_EQ(t->allow.nuri, 2);
	CHECK_STR(t->allow.uri[1], "spiffe://x/app2");
	CHECK_EQ(t->connect.kind, ADDR_UNIX);
	CHECK_EQ(t->max_connections, 10);
	CHECK_EQ(t->keepalive_s, 0);
	CHECK_EQ(t->idle_timeout_ms, 0);

	t = &c->tunnels[2];
	CHECK_EQ(t->proto, CFG_PROTO_MONGODB);
	CHECK_STR(t->server_name, "10.0.0.5"); /* host of connect */
	CHECK_EQ(t->listen.kind, ADDR_UNIX);
	cfg_free(c);

	bad("tunnels = (", "agent.conf:1: syntax error");
	bad("tls = {};\n", "\"tunnels\" must be a non-empty list");
	bad(TLS_TOP "bogus = 1;\ntunnels = ();",
	    "agent.conf:2: unknown "
	    "setting \"bogus\"");
	bad(TLS_TOP "tunnels = ( { name = \"a\"; mode = \"client\"; "
		    "protocol = \"pgsql\"; } );",
	    "agent.conf:2: tunnel \"a\": unknown "
	    "protocol \"pgsql\"");
	bad(TLS_TOP "tunnels = ( { mode = \"client\"; } );",
	    "tunnel without a \"name\"");
	bad(TLS_TOP "tunnels = ( { name = \"a\"; mode = \"both\"; } );",
	    "unknown mode \"both\"");
	bad(TLS_TOP SERVER_HEAD " } );",
	    "a server tunnel must say who may "
	    "connect");
	bad(TLS_TOP SERVER_HEAD " allow = { }; } );", "\"allow\" names nobody");
	bad(TLS_TOP SERVER_HEAD " allow = { cn = [ \"\" ]; }; } );",
	    "allow.cn holds a value that is not a non-empty string");
	bad(TLS_TOP SERVER_HEAD " allow_any = true; allow = { cn = [\"a\"]; };"
				" } );",
	    "contradict");
	bad(TLS_TOP SERVER_HEAD " allow_any = true; server_name = \"x\"; } );",
	    "server_name is for client tunnels");
	bad(TLS_TOP SERVER_HEAD " allow_any = true; max_connections = 0; } );",
	    "\"max_connections\" = 0 is out of range");
	bad(TLS_TOP SERVER_HEAD
	    " allow_any = true; idle_timeout = \"1h\"; } );",
	    "\"idle_timeout\" must be a number");
	bad(SERVER_HEAD " allow_any = true; } );",
	    "needs tls cert, key and "
	    "ca");
	bad(TLS_TOP "tunnels = ( { name = \"a\"; mode = \"client\"; "
		    "protocol = \"tcp\"; listen = \"127.0.0.1:1\"; "
		    "connect = \"unix:/x\"; } );",
	    "server_name must say");
	bad(TLS_TOP SERVER_HEAD
	    " allow_any = true; },\n { name = \"s\"; "
	    "mode = \"server\"; protocol = \"tcp\"; listen = \"127.0.0.1:3\"; "
	    "connect = \"127.0.0.1:2\"; allow_any = true; } );",
	    "agent.conf:3: tunnel \"s\": name already used on line 2");
	bad(TLS_TOP SERVER_HEAD
	    " allow_any = true; },\n { name = \"t\"; "
	    "mode = \"server\"; protocol = \"tcp\"; listen = \"127.0.0.1:1\"; "
	    "connect = \"127.0.0.1:2\"; allow_any = true; } );",
	    "listen address already used by tunnel \"s\"");
	{
		unsigned char pin[CFG_SPKI_LEN];
		static const char hex[] = "00112233445566778899aabbccddeeff"
					  "00112233445566778899AABBCCDDEEFF";

		CHECK_EQ(cfg_spki_parse(hex, pin), 0);
		CHECK_EQ(pin[1], 0x11);
		CHECK_EQ(pin[31], 0xff);
		CHECK_EQ(
		    cfg_spki_parse(
			"00:11:22:33:44:55:66:77:88:99:aa:bb:"
			"cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:"
			"ff",
			pin),
		    0);
		CHECK_EQ(cfg_spki_parse("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu"
					"8zd7v8=",
			     pin),
		    0);
		CHECK_EQ(pin[2], 0x22);
		CHECK_EQ(cfg_spki_parse("abc", pin), -1);
		CHECK_EQ(cfg_spki_parse(hex + 2, pin), -1);
	}
	bad(TLS_TOP SERVER_HEAD " allow = { spki_sha256 = [ \"nope\" ]; }; "
				"} );",
	    "allow.spki_sha256 \"nope\" is not a SHA-256 digest");
	bad(TLS_TOP SERVER_HEAD " allow_any = true; tls = { reload = "
				"\"inotify\"; }; } );",
	    "unknown reload \"inotify\"");
	bad("workers = 1000;\n" TLS_TOP "tunnels = ();",
	    "agent.conf:1: "
	    "workers must be");
	bad("log_level = \"loud\";\n" TLS_TOP "tunnels = ();",
	    "unknown log_level \"loud\"");
	return harness_done("test_cfg");
}
