/* SPDX-License-Identifier: MIT */
/*
 * sock.c: one socket and its output queue (see sock.h).  Reads land in
 * the worker's shared read buffer and are lent to the owner, so an idle
 * socket holds no data buffer; the queue holds no memory when empty.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "common/addr.h"
#include "common/cq.h"
#include "agent/worker.h"
#include "agent/sock.h"

#define MAX_SPANS 16

void
sock_setup(struct sock *s, struct worker *w, const struct sock_ops *ops,
    void *arg, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->ops = ops;
	s->arg = arg;
	s->name = name;
}

int
sock_open(struct sock *s, int is_unix)
{
	int rc = is_unix ? uv_pipe_init(&s->w->loop, &s->h.pipe, 0) :
			   uv_tcp_init(&s->w->loop, &s->h.tcp);

	if (rc != 0)
		return rc;
	s->h.handle.data = s;
	s->open = 1;
	/* want_shut stays: an EOF to pass on may come while dialling. */
	s->connected = s->reading = s->eof = 0;
	s->shut_sent = s->shut_done = 0;
	return 0;
}

int
sock_accept(struct sock *s, uv_stream_t *server)
{
	int rc;

	if ((rc = sock_open(s, server->type == UV_NAMED_PIPE)) != 0)
		return rc;
	if ((rc = uv_accept(server, &s->h.stream)) != 0)
		return rc;
	s->connected = 1;
	return 0;
}

void
sock_peer(struct sock *s, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);

	if (s->h.handle.type == UV_TCP &&
	    uv_tcp_getpeername(&s->h.tcp, (struct sockaddr *)&ss, &sslen) == 0)
		addr_sockaddr_format((struct sockaddr *)&ss, buf, len);
	else
		snprintf(buf, len,
		    s->h.handle.type == UV_NAMED_PIPE ? "unix" : "-");
}

void
sock_connected(struct sock *s, const struct cfg_tunnel *t)
{
	int fd, intvl = (int)t->keepalive_interval_s;
	int cnt = (int)t->keepalive_count, ut = (int)t->user_timeout_ms;
	uv_os_fd_t ufd;

	s->connected = 1;
	if (s->h.handle.type != UV_TCP)
		return;
	uv_tcp_nodelay(&s->h.tcp, 1);
	if (uv_fileno(&s->h.handle, &ufd) != 0)
		return;
	fd = ufd;
	if (t->keepalive_s > 0) {
		uv_tcp_keepalive(&s->h.tcp, 1, t->keepalive_s);
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
		    sizeof(intvl));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
		    sizeof(cnt));
	}
	/* The kernel lets TCP_USER_TIMEOUT end an idle connection at its
	 * first lost probe: never before keepalive_count of them. */
	if (ut > 0 && t->keepalive_s > 0 &&
	    ut < (int)(t->keepalive_s +
		     t->keepalive_interval_s * t->keepalive_count) *
		    1000)
		ut = (int)(t->keepalive_s +
			 t->keepalive_interval_s * t->keepalive_count) *
		    1000;
	if (ut > 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut,
		    sizeof(ut));
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sock *s = h->data;

	/* The read callback consumes it before the loop reads again. */
	buf->base = s->w->readbuf;
	buf->len = WORKER_READ_SIZE;
}

static void
read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct sock *s = st->data;

	if (nread == 0 || !s->open)
		return;
	if (nread == UV_EOF) {
		s->eof = 1;
		sock_read(s, 0);
		s->ops->eof(s->arg);
	} else if (nread < 0) {
		sock_read(s, 0);
		s->ops->failed(s->arg, (int)nread, "read from");
	} else {
		s->ops->data(s->arg, buf->base, (size_t)nread);
	}
}

int
sock_read(struct sock *s, int on)
{
	int rc;

	if (!s->open || !s->connected || (on && s->eof) || on == s->reading)
		return 0;
	if (!on) {
		uv_read_stop(&s->h.stream);
		s->reading = 0;
		return 0;
	}
	if ((rc = uv_read_start(&s->h.stream, alloc_cb, read_cb)) != 0)
		return rc;
	s->reading = 1;
	return 0;
}

static int
to_bufs(const struct cq *q, uv_buf_t *bufs, size_t *total)
{
	struct cq_span sp[MAX_SPANS];
	int n = cq_spans(q, 0, sp, MAX_SPANS);

	*total = 0;
	for (int i = 0; i < n; i++) {
		bufs[i] = uv_buf_init(sp[i].base, (unsigned)sp[i].len);
		*total += sp[i].len;
	}
	return n;
}

