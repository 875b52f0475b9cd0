/* SPDX-License-Identifier: MIT */
/*
 * tlsctx.h: build the SSL_CTX of one tunnel from its config: certificate
 * chain, private key, trust anchors, protocol floor, peer verification.
 */
#ifndef COMMON_TLSCTX_H
#define COMMON_TLSCTX_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "common/cfg.h"

/* The ALPN protocol id PostgreSQL 17 uses for direct TLS. */
#define TLSCTX_ALPN_POSTGRESQL "postgresql"

/*
 * The ALPN protocol id of two dbtls agents that carry one app connection
 * after another over one TLS 1.3 connection (common/mux.h's streams).
 */
#define TLSCTX_ALPN_DBTLS "dbtls/1"

/*
 * tlsctx_new(cfgfile, t, err, errlen): a new SSL_CTX for tunnel t: a server
 * context that demands a client certificate for server tunnels, a client
 * context that verifies the server for client tunnels.  The caller owns it
 * (SSL_CTX_free).  On failure returns NULL with "cfgfile:line: tunnel "x":
 * what" in err: missing or unreadable files, a key readable by group or
 * others, a key that does not match the certificate, an expired
 * certificate, an unparsable CA file.
 */
SSL_CTX	*tlsctx_new(const char *cfgfile, const struct cfg_tunnel *t,
	    char *err, size_t errlen);

#endif
