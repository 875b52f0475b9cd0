/* SPDX-License-Identifier: MIT */
/* args.c: command-line values of dbtls-certs (see args.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "certs/args.h"

int
args_whole(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < INT_MIN ||
	    v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}
