/* SPDX-License-Identifier: MIT */
/*
 * log.c: stderr logging with a level threshold.  Lines carry a UTC
 * timestamp, the level and the message; systemd's journal and plain
 * redirection both read them well.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common/log.h"
#include "common/logjson.h"

static const char *log_name = "dbtls";
static volatile int log_threshold = LOG_LVL_INFO;
static volatile int log_json;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARNING] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(const char *name, enum log_level level)
{
	log_name = name;
	log_threshold = level;
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

int
log_enabled(enum log_level level)
{
	return (int)level <= log_threshold;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

char *
log_quote(char *buf, size_t len, const char *s)
{
	size_t n = 0;

	buf[n++] = '"';
	for (; *s != '\0' && n + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

void
log_set_format(enum log_format f)
{
	log_json = f == LOG_FMT_JSON;
}

int
log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0 || strcmp(s, "json") == 0) {
		*out = s[0] == 't' ? LOG_FMT_TEXT : LOG_FMT_JSON;
		return 0;
	}
	return -1;
}

static void log_write(enum log_level level, const char *fmt, va_list ap,
    int with_errno, int saved_errno) __attribute__((format(printf, 2, 0)));

static void
log_write(enum log_level level, const char *fmt, va_list ap, int with_errno,
    int saved_errno)
{
	char msg[2048], ts[40], line[16384];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", (long)tv.tv_usec / 1000);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	n = r < 0 ? 0 : (size_t)r < sizeof(msg) ? (size_t)r : sizeof(msg) - 1;
	if (with_errno)
		snprintf(msg + n, sizeof(msg) - n, ": %s",
		    strerror(saved_errno));
	if (log_json) {
		n = logjson_line(line, sizeof(line), ts, level_names[level],
		    log_name, (long)getpid(), msg);
	} else {
		/* One line whatever the message holds (a peer's name may
		 * carry a newline): control characters become '?'. */
		for (char *c = msg; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		r = snprintf(line, sizeof(line), "%s %s[%ld]: %s: %s\n", ts,
		    log_name, (long)getpid(), level_names[level], msg);
		n = r < 0 ? 0 : (size_t)r;
	}
	/* One write per line: concurrent writers do not interleave. */
	(void)!write(STDERR_FILENO, line, n);
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (log_enabled(level))
		log_write(level, fmt, ap, 0, 0);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	if (!log_enabled(LOG_LVL_WARNING))
		return;
	va_start(ap, fmt);
	log_write(LOG_LVL_WARNING, fmt, ap, 1, e);
	va_end(ap);
}

#define LOG_AT(fn, lvl)                 \
	void fn(const char *fmt, ...)   \
	{                               \
		va_list ap;             \
		va_start(ap, fmt);      \
		log_vmsg(lvl, fmt, ap); \
		va_end(ap);             \
	}
LOG_AT(log_warnx, LOG_LVL_WARNING)
LOG_AT(log_info, LOG_LVL_INFO)
LOG_AT(log_debug, LOG_LVL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_write(LOG_LVL_ERROR, fmt, ap, 1, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(LOG_LVL_ERROR, fmt, ap, 0, 0);
	va_end(ap);
	exit(1);
}

char *
log_openssl_errors(char *buf, unsigned long len)
{
	unsigned long e;
	size_t n = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n ? "; " : "", one);
	}
	return buf;
}
