/* SPDX-License-Identifier: MIT */
/*
 * log.h: one line per event on stderr, safe from any thread.  Each line is
 * formatted in full and written with one write(2), so lines from worker
 * threads never interleave.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARNING, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* log_init(name, level): set the program name shown and the threshold. */
void log_init(const char *name, enum log_level level);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* log_level_parse(s, &out): "error", "warning", "info" or "debug"; 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

/*
 * log_set_format(f): text lines, or one JSON object per line whose fields
 * are ts, level, program, pid, msg, and each key=value pair of the
 * message (a quoted value unquoted; digits a number; "1.5s" seconds).
 */
void log_set_format(enum log_format f);
/* log_format_parse(s, &out): "text" or "json"; 0 or -1. */
int log_format_parse(const char *s, enum log_format *out);

void log_msg(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    LOG_PRINTF(2, 0);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/* fatal/fatalx: log at error level and exit(1).  Only before the loops run. */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/*
 * log_quote(buf, len, s): s as a quoted value for a key="value" pair,
 * with '"' and '\\' escaped, so that nothing inside (a peer's certificate
 * name, a reason quoting it) can end the value or pose as another pair.
 * Cut short, it is still closed.  Returns buf.
 */
char *log_quote(char *buf, size_t len, const char *s);

/*
 * log_openssl_errors(buf, len): drain OpenSSL's thread-local error queue
 * into buf as one "; "-separated string (empty if the queue was empty).
 * Returns buf.
 */
char *log_openssl_errors(char *buf, unsigned long len);

#endif
