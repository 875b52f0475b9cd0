/* SPDX-License-Identifier: MIT */
/*
 * tlsctx.h: build the SSL_CTX of one tunnel from its config: certificate
 * chain, private key, trust anchors, protocol floor, peer verification.
 */
#ifndef COMMON_TLSCTX_H
#define COMMON_TLSCTX_H

#include <stddef.h>

#include <sys/stat.h>
#include <sys/types.h>

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
 * tlsctx_new(c, t, err, errlen): a new SSL_CTX for c's tunnel t: a server
 * context that demands a client certificate for server tunnels, a client
 * context that verifies the server for client tunnels.  The caller owns it
 * (SSL_CTX_free).  On failure returns NULL with "file:line: tunnel "x":
 * what" in err: missing or unreadable files, a key readable by others or
 * by a group other than c's, a key that does not match the certificate, an expired
 * certificate, an unparsable CA file.
 */
SSL_CTX *tlsctx_new(const struct cfg *c, const struct cfg_tunnel *t, char *err,
    size_t errlen);

/*
 * tlsctx_key_private(path, st, group): 1 if the key at path (st from
 * stat) is private enough: readable by its owner alone, or also by its
 * group when that is the agent's group (not (gid_t)-1), and with no ACL
 * (whose entries the mode bits do not show).
 */
int tlsctx_key_private(const char *path, const struct stat *st, gid_t group);

#endif
