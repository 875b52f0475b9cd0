/* SPDX-License-Identifier: MIT */
/*
 * fuzz_addr.c: addresses and allow-list pins from config text.  An
 * address that parses formats to text that parses to the same address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512], back[512], err[256];
	unsigned char pin[CFG_SPKI_LEN];
	struct addr a, b;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (addr_parse(text, &a, err, sizeof(err)) == 0) {
		addr_format(&a, back, sizeof(back));
		if (addr_parse(back, &b, err, sizeof(err)) != 0)
			abort();
		addr_format(&b, text, sizeof(text));
		if (strcmp(text, back) != 0)
			abort();
	}
	(void)cfg_spki_parse(text, pin);
	return 0;
}
