/* SPDX-License-Identifier: MIT */
/*
 * addr.h: the addresses a tunnel listens on and connects to, as written in
 * the config: "host:port", "[v6addr]:port" or "unix:/path".
 */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <sys/socket.h>
#include <sys/un.h>

enum addr_kind { ADDR_TCP, ADDR_UNIX };

struct addr {
	enum addr_kind kind;
	char host[256]; /* ADDR_TCP: name or literal, no brackets */
	unsigned short port;
	int numeric;		    /* host is an IP literal; sa is set */
	struct sockaddr_storage sa; /* ADDR_TCP numeric: host and port */
	socklen_t salen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/*
 * addr_parse(s, out, err, errlen): parse s into out.  Returns 0, or -1 with
 * a reason in err ("missing port", "port out of range", ...).
 */
int addr_parse(const char *s, struct addr *out, char *err, size_t errlen);

/*
 * addr_is_local(a): 1 if a stays on this host: a unix socket, a loopback
 * address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) or "localhost".
 */
int addr_is_local(const struct addr *a);

/* addr_format(a, buf, len): write a as the config spells it; returns buf. */
char *addr_format(const struct addr *a, char *buf, size_t len);

/* addr_sockaddr_format(sa, buf, len): "1.2.3.4:5" or "[::1]:5". */
char *addr_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
