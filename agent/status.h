/* SPDX-License-Identifier: MIT */
/*
 * status.h: dbtls-agent --status: the running agent's figures for a
 * person at a terminal, read from its own metrics endpoint.
 */
#ifndef AGENT_STATUS_H
#define AGENT_STATUS_H

/* status_main(config): print them; 0 if the agent is ready, 1 if it is
 * not or cannot be reached, 2 if the config is bad or has no metrics. */
int status_main(const char *config);

#endif
