/* SPDX-License-Identifier: MIT */
/*
 * cfg.h: the agent's configuration as plain, validated, immutable data.
 * cfg_load() is the only place that knows libconfig; everything after it
 * reads struct cfg.
 */
#ifndef COMMON_CFG_H
#define COMMON_CFG_H

#include <stddef.h>
#include <sys/types.h>

#include "common/addr.h"
#include "common/log.h"

enum cfg_mode { CFG_MODE_CLIENT, CFG_MODE_SERVER };
enum cfg_proto { CFG_PROTO_POSTGRESQL, CFG_PROTO_MONGODB, CFG_PROTO_TCP };

/* A file named in the config, with the line that named it for errors. */
struct cfg_file {
	char *path;
	int line;
};

struct cfg_tls {
	struct cfg_file cert; /* leaf first, then intermediates */
	struct cfg_file key;
	struct cfg_file ca;  /* trust anchors for the peer's chain */
	struct cfg_file crl; /* optional: revoked peer certificates */
	int min_version;     /* TLS1_2_VERSION or TLS1_3_VERSION */
	int watch;	     /* reload = "watch": follow the files */
	unsigned expiry_warn_days;
};

#define CFG_SPKI_LEN 32 /* SHA-256 of a SubjectPublicKeyInfo */

/* Who may connect (server) or be connected to (client): any match admits. */
struct cfg_allow {
	char **cn;
	size_t ncn;
	char **dns;
	size_t ndns;
	char **uri;
	size_t nuri;
	char **ou;
	size_t nou;
	unsigned char (*spki)[CFG_SPKI_LEN];
	size_t nspki;
};

struct cfg_tunnel {
	char *name;
	int line;
	enum cfg_mode mode;
	enum cfg_proto proto;
	struct addr listen;
	int listen_mode;  /* unix socket: chmod, or -1 */
	uid_t listen_uid; /* unix socket: chown, or -1 */
	gid_t listen_gid;
	struct addr connect;
	char *server_name; /* client: name the server must carry */
	struct cfg_tls tls;
	struct cfg_allow allow;
	int has_allow;
	int allow_any;
	unsigned connect_timeout_ms;
	unsigned handshake_timeout_ms;
	unsigned idle_timeout_ms;      /* 0: none */
	unsigned keepalive_s;	       /* idle time before probes; 0: off */
	unsigned keepalive_interval_s; /* between probes */
	unsigned keepalive_count;      /* unanswered probes: dead */
	unsigned user_timeout_ms;      /* unacknowledged data: dead; 0: OS */
	unsigned max_connections;
	unsigned prewarm; /* client: ready TLS connections kept */
};

struct cfg {
	char *path;
	char *pidfile;		   /* optional */
	unsigned workers;	   /* 0: one per core */
	unsigned drain_timeout_ms; /* at SIGTERM; 0: none */
	enum log_level log_level;
	enum log_format log_format;
	char *user;	     /* optional: run as, once up */
	char *group;	     /* set with user: its name */
	uid_t uid;	     /* user's, or -1 */
	gid_t gid;	     /* group's or user's, or -1 */
	struct addr metrics; /* if has_metrics */
	int has_metrics;
	int close_on_revoke; /* a reload ends such peers */
	int close_expired;   /* end them when theirs ends */
	int sandbox;	     /* Landlock and seccomp, once up */
	struct cfg_tunnel *tunnels;
	size_t ntunnels;
};

/*
 * cfg_load(path, err, errlen): read and validate the file.  Returns a new
 * struct cfg the caller owns (cfg_free), or NULL with "file:line: what" in
 * err.  Files the config names are not opened here (see tlsctx).
 */
struct cfg *cfg_load(const char *path, char *err, size_t errlen);
/* cfg_load_string: the same over text; name stands in for the file name. */
struct cfg *cfg_load_string(const char *text, const char *name, char *err,
    size_t errlen);
void cfg_free(struct cfg *c);

/*
 * cfg_same_shape(a, b, why, len): 1 if b differs from a only in what a
 * reload may change (TLS files and settings, allow lists, limits, log
 * level); else 0 with the first difference in why.
 */
int cfg_same_shape(const struct cfg *a, const struct cfg *b, char *why,
    size_t len);

/* cfg_spki_parse(s, out): 64 hex digits (colons allowed) or base64. */
int cfg_spki_parse(const char *s, unsigned char out[CFG_SPKI_LEN]);

const char *cfg_mode_name(enum cfg_mode m);
const char *cfg_proto_name(enum cfg_proto p);

#endif
