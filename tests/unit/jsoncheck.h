/* SPDX-License-Identifier: MIT */
/*
 * jsoncheck.h: a strict RFC 8259 reader of the one shape a JSON log line
 * has (an object of strings and numbers, then "\n"), written apart from
 * common/logjson.c so that each can catch the other's mistakes.  Used by
 * test_logjson and fuzz_logjson.
 */
#ifndef TESTS_JSONCHECK_H
#define TESTS_JSONCHECK_H

#include <stddef.h>
#include <string.h>

static inline const char *
jsoncheck_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						p[i]) ||
					    p[i] == '\0')
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		if (c >= 0x80) { /* one whole, shortest UTF-8 sequence */
			int n = c >= 0xf0 && c <= 0xf4 ? 4 :
			    c >= 0xe0 && c <= 0xef     ? 3 :
			    c >= 0xc2 && c <= 0xdf     ? 2 :
							 0;
			unsigned cp = c & (0x7f >> n);

			if (n == 0)
				return NULL;
			for (int i = 1; i < n; i++) {
				if (((unsigned char)p[i] & 0xc0) != 0x80)
					return NULL;
				cp = cp << 6 | ((unsigned char)p[i] & 0x3f);
			}
			if ((n == 3 &&
				(cp < 0x800 ||
				    (cp >= 0xd800 && cp <= 0xdfff))) ||
			    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
				return NULL;
			p += n;
			continue;
		}
		p++;
	}
	return p + 1;
}

static inline const char *
jsoncheck_number(const char *p)
{
	const char *start = p;

	if (*p == '0')
		p++;
	else
		while (*p >= '0' && *p <= '9')
			p++;
	if (p == start)
		return NULL;
	if (*p == '.') {
		const char *frac = ++p;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == frac)
			return NULL;
	}
	return p;
}

/* jsoncheck_line(p, len): 1 if the len bytes at p are one valid line. */
static inline int
jsoncheck_line(const char *p, size_t len)
{
	const char *end = p + len;

	if (len < 3 || end[-1] != '\n' || *p++ != '{')
		return 0;
	for (int first = 1; *p != '}'; first = 0) {
		if (!first && *p++ != ',')
			return 0;
		if ((p = jsoncheck_string(p)) == NULL || *p++ != ':')
			return 0;
		p = *p == '"' ? jsoncheck_string(p) : jsoncheck_number(p);
		if (p == NULL)
			return 0;
	}
	return p + 2 == end && p[1] == '\n';
}

#endif
