/* SPDX-License-Identifier: MIT */
/*
 * logjson.c: a log message as JSON.  The agent's messages are written as
 * words with key=value pairs ("tunnel=pg conn=3 close to_db=120 ...",
 * a value quoted by log_quote where a peer has a say in it); each pair
 * becomes a field, so a log pipeline reads the figures without
 * parsing text.  Strings are escaped and invalid UTF-8 becomes U+FFFD.
 */
#include <stdio.h>
#include <string.h>

#include "common/logjson.h"

#define MAX_FIELDS 32

struct jw {
	char *buf;
	size_t len, cap; /* cap leaves room for "}\n" and a NUL */
	int full;
};

static void
put(struct jw *w, const char *s, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* utf8_len: the length of a valid UTF-8 sequence at s (n bytes left),
 * or 0 if it is not one (overlong, surrogate, beyond U+10FFFF). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (need > n)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

static void
put_string(struct jw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];

	put(w, "\"", 1);
	for (size_t i = 0; i < n && !w->full;) {
		size_t u = utf8_len(p + i, n - i);

		if (u == 0) {
			put(w, "\\ufffd", 6);
			i++;
		} else if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i++];
			put(w, esc, 2);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i++]);
			put(w, esc, 6);
		} else {
			put(w, s + i, u);
			i += u;
		}
	}
	put(w, "\"", 1);
}

/* number_len: n if v is a JSON-safe whole number or decimal (at most 18
 * digits, no leading zero), n - 1 if it is one followed by "s", else 0. */
static size_t
number_len(const char *v, size_t n)
{
	size_t i = 0, digits = 0, body = n;

	if (n > 1 && v[n - 1] == 's')
		body = n - 1;
	while (i < body && v[i] >= '0' && v[i] <= '9')
		i++, digits++;
	if (digits == 0 || (v[0] == '0' && digits > 1))
		return 0;
	if (i < body && v[i] == '.') {
		size_t frac = ++i;

		while (i < body && v[i] >= '0' && v[i] <= '9')
			i++, digits++;
		if (i == frac)
			return 0;
	}
	return i == body && digits <= 18 ? body : 0;
}

static int
is_key_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

static const char *const reserved[] = { "ts", "level", "program", "pid", "msg",
	NULL };

struct seen {
	const char *key[MAX_FIELDS];
	size_t len[MAX_FIELDS];
	size_t n;
};

/* seen_add: 1 if key is new (and now noted), 0 if taken or no room. */
static int
seen_add(struct seen *s, const char *key, size_t n)
{
	for (const char *const *r = reserved; *r; r++)
		if (strlen(*r) == n && memcmp(*r, key, n) == 0)
			return 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->len[i] == n && memcmp(s->key[i], key, n) == 0)
			return 0;
	if (s->n == MAX_FIELDS)
		return 0;
	s->key[s->n] = key;
	s->len[s->n++] = n;
	return 1;
}

/* put_field: ,"key":value, or nothing if it does not fit whole. */
static void
put_field(struct jw *w, const char *key, size_t klen, const char *v,
    size_t vlen, int quoted)
{
	size_t mark = w->len, num = quoted ? 0 : number_len(v, vlen);

	put(w, ",", 1);
	put_string(w, key, klen);
	put(w, ":", 1);
	if (num > 0)
		put(w, v, num);
	else
		put_string(w, v, vlen);
	if (w->full) {
		w->len = mark;
		w->full = 0;
	}
}

static void
put_fields(struct jw *w, const char *msg)
{
	struct seen seen = { .n = 0 };
	const char *p = msg;
	char val[4096];
	size_t vlen;

	while (*p != '\0') {
		const char *key = p, *v, *end;
		int quoted;

		while (is_key_char(*p, p == key))
			p++;
		if (p == key || *p != '=') {
			while (*p != '\0' && *p != ' ') /* not a pair */
				p++;
			while (*p == ' ')
				p++;
			continue;
		}
		v = ++p;
		if ((quoted = *v == '"')) {
			/* log_quote's form: up to the first unescaped
			 * quote, with \" and \\ taken back. */
			vlen = 0;
			for (end = ++v; *end != '\0' && *end != '"'; end++) {
				if (*end == '\\' && end[1] != '\0')
					end++;
				if (vlen < sizeof(val))
					val[vlen++] = *end;
			}
			p = *end == '"' ? end + 1 : end;
		} else {
			end = v;
			while (*end != '\0' && *end != ' ')
				end++;
			p = end;
			vlen = (size_t)(end - v);
			memcpy(val, v, vlen < sizeof(val) ? vlen : sizeof(val));
			vlen = vlen < sizeof(val) ? vlen : sizeof(val);
		}
		if (seen_add(&seen, key, (size_t)(v - key - 1 - quoted)))
			put_field(w, key, (size_t)(v - key - 1 - quoted), val,
			    vlen, quoted);
		while (*p == ' ')
			p++;
	}
}

size_t
logjson_line(char *out, size_t cap, const char *ts, const char *level,
    const char *program, long pid, const char *msg)
{
	struct jw w = { out, 0, cap - 3, 0 };
	size_t mark;
	char num[24] = { 0 };

	put(&w, "{\"ts\":", 6);
	put_string(&w, ts, strlen(ts));
	put(&w, ",\"level\":", 9);
	put_string(&w, level, strlen(level));
	put(&w, ",\"program\":", 11);
	put_string(&w, program, strlen(program));
	put(&w, ",\"pid\":", 7);
	put(&w, num, (size_t)snprintf(num, sizeof(num), "%ld", pid));
	if (w.full) {
		memcpy(out, "{}\n", 4); /* not even the header fits */
		return 3;
	}
	mark = w.len;
	put(&w, ",\"msg\":", 7);
	put_string(&w, msg, strlen(msg));
	if (w.full)
		w.len = mark; /* the fields may still fit */
	w.full = 0;
	put_fields(&w, msg);
	memcpy(out + w.len, "}\n", 3);
	return w.len + 2;
}