static void
shutdown_cb(uv_shutdown_t *req, int status)
{
	struct sock *s = req->data;

	if (status == UV_ECANCELED || !s->open)
		return;
	s->shut_done = 1;
	s->ops->shut(s->arg);
}

static void
write_cb(uv_write_t *req, int status)
{
	struct sock *s = req->data;
	int rc;

	if (status == UV_ECANCELED || !s->open)
		return;
	if (status < 0) {
		s->ops->failed(s->arg, status, "write to");
		return;
	}
	cq_consume(&s->out, &s->w->pool, s->inflight);
	s->inflight = 0;
	if ((rc = sock_flush(s)) != 0) {
		s->ops->failed(s->arg, rc, "write to");
		return;
	}
	s->ops->written(s->arg);
}

int
sock_flush(struct sock *s)
{
	uv_buf_t bufs[MAX_SPANS];
	size_t total;
	int n, rc;

	if (!s->open || !s->connected || s->inflight > 0)
		return 0;
	while (s->out.len > 0) {
		n = to_bufs(&s->out, bufs, &total);
		rc = uv_try_write(&s->h.stream, bufs, (unsigned)n);
		if (rc == UV_EAGAIN || rc == UV_ENOSYS)
			break;
		if (rc < 0)
			return rc;
		cq_consume(&s->out, &s->w->pool, (size_t)rc);
		if ((size_t)rc < total)
			break; /* the socket buffer is full */
	}
	if (s->out.len > 0) {
		n = to_bufs(&s->out, bufs, &total);
		s->wreq.data = s;
		if ((rc = uv_write(&s->wreq, &s->h.stream, bufs, (unsigned)n,
			 write_cb)) != 0)
			return rc;
		s->inflight = total;
		return 0;
	}
	if (s->want_shut && !s->shut_sent) {
		s->shut_sent = 1;
		s->sreq.data = s;
		return uv_shutdown(&s->sreq, &s->h.stream, shutdown_cb);
	}
	return 0;
}

int
sock_append(struct sock *s, const void *p, size_t n)
{
	if (cq_append(&s->out, &s->w->pool, p, n) != 0)
		return UV_ENOMEM;
	return sock_flush(s);
}

int
sock_shut(struct sock *s)
{
	s->want_shut = 1;
	return sock_flush(s);
}

char *
sock_room(struct sock *s, size_t min, size_t *space)
{
	return cq_room(&s->out, &s->w->pool, min, space);
}

void
sock_commit(struct sock *s, size_t n)
{
	cq_commit(&s->out, n);
}

void
sock_trim(struct sock *s)
{
	cq_consume(&s->out, &s->w->pool, 0);
}

size_t
sock_queued(const struct sock *s)
{
	return s->out.len;
}

void
sock_write_last(struct sock *s)
{
	uv_buf_t bufs[MAX_SPANS];
	size_t total;
	int n;

	if (!s->open || !s->connected || s->inflight > 0 || s->shut_sent)
		return;
	if ((n = to_bufs(&s->out, bufs, &total)) > 0)
		(void)uv_try_write(&s->h.stream, bufs, (unsigned)n);
}

static void
closed_cb(uv_handle_t *h)
{
	struct sock *s = h->data;

	s->inflight = 0;
	s->closing = 0;
	if (s->reopen_cb != NULL) {
		/* The next address: what is queued goes there. */
		s->reopen_cb(s);
		return;
	}
	s->ops->closed(s->arg);
}

/* begin_close: stop reading; the handle's close is due.  1 if it was open. */
static int
begin_close(struct sock *s)
{
	if (!s->open)
		return 0;
	if (s->reading)
		uv_read_stop(&s->h.stream);
	s->open = s->reading = 0;
	s->closing = 1;
	return 1;
}

void
sock_close(struct sock *s)
{
	if (begin_close(s)) {
		s->connected = 0;
		uv_close(&s->h.handle, closed_cb);
	}
}

void
sock_reset(struct sock *s)
{
	int tcp = s->h.handle.type == UV_TCP && s->connected;

	if (!begin_close(s))
		return;
	s->connected = 0;
	/* Refused while a shutdown is under way: then a plain close. */
	if (!tcp || uv_tcp_close_reset(&s->h.tcp, closed_cb) != 0)
		uv_close(&s->h.handle, closed_cb);
}

void
sock_clear(struct sock *s)
{
	cq_clear(&s->out, &s->w->pool);
}

int
sock_busy(const struct sock *s)
{
	return s->open || s->closing;
}
