/* SPDX-License-Identifier: MIT */
/* args.h: command-line values of dbtls-certs. */
#ifndef CERTS_ARGS_H
#define CERTS_ARGS_H

/* args_whole(s, out): the number s spells, all of it, as an int: 0, or
 * -1 (nothing, trailing text, or out of range). */
int args_whole(const char *s, int *out);

#endif
