/* SPDX-License-Identifier: MIT */
/*
 * worker.c: one libuv loop per thread.  Each worker listens on its own
 * copy of every tunnel's socket (SO_REUSEPORT for TCP, so the kernel
 * spreads new connections; a shared descriptor for unix sockets) and owns
 * the links and streams it accepts or dials until they close.  A client
 * tunnel's listener takes apps (streams), a server tunnel's takes links.
 */
#include <stdlib.h>
#include <unistd.h>

#include <uv.h>

#include "common/log.h"
#include "agent/link.h"
#include "agent/pool.h"
#include "agent/stream.h"
#include "agent/worker.h"

#define LISTEN_BACKLOG 1024

/* Server links start a stream when the peer asks for one. */
static const struct link_hooks server_hooks = { NULL, NULL, stream_serve };

static void
connection_cb(uv_stream_t *server, int status)
{
	struct listener *l = server->data;

	if (status < 0) {
		log_warnx("tunnel=%s: accept: %s", l->t->cfg->name,
		    uv_strerror(status));
		return;
	}
	if (l->t->cfg->mode == CFG_MODE_CLIENT)
		stream_accept(l);
	else
		link_accept(l, &server_hooks);
}

/* stop_listening: new connections are refused from now on. */
static void
stop_listening(struct worker *w)
{
	if (!w->listening)
		return;
	w->listening = 0;
	for (size_t i = 0; i < w->agent->ntunnels; i++)
		uv_close(&w->listeners[i].h.handle, NULL);
}

static void
drain_cb(uv_async_t *async)
{
	struct worker *w = async->data;

	w->stopping = 1; /* the pool keeps and prewarms nothing */
	stop_listening(w);
	link_drain_all(w);
}

static void
stop_cb(uv_async_t *async)
{
	struct worker *w = async->data;

	w->stopping = 1;
	uv_close((uv_handle_t *)&w->pool_timer, NULL);
	uv_close((uv_handle_t *)&w->reloaded, NULL);
	uv_close((uv_handle_t *)&w->drain, NULL);
	stop_listening(w);
	stream_close_all(w, "agent shutting down");
	link_close_all(w, "agent shutting down");
	uv_close((uv_handle_t *)async, NULL);
}

/*
 * drain_when_idle: once a burst is over (activity moved, then stood
 * still for a tick), free the spare chunks, and have the main thread
 * give the memory back to the system (trim_cb in main.c).
 */
static void
drain_when_idle(struct worker *w)
{
	uint64_t mark = w->pool.gets + atomic_load(&w->agent->next_conn_id);

	if (mark == w->busy_mark && mark != w->trim_mark) {
		cq_pool_drain(&w->pool);
		atomic_store(&w->agent->trim_wanted, 1);
		w->trim_mark = mark;
	}
	w->busy_mark = mark;
}

static void
reloaded_cb(uv_async_t *async)
{
	link_drop_stale(async->data);
	link_recheck_all(async->data);
}

static void
pool_timer_cb(uv_timer_t *t)
{
	struct worker *w = t->data;

	atomic_store(&w->beat, uv_hrtime());
	link_close_expired(w);
	pool_fill(w);
	drain_when_idle(w);
}

static void
worker_main(void *arg)
{
	struct worker *w = arg;

	uv_run(&w->loop, UV_RUN_DEFAULT);
}

int
worker_start(struct agent *a, unsigned index)
{
	struct worker *w = &a->workers[index];
	int rc;

	w->agent = a;
	w->index = index;
	cq_pool_init(&w->pool, 64);
	w->readbuf = malloc(WORKER_READ_SIZE);
	w->listeners = calloc(a->ntunnels, sizeof(*w->listeners));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): SSL_SESSION *[] */
	w->sessions = calloc(a->ntunnels, sizeof(*w->sessions));
	w->session_gen = calloc(a->ntunnels, sizeof(*w->session_gen));
	w->pools = calloc(a->ntunnels, sizeof(*w->pools));
	w->stats = calloc(a->ntunnels, sizeof(*w->stats));
	if (w->readbuf == NULL || w->listeners == NULL || w->sessions == NULL ||
	    w->session_gen == NULL || w->pools == NULL || w->stats == NULL)
		return UV_ENOMEM;
	if ((rc = uv_loop_init(&w->loop)) != 0)
		return rc;
	for (size_t i = 0; i < a->ntunnels; i++) {
		struct listener *l = &w->listeners[i];
		struct tunnel *t = &a->tunnels[i];
		int fd = t->fds[index];

		l->w = w;
		l->t = t;
		if (t->cfg->listen.kind == ADDR_UNIX) {
			if ((rc = uv_pipe_init(&w->loop, &l->h.pipe, 0)) != 0 ||
			    (rc = uv_pipe_open(&l->h.pipe, fd)) != 0)
				return rc;
		} else {
			if ((rc = uv_tcp_init(&w->loop, &l->h.tcp)) != 0 ||
			    (rc = uv_tcp_open(&l->h.tcp, fd)) != 0)
				return rc;
		}
		l->h.handle.data = l;
		if ((rc = uv_listen(&l->h.stream, LISTEN_BACKLOG,
			 connection_cb)) != 0)
			return rc;
	}
	w->listening = 1;
	w->stop.data = w;
	w->reloaded.data = w;
	w->drain.data = w;
	if ((rc = uv_async_init(&w->loop, &w->stop, stop_cb)) != 0 ||
	    (rc = uv_async_init(&w->loop, &w->reloaded, reloaded_cb)) != 0 ||
	    (rc = uv_async_init(&w->loop, &w->drain, drain_cb)) != 0)
		return rc;
	/* Prewarmed connections: filled now, topped up after each use and
	 * every second (which also retries after failures, gently); spare
	 * chunks freed after bursts. */
	w->pool_timer.data = w;
	atomic_store(&w->beat, uv_hrtime());
	if ((rc = uv_timer_init(&w->loop, &w->pool_timer)) != 0 ||
	    (rc = uv_timer_start(&w->pool_timer, pool_timer_cb, 0, 1000)) != 0)
		return rc;
	return 0;
}

int
worker_run(struct worker *w)
{
	return uv_thread_create(&w->thread, worker_main, w);
}

void
worker_reloaded(struct worker *w)
{
	uv_async_send(&w->reloaded);
}

void
worker_drain(struct worker *w)
{
	uv_async_send(&w->drain);
}

void
worker_stop(struct worker *w)
{
	uv_async_send(&w->stop);
}

void
worker_join(struct worker *w)
{
	uv_thread_join(&w->thread);
	uv_run(&w->loop, UV_RUN_DEFAULT); /* pending close callbacks */
	uv_loop_close(&w->loop);
	for (size_t i = 0; i < w->agent->ntunnels; i++)
		SSL_SESSION_free(w->sessions[i]);
	free(w->sessions);
	free(w->session_gen);
	free(w->pools);
	free(w->stats);
	free(w->listeners);
	free(w->readbuf);
	cq_pool_drain(&w->pool);
}
