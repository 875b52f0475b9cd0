/* SPDX-License-Identifier: MIT */
/*
 * status.c: --status asks the agent's metrics endpoint (the address in
 * its config) for /readyz, /healthz and /metrics over plain HTTP/1.0,
 * and prints the figures per tunnel.  The answer is bounded in size and
 * time, and only lines of the exposition format are read from it.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cfg.h"
#include "agent/status.h"

#define MAX_ANSWER  (8UL * 1024 * 1024)
#define DEADLINE_MS 10000 /* for each whole exchange */
#define MAX_SAMPLES 20000

struct sample {
	char *name, *labels; /* labels: inside the braces, or "" */
	double value;
};

struct answer {
	int status; /* HTTP status, 0: none */
	char *body;
	struct sample *s;
	size_t n;
};

static int
dial(const struct addr *a)
{
	struct timeval tv = { 5, 0 };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *r;
	int fd = -1;

	if (a->kind == ADDR_UNIX) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		/* addr_parse() held it to sun_path's size. */
		memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			close(fd);
			fd = -1;
		}
	} else {
		char port[8];

		snprintf(port, sizeof(port), "%u", a->port);
		if (getaddrinfo(a->host, port, &hints, &res) != 0)
			return -1;
		for (r = res; r != NULL && fd < 0; r = r->ai_next) {
			fd = socket(r->ai_family, r->ai_socktype, 0);
			if (fd >= 0 &&
			    connect(fd, r->ai_addr, r->ai_addrlen) != 0) {
				close(fd);
				fd = -1;
			}
		}
		freeaddrinfo(res);
	}
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* http_status: the status of "HTTP/1.x NNN ...": 0, or -1. */
static int
http_status(const char *buf, int *status)
{
	const char *p = buf + 7; /* the minor version */
	char *end;
	long v;

	if (strncmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	errno = 0;
	(void)strtol(p, &end, 10);
	if (end == p || errno == ERANGE)
		return -1;
	p = end;
	v = strtol(p, &end, 10);
	if (end == p || errno == ERANGE || v < 0 || v > 999)
		return -1;
	*status = (int)v;
	return 0;
}

/* get: GET path; the status and body, or -1 (errno) if unreachable. */
static int
get(const struct addr *a, const char *path, struct answer *ans)
{
	char req[256], *buf = NULL, *body;
	struct timespec start, now;
	size_t len = 0;
	int fd;

	memset(ans, 0, sizeof(*ans));
	if ((fd = dial(a)) < 0)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: dbtls\r\n\r\n",
	    path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    (buf = malloc(MAX_ANSWER + 1)) == NULL) {
		close(fd);
		free(buf);
		return -1;
	}
	/* However slowly the other side trickles, the answer ends here. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timeval tv;
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = DEADLINE_MS -
		    ((now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || len >= MAX_ANSWER)
			break;
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if ((n = read(fd, buf + len, MAX_ANSWER - len)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (http_status(buf, &ans->status) != 0 ||
	    (body = strstr(buf, "\r\n\r\n")) == NULL) {
		free(buf);
		errno = EPROTO;
		return -1;
	}
	memmove(buf, body + 4, strlen(body + 4) + 1);
	ans->body = buf;
	return 0;
}

/* parse: the body's samples ("name{labels} value"); comments skipped. */
static void
parse(struct answer *ans)
{
	char *line, *save = NULL;

	if ((ans->s = calloc(MAX_SAMPLES, sizeof(*ans->s))) == NULL)
		return;
	for (line = strtok_r(ans->body, "\n", &save);
	     line != NULL && ans->n < MAX_SAMPLES;
	     line = strtok_r(NULL, "\n", &save)) {
		struct sample *s = &ans->s[ans->n];
		char *sp, *brace;

		if (line[0] == '#' || (sp = strrchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		s->value = strtod(sp + 1, NULL);
		s->name = line;
		s->labels = "";
		if ((brace = strchr(line, '{')) != NULL) {
			*brace = '\0';
			s->labels = brace + 1;
			if ((brace = strrchr(s->labels, '}')) != NULL)
				*brace = '\0';
		}
		ans->n++;
	}
}

/* printable: s with anything but printable ASCII made '?' (the answer
 * is not trusted to hold no terminal escapes). */
static char *
printable(char *s)
{
	for (char *p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return s;
}

/* value: the sum of name's samples whose labels hold each of want. */
static double
value(const struct answer *ans, const char *name, const char *want1,
    const char *want2)
{
	double v = 0;

	for (size_t i = 0; i < ans->n; i++)
		if (strcmp(ans->s[i].name, name) == 0 &&
		    (want1 == NULL || strstr(ans->s[i].labels, want1)) &&
		    (want2 == NULL || strstr(ans->s[i].labels, want2)))
			v += ans->s[i].value;
	return v;
}

static const char *
bytes(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static void
print_tunnels(const struct cfg *c, const struct answer *m)
{
	char tl[300], b1[32], b2[32];

	printf("%-16s %6s %8s %11s %11s %6s %8s %8s\n", "tunnel", "open",
	    "total", "to db", "from db", "links", "streams", "refused");
	for (size_t i = 0; i < c->ntunnels; i++) {
		snprintf(tl, sizeof(tl), "tunnel=\"%s\"", c->tunnels[i].name);
		printf("%-16s %6.0f %8.0f %11s %11s %6.0f %8.0f %8.0f\n",
		    c->tunnels[i].name,
		    value(m, "dbtls_connections_open", tl, NULL),
		    value(m, "dbtls_connections_total", tl, NULL),
		    bytes(value(m, "dbtls_bytes_total", tl,
			      "direction=\"to_db\""),
			b1, sizeof(b1)),
		    bytes(value(m, "dbtls_bytes_total", tl,
			      "direction=\"from_db\""),
			b2, sizeof(b2)),
		    value(m, "dbtls_links_open", tl, NULL),
		    value(m, "dbtls_streams_total", tl, NULL),
		    value(m, "dbtls_refused_total", tl, NULL));
	}
}

static void
print_rest(const struct cfg *c, const struct answer *m)
{
	time_t now = time(NULL);
	char b[32];

	printf("handshakes: %.0f full, %.0f resumed; reloads: %.0f ok, %.0f "
	       "failed\n",
	    value(m, "dbtls_handshakes_total", "resumed=\"no\"", NULL),
	    value(m, "dbtls_handshakes_total", "resumed=\"yes\"", NULL),
	    value(m, "dbtls_reloads_total", "result=\"ok\"", NULL),
	    value(m, "dbtls_reloads_total", "result=\"failed\"", NULL));
	for (size_t i = 0; i < c->ntunnels; i++) {
		char want[4300], when[32];
		time_t t;
		struct tm tm;

		char tl[300];
		double v;

		snprintf(want, sizeof(want), "file=\"%s\"",
		    c->tunnels[i].tls.cert.path);
		snprintf(tl, sizeof(tl), "tunnel=\"%s\"", c->tunnels[i].name);
		v = value(m, "dbtls_certificate_expiry_timestamp_seconds", tl,
		    want);
		if (!(v > 0 && v < 1e11)) { /* not a time: say so */
			printf("certificate %s (tunnel %s): expiry unknown\n",
			    c->tunnels[i].tls.cert.path, c->tunnels[i].name);
			continue;
		}
		t = (time_t)v;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		printf("certificate %s (tunnel %s): expires %s (%s %.1f "
		       "days)\n",
		    c->tunnels[i].tls.cert.path, c->tunnels[i].name, when,
		    t > now ? "in" : "EXPIRED",
		    (double)(t > now ? t - now : now - t) / 86400);
	}
	printf("process: %s resident, %.0f open files, %.2f s CPU, up %.0f "
	       "s\n",
	    bytes(value(m, "process_resident_memory_bytes", NULL, NULL), b,
		sizeof(b)),
	    value(m, "process_open_fds", NULL, NULL),
	    value(m, "process_cpu_seconds_total", NULL, NULL),
	    (double)now - value(m, "process_start_time_seconds", NULL, NULL));
}

int
status_main(const char *config)
{
	struct answer ready = { 0 }, health = { 0 }, m = { 0 };
	char err[1024], where[300];
	struct cfg *c;
	int rc = 1;

	if ((c = cfg_load(config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dbtls-agent: %s\n", err);
		return 2;
	}
	if (!c->has_metrics) {
		fprintf(stderr,
		    "dbtls-agent: %s sets no metrics address "
		    "(metrics = \"127.0.0.1:9750\";), so --status cannot ask "
		    "the agent\n",
		    config);
		cfg_free(c);
		return 2;
	}
	addr_format(&c->metrics, where, sizeof(where));
	if (get(&c->metrics, "/readyz", &ready) != 0 ||
	    get(&c->metrics, "/healthz", &health) != 0 ||
	    get(&c->metrics, "/metrics", &m) != 0) {
		fprintf(stderr,
		    "dbtls-agent: no answer from the agent at %s: "
		    "%s\n",
		    where, strerror(errno));
		goto out;
	}
	if (m.status != 200) {
		fprintf(stderr,
		    "dbtls-agent: the agent at %s answered "
		    "/metrics with HTTP %d\n",
		    where, m.status);
		goto out;
	}
	parse(&m);
	printf("dbtls-agent at %s: %s; %s\n", where,
	    strtok(ready.body, "\n") ? printable(ready.body) : "?",
	    strtok(health.body, "\n") ? printable(health.body) : "?");
	print_tunnels(c, &m);
	print_rest(c, &m);
	rc = ready.status == 200 ? 0 : 1;
out:
	free(ready.body);
	free(health.body);
	free(m.body);
	free(m.s);
	cfg_free(c);
	return rc;
}
