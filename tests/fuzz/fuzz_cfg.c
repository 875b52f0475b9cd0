/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cfg.c: the config loader on any text: a config, or an error that
 * names the file and line; never a crash.  (libconfig 1.5 leaks on some
 * syntax errors: run with LSAN_OPTIONS suppressions=tests/lsan.supp.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512];
	struct cfg *c;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	c = cfg_load_string(text, "fuzz.conf", err, sizeof(err));
	if (c == NULL && strncmp(err, "fuzz.conf", 9) != 0)
		abort(); /* an error must say where */
	cfg_free(c);
	free(text);
	return 0;
}
