/* SPDX-License-Identifier: MIT */
/* stats.c: histogram buckets and the names of labels. */
#include <stddef.h>

#include "agent/stats.h"

const double stats_bounds[STATS_BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

struct stats_process stats_process;

void
stats_observe(struct stats_hist *h, uint64_t ns)
{
	size_t i = 0;

	while (i < STATS_BUCKETS && (double)ns > stats_bounds[i] * 1e9)
		i++;
	stats_add(&h->bucket[i], 1);
	stats_add(&h->sum_ns, ns);
}

const char *
stats_refusal_name(enum stats_refusal r)
{
	static const char *const names[REFUSED_N] = { "not_allowed",
		"no_certificate", "handshake", "timeout", "max_connections",
		"plaintext", "protocol" };

	return names[r];
}

const char *
stats_target_name(enum stats_target t)
{
	return t == TARGET_AGENT ? "agent" : "database";
}
