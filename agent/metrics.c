/* SPDX-License-Identifier: MIT */
/*
 * metrics.c: /metrics, /healthz and /readyz over libmicrohttpd.  The
 * library parses HTTP (a well-kept parser, not one of ours); this file
 * only answers GET and HEAD on three paths.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <uv.h>

#include "common/log.h"
#include "agent/expo.h"
#include "agent/gen.h"
#include "agent/listen.h"
#include "agent/metrics.h"
#include "agent/worker.h"

#define MAX_SCRAPES	 8  /* connections at once */
#define SCRAPE_TIMEOUT_S 10 /* a connection idle this long closes */
/* and one this old, idle or not */
#define SCRAPE_LIFE_NS	 (10ULL * 1000000000)
#define REQUEST_MEMORY	 (16 * 1024) /* headers and all, per request */

/*
 * The connections open, so that metrics_reap can end the ones older than
 * SCRAPE_LIFE_NS (a scraper that sends a header byte now and then is
 * never idle).  Each keeps a dup of its socket: shutdown() through it can
 * only ever reach that socket, however MHD orders its own close.
 */
static struct scrape {
	int fd; /* the dup, or -1 */
	uint64_t since;
} scrapes[MAX_SCRAPES];
static uv_mutex_t scrapes_lock;

static struct MHD_Daemon *daemon_;

static void
on_connection(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct scrape *s = *ctx;

	(void)cls;
	uv_mutex_lock(&scrapes_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci;

		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		for (size_t i = 0; i < MAX_SCRAPES && ci != NULL; i++) {
			if (scrapes[i].fd < 0) {
				scrapes[i].fd = fcntl(ci->connect_fd,
				    F_DUPFD_CLOEXEC, 0);
				scrapes[i].since = uv_hrtime();
				*ctx = &scrapes[i];
				break;
			}
		}
	} else if (s != NULL) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		*ctx = NULL;
	}
	uv_mutex_unlock(&scrapes_lock);
}

void
metrics_reap(void)
{
	uint64_t now = uv_hrtime();

	if (daemon_ == NULL)
		return;
	uv_mutex_lock(&scrapes_lock);
	for (size_t i = 0; i < MAX_SCRAPES; i++)
		if (scrapes[i].fd >= 0 &&
		    now - scrapes[i].since > SCRAPE_LIFE_NS)
			shutdown(scrapes[i].fd, SHUT_RDWR);
	uv_mutex_unlock(&scrapes_lock);
}

int
metrics_bind(const struct cfg *c)
{
	unsigned short port;
	int fd;

	if (!c->has_metrics)
		return -1;
	port = c->metrics.port;
	fd = listen_open(&c->metrics, &port, "metrics", -1, (uid_t)-1,
	    (gid_t)-1);
	if (listen(fd, 16) != 0)
		fatal("metrics: listen");
	if (c->metrics.kind == ADDR_UNIX)
		log_info("metrics on unix:%s (/metrics, /healthz, /readyz)",
		    c->metrics.path);
	else
		log_info("metrics on %s%s%s:%u (/metrics, /healthz, /readyz)",
		    strchr(c->metrics.host, ':') ? "[" : "", c->metrics.host,
		    strchr(c->metrics.host, ':') ? "]" : "", port);
	return fd;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char body[600];
	int n = snprintf(body, sizeof(body), "%s\n", msg);

	return reply(c, status, "text/plain; charset=utf-8", body,
	    n < 0			 ? 0 :
		(size_t)n < sizeof(body) ? (size_t)n :
					   sizeof(body) - 1);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **req)
{
	static int seen;
	struct agent *a = cls;
	struct expo_buf b = { NULL, 0, 0, 0 };
	enum MHD_Result rc;
	char why[512];

	(void)version;
	(void)upload;
	if (*req == NULL) { /* headers only so far: answer at the next */
		*req = &seen;
		return MHD_YES;
	}
	if (*upload_len != 0) { /* a body nobody asked for: drop it */
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and HEAD");
	if (strcmp(url, "/healthz") == 0)
		return text(c,
		    expo_health(a, why, sizeof(why)) ?
			MHD_HTTP_OK :
			MHD_HTTP_SERVICE_UNAVAILABLE,
		    why);
	if (strcmp(url, "/readyz") == 0)
		return text(c,
		    expo_readiness(a, why, sizeof(why)) ?
			MHD_HTTP_OK :
			MHD_HTTP_SERVICE_UNAVAILABLE,
		    why);
	if (strcmp(url, "/metrics") != 0)
		return text(c, MHD_HTTP_NOT_FOUND,
		    "not found: try /metrics, /healthz or /readyz");
	expo_metrics(&b, a);
	if (b.failed)
		rc = text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	else
		rc = reply(c, MHD_HTTP_OK,
		    "text/plain; version=0.0.4; "
		    "charset=utf-8",
		    b.data, b.len);
	expo_free(&b);
	return rc;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("metrics: %s", msg);
}

int
metrics_start(struct agent *a, int fd, char *err, size_t len)
{
	if (fd < 0)
		return 0;
	if (uv_mutex_init(&scrapes_lock) != 0) {
		snprintf(err, len, "metrics: no mutex");
		return -1;
	}
	for (size_t i = 0; i < MAX_SCRAPES; i++)
		scrapes[i].fd = -1;
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, handle, a, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_SCRAPES,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SCRAPE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_MEMORY,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
	if (daemon_ == NULL) {
		snprintf(err, len, "metrics: libmicrohttpd would not start");
		return -1;
	}
	return 0;
}

void
metrics_stop(void)
{
	if (daemon_ != NULL)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
