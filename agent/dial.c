/* SPDX-License-Identifier: MIT */
/*
 * dial.c: resolve, connect, next address, timeout (see dial.h).  The
 * dial's own callbacks (name lookup, connect request, the timer's close,
 * the close of a socket whose address failed) each hold it; the last one
 * frees it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/addr.h"
#include "common/log.h"
#include "agent/worker.h"
#include "agent/sock.h"
#include "agent/dial.h"

struct dial {
	struct sock *sock;
	const struct addr *to;
	dial_done_cb done;
	void *arg;
	int holds; /* callbacks still due */
	int over;  /* reported or cancelled */
	int gai_pending;
	int start_err;		/* failed to start: reported */
	struct addrinfo *addrs; /* from the lookup, owned */
	struct addrinfo *next;	/* to try if this one fails */
	uv_getaddrinfo_t gai;
	uv_connect_t creq;
	uv_timer_t timer;
};

static void
dial_release(struct dial *d)
{
	if (--d->holds > 0)
		return;
	uv_freeaddrinfo(d->addrs);
	free(d);
}

static void
timer_closed_cb(uv_handle_t *h)
{
	dial_release(h->data);
}

/* finish: report once, stop the timer; the dial frees itself later. */
static void
finish(struct dial *d, int status, const char *why)
{
	if (d->over)
		return;
	d->over = 1;
	uv_close((uv_handle_t *)&d->timer, timer_closed_cb);
	if (d->done != NULL)
		d->done(d->arg, status, why);
}

static void fail(struct dial *d, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct dial *d, int status, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	finish(d, status, why);
}

static void connect_cb(uv_connect_t *req, int status);

/* connect_sockaddr: open the sock and connect it.  0 or a libuv error. */
static int
connect_sockaddr(struct dial *d, const struct sockaddr *sa)
{
	int rc;

	if ((rc = sock_open(d->sock, 0)) != 0)
		return rc;
	d->creq.data = d;
	if ((rc = uv_tcp_connect(&d->creq, &d->sock->h.tcp, sa, connect_cb)) !=
	    0)
		return rc;
	d->holds++;
	return 0;
}

static void
connect_next(struct dial *d, const struct sockaddr *sa)
{
	int rc;

	if ((rc = connect_sockaddr(d, sa)) != 0)
		fail(d, rc, "connect to %s: %s", d->sock->name,
		    uv_strerror(rc));
}

/* reopen_cb: the socket of a failed address is closed: try the next. */
static void
reopen_cb(struct sock *s)
{
	struct dial *d = s->reopen_arg;
	struct addrinfo *ai = d->next;

	s->reopen_cb = NULL;
	s->reopen_arg = NULL;
	if (d->over) { /* cancelled meanwhile: the owner waits */
		s->ops->closed(s->arg);
	} else {
		d->next = ai->ai_next;
		connect_next(d, ai->ai_addr);
	}
	dial_release(d);
}

static void
connect_cb(uv_connect_t *req, int status)
{
	struct dial *d = req->data;
	char a[300];

	if (status == 0 && !d->over) {
		/* The other addresses are not needed any more. */
		uv_freeaddrinfo(d->addrs);
		d->addrs = d->next = NULL;
		finish(d, 0, NULL);
	} else if (status != UV_ECANCELED && !d->over) {
		if (d->next != NULL) {
			log_debug("connect to %s %s: %s; trying its next "
				  "address",
			    d->sock->name, d->to->host, uv_strerror(status));
			d->holds++;
			d->sock->reopen_cb = reopen_cb;
			d->sock->reopen_arg = d;
			sock_close(d->sock);
		} else {
			fail(d, status, "connect to %s %s: %s", d->sock->name,
			    addr_format(d->to, a, sizeof(a)),
			    uv_strerror(status));
		}
	}
	dial_release(d);
}

static void
timeout_cb(uv_timer_t *t)
{
	struct dial *d = t->data;
	char a[300];

	addr_format(d->to, a, sizeof(a));
	if (d->start_err != 0)
		fail(d, d->start_err, "connect to %s %s: %s", d->sock->name, a,
		    uv_strerror(d->start_err));
	else
		fail(d, UV_ETIMEDOUT, "connect to %s %s timed out",
		    d->sock->name, a);
}

static void
gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct dial *d = req->data;

	d->gai_pending = 0;
	if (d->over) {
		uv_freeaddrinfo(res);
	} else if (status < 0) {
		uv_freeaddrinfo(res);
		fail(d, status, "cannot resolve \"%s\": %s", d->to->host,
		    uv_strerror(status));
	} else {
		d->addrs = res;
		d->next = res->ai_next;
		connect_next(d, res->ai_addr);
	}
	dial_release(d);
}

struct dial *
dial_start(struct sock *s, const struct addr *to, unsigned timeout_ms,
    dial_done_cb done, void *arg)
{
	uv_loop_t *loop = &s->w->loop;
	struct addrinfo hints;
	struct dial *d;
	char port[8];
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->sock = s;
	d->to = to;
	d->done = done;
	d->arg = arg;
	d->holds = 1; /* the timer, until its close callback */
	uv_timer_init(loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, timeout_cb, timeout_ms, 0);

	if (to->kind == ADDR_UNIX) {
		if ((rc = sock_open(s, 1)) != 0)
			goto fail;
		d->creq.data = d;
		uv_pipe_connect(&d->creq, &s->h.pipe, to->path, connect_cb);
		d->holds++;
		return d;
	}
	if (to->numeric) {
		if ((rc = connect_sockaddr(d,
			 (const struct sockaddr *)&to->sa)) != 0)
			goto fail;
		return d;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", to->port);
	d->gai.data = d;
	if ((rc = uv_getaddrinfo(loop, &d->gai, gai_cb, to->host, port,
		 &hints)) != 0)
		goto fail;
	d->gai_pending = 1;
	d->holds++;
	return d;

fail:
	/* Reported from the loop, like any other failure, so that the
	 * owner learns it in one place. */
	d->start_err = rc;
	uv_timer_start(&d->timer, timeout_cb, 0, 0);
	return d;
}

void
dial_cancel(struct dial *d)
{
	if (d == NULL || d->over)
		return;
	d->over = 1;
	uv_close((uv_handle_t *)&d->timer, timer_closed_cb);
	if (d->gai_pending)
		uv_cancel((uv_req_t *)&d->gai);
}
