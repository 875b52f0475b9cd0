/* SPDX-License-Identifier: MIT */
/*
 * check.h: dbtls-certs check: every certificate, key, CA and CRL an agent
 * config names, judged as the agent would judge it.
 */
#ifndef CERTS_CHECK_H
#define CERTS_CHECK_H

/*
 * check_main(argc, argv): "check --config FILE [--warn-days 30] [--json]".
 * Exit 0 all good, 1 something expires within warn-days, 2 something is
 * invalid or unreadable.
 */
int check_main(int argc, char **argv);

#endif
