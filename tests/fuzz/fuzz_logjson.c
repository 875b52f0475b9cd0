/* SPDX-License-Identifier: MIT */
/*
 * fuzz_logjson.c: any message, any buffer size: logjson_line writes one
 * line a strict JSON reader accepts, within the buffer.  The first byte
 * picks the buffer size, the rest is the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/logjson.h"
#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char msg[4096], out[32768];
	size_t cap, n;

	if (size == 0 || size > sizeof(msg))
		return 0;
	cap = data[0] < 128 ? 4 + data[0] * 8u : sizeof(out);
	memcpy(msg, data + 1, size - 1);
	msg[size - 1] = '\0';
	n = logjson_line(out, cap, "2026-12-01T10:00:00.000Z", "info",
	    "dbtls-agent", 4242, msg);
	if (n >= cap || out[n] != '\0' || !jsoncheck_line(out, n))
		abort();
	return 0;
}
