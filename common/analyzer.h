/* SPDX-License-Identifier: MIT */
/*
 * analyzer.h: LEAK_CHECK_OFF and LEAK_CHECK_ON, around a function in which
 * gcc 12's -fanalyzer reports a leak that is not one (scripts/audit.sh
 * wants none).  Each use says where the memory goes.  Other compilers
 * see nothing.
 */
#ifndef DBTLS_ANALYZER_H
#define DBTLS_ANALYZER_H

#if defined(__GNUC__) && !defined(__clang__)
#define LEAK_CHECK_OFF                 \
	_Pragma("GCC diagnostic push") \
	    _Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")
#define LEAK_CHECK_ON _Pragma("GCC diagnostic pop")
#else
#define LEAK_CHECK_OFF
#define LEAK_CHECK_ON
#endif

#endif
