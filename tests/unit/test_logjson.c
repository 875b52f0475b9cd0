/* SPDX-License-Identifier: MIT */
/*
 * test_logjson.c: log lines as JSON.  Known messages give known fields;
 * 200,000 random messages (quotes, backslashes, control bytes, broken
 * UTF-8, '=' everywhere, any length) each give one line that a strict
 * RFC 8259 reader, written here independently of logjson.c, accepts.
 */
#include "common/log.h"
#include "common/logjson.h"
#include "harness.h"
#include "jsoncheck.h"

static void
known(void)
{
	char out[4096];
	size_t n;

	n = logjson_line(out, sizeof(out), "2026-12-01T10:00:00.000Z", "info",
	    "dbtls-agent", 42,
	    "tunnel=pg conn=7 peer=127.0.0.1:5000 close "
	    "identity=CN=app1 to_db=120 from_db=0 duration=1.250s "
	    "reason=\"both sides closed; \\\"kept\\\" \\\\ ok\"");
	CHECK(jsoncheck_line(out, n));
	CHECK_STR(out,
	    "{\"ts\":\"2026-12-01T10:00:00.000Z\",\"level\":\"info\","
	    "\"program\":\"dbtls-agent\",\"pid\":42,\"msg\":\"tunnel=pg conn=7 "
	    "peer=127.0.0.1:5000 close identity=CN=app1 to_db=120 from_db=0 "
	    "duration=1.250s reason=\\\"both sides closed; \\\\\\\"kept"
	    "\\\\\\\" \\\\\\\\ ok\\\"\",\"tunnel\":\"pg\",\"conn\":7,\"peer\":\"127.0.0.1:5000\","
	    "\"identity\":\"CN=app1\",\"to_db\":120,\"from_db\":0,"
	    "\"duration\":1.250,\"reason\":\"both sides closed; \\\"kept\\\" "
	    "\\\\ ok\"}\n");

	/* A peer's name that poses as pairs stays one quoted value. */
	{
		char id[400], msg[600];

		snprintf(msg, sizeof(msg),
		    "tunnel=s close identity=%s "
		    "serial=AB state=handshake reason=\"not allowed\"",
		    log_quote(id, sizeof(id),
			"x\" serial=00 state=ready "
			"reason=\"ok\" \\"));
		n = logjson_line(out, sizeof(out), "t", "info", "p", 1, msg);
		CHECK(jsoncheck_line(out, n));
		CHECK_CONTAINS(out,
		    ",\"identity\":\"x\\\" serial=00 "
		    "state=ready reason=\\\"ok\\\" \\\\\",\"serial\":\"AB\","
		    "\"state\":\"handshake\",\"reason\":\"not allowed\"}");
	}

	/* Reserved and repeated keys are not fields; numbers JSON allows. */
	n = logjson_line(out, sizeof(out), "t", "warning", "p", 1,
	    "pid=9 a=1 a=2 b=007 c=1.s d=.5 e=12345678901234567890 f= g=\"\"");
	CHECK(jsoncheck_line(out, n));
	CHECK_CONTAINS(out, "\"pid\":1,\"msg\"");
	CHECK(strstr(out, "\"pid\":9") == NULL);
	CHECK_CONTAINS(out,
	    "\"a\":1,\"b\":\"007\",\"c\":\"1.s\",\"d\":\".5\","
	    "\"e\":\"12345678901234567890\",\"f\":\"\",\"g\":\"\"}");

	/* Control bytes and broken UTF-8 are escaped; good UTF-8 stays. */
	n = logjson_line(out, sizeof(out), "t", "info", "p", 1,
	    "cn=\"a\nb\x01\x7f\" x=\xff\xc3\xa9\xed\xa0\x80");
	CHECK(jsoncheck_line(out, n));
	CHECK_CONTAINS(out, "\"cn\":\"a\\u000ab\\u0001\\u007f\"");
	CHECK_CONTAINS(out, "\"x\":\"\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffd\"");
}

static void
tight(void)
{
	char msg[2048], out[16384];
	size_t n;

	/* The worst case the agent logs: a 2 KiB message of quotes. */
	memset(msg, '"', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	memcpy(msg, "k=\"", 3);
	n = logjson_line(out, sizeof(out), "t", "info", "p", 1, msg);
	CHECK(jsoncheck_line(out, n));
	CHECK_CONTAINS(out, "\"msg\":");
	/* Too small for the message: the line stays whole and valid. */
	for (size_t cap = 64; cap < 400; cap += 7) {
		n = logjson_line(out, cap, "2026-12-01T10:00:00.000Z", "info",
		    "dbtls-agent", 123456,
		    "tunnel=pg reason=\"a long reason "
		    "that will not fit in the smaller lines at all\" n=5");
		CHECK(n < cap);
		CHECK(jsoncheck_line(out, n));
	}
}

static void
random_messages(void)
{
	static const char alphabet[] = "ab=\" \\\n\x01\x7f\xc3\xa9\xff\xed"
				       "0.5s_";
	uint64_t seed = 0x10c5;
	char msg[600], out[4096];

	for (int i = 0; i < 200000; i++) {
		size_t len = harness_rand(&seed) % (sizeof(msg) - 1);
		size_t cap = 64 + harness_rand(&seed) % (sizeof(out) - 64);
		size_t n;

		for (size_t j = 0; j < len; j++) {
			uint32_t r = harness_rand(&seed);

			msg[j] = r % 4 == 0 ?
			    (char)(r >> 8) :
			    alphabet[(r >> 8) % (sizeof(alphabet) - 1)];
			if (msg[j] == '\0')
				msg[j] = '=';
		}
		msg[len] = '\0';
		n = logjson_line(out, cap, "t", "info", "p", 1, msg);
		if (n >= cap || !jsoncheck_line(out, n)) {
			CHECK(!"invalid line");
			fprintf(stderr, "message %d gave: %.*s\n", i, (int)n,
			    out);
			return;
		}
	}
}

int
main(void)
{
	known();
	tight();
	random_messages();
	return harness_done("test_logjson");
}
