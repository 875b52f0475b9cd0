/* SPDX-License-Identifier: MIT */
/*
 * expo.h: the agent's figures in the Prometheus text exposition format
 * (version 0.0.4), for /metrics and --status.
 */
#ifndef AGENT_EXPO_H
#define AGENT_EXPO_H

#include <stddef.h>

struct agent;

/* A growing text buffer; on allocation failure it keeps what it had and
 * sets failed. */
struct expo_buf {
	char *data;
	size_t len, cap;
	int failed;
};

void expo_printf(struct expo_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void expo_free(struct expo_buf *b);

/*
 * expo_metrics(b, a): every metric family, summed over a's workers, with
 * the certificates of the generation in force and this process's
 * resources.  Safe from any thread while the workers run.
 */
void expo_metrics(struct expo_buf *b, struct agent *a);

/*
 * expo_health(a, why, len) and expo_readiness(a, why, len): 1 when healthy
 * (every loop turned in the last few seconds) or ready (serving, not
 * draining, every tunnel's certificate valid); else 0 and why.
 */
int expo_health(struct agent *a, char *why, size_t len);
int expo_readiness(struct agent *a, char *why, size_t len);

#endif
