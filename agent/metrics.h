/* SPDX-License-Identifier: MIT */
/*
 * metrics.h: the HTTP endpoint for monitoring (GNU libmicrohttpd, on its
 * own thread): /metrics, /healthz and /readyz.  Bounded: 8 connections
 * at once, 16 KiB per request, 10 s idle and 10 s in all per connection;
 * it only reads
 * the workers' counters, so a slow or hostile scraper never reaches the
 * data path.
 */
#ifndef AGENT_METRICS_H
#define AGENT_METRICS_H

#include <stddef.h>

#include "common/cfg.h"

struct agent;

/* metrics_bind(c): the listening socket for c's metrics address (while
 * still root), or -1 when metrics are off.  Fatal on failure. */
int metrics_bind(const struct cfg *c);

/* metrics_start(a, fd): serve on fd from a thread of its own: 0 or -1
 * with the reason in err. */
int metrics_start(struct agent *a, int fd, char *err, size_t len);

/* metrics_reap(): end scrapes older than their deadline; from the main
 * loop, twice a second. */
void metrics_reap(void);

/* metrics_stop(): close the endpoint; before the workers are freed. */
void metrics_stop(void);

#endif
