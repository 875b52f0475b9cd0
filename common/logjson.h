/* SPDX-License-Identifier: MIT */
/*
 * logjson.h: one log line as one JSON object.  Pure (no I/O), so it can be
 * tested and fuzzed: whatever the message holds, the line is valid JSON
 * on one line.
 */
#ifndef COMMON_LOGJSON_H
#define COMMON_LOGJSON_H

#include <stddef.h>

/*
 * logjson_line(out, cap, ts, level, program, pid, msg): write
 * {"ts":..,"level":..,"program":..,"pid":..,"msg":..,KEY:VALUE...} and a
 * newline into out; returns its length (at most cap - 1; cap >= 64).
 * Each key=value or key="value" word of msg (quoted as log_quote does)
 * becomes its own field (first one wins); a value of digits is a number,
 * "1.250s" a number of seconds.
 * A field that does not fit is left out whole; the line stays valid.
 */
size_t logjson_line(char *out, size_t cap, const char *ts, const char *level,
    const char *program, long pid, const char *msg);

#endif
