/* SPDX-License-Identifier: MIT */
/*
 * fuzz_record.c: rec13 and hsmsg under a fixed key.  The input is read
 * two ways: as a whole record to open (almost always forged: refused,
 * never a crash), and as content to seal and open again, which must
 * give it back exactly, with its handshake messages parsed after.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hsmsg.h"
#include "common/rec13.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned suites[3] = { 0x1301, 0x1302, 0x1303 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t secret[48] = { 7, 7, 7 };
	static uint8_t rec[REC13_HEADER + REC13_BODY_MAX];
	static uint8_t out[REC13_BODY_MAX];
	struct rec13 seal, open;
	struct hsmsg hs;
	struct hsmsg_result res;
	unsigned suite;
	size_t n, len, pad;
	uint8_t type;

	if (size < 3)
		return 0;
	suite = suites[data[0] % 3];
	memset(&seal, 0, sizeof(seal));
	memset(&open, 0, sizeof(open));
	if (rec13_init(&seal, 1, suite, secret, suite == 0x1302 ? 48 : 32,
		data[1]) != 0 ||
	    rec13_init(&open, 0, suite, secret, suite == 0x1302 ? 48 : 32,
		data[1]) != 0)
		abort();

	/* As a record from the network. */
	if (size - 2 >= REC13_HEADER && (len = rec13_length(data + 2)) > 0 &&
	    len <= size - 2)
		(void)rec13_open(&open, data + 2, len, out, &n, &type);
	open.seq = data[1];

	/* As content: sealed, opened, the same again. */
	type = data[2] ? data[2] : 1;
	pad = size > 3 ? data[3] : 0;
	n = size - 3 > REC13_PLAIN_MAX ? REC13_PLAIN_MAX : size - 3;
	len = rec13_seal_padded(&seal, type, data + 3, n, pad, rec);
	if (len > 0) {
		uint8_t got_type;
		size_t got;

		if (rec13_open(&open, rec, len, out, &got, &got_type) == 0) {
			if (got != n || got_type != type ||
			    memcmp(out, data + 3, n) != 0)
				abort(); /* a round trip must be exact */
			hsmsg_init(&hs, data[0] & 8);
			(void)hsmsg_record(&hs, out, got, &res);
		} else if (n + 1 + pad <= REC13_PLAIN_MAX + 1) {
			abort(); /* a legal record must open */
		}
	}
	rec13_clear(&seal);
	rec13_clear(&open);
	return 0;
}
