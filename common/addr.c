/* SPDX-License-Identifier: MIT */
/*
 * addr.c: parsing and printing of tunnel addresses.  Host names are kept
 * as names and resolved when dialling; IP literals are turned into a
 * sockaddr once, here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"

static int
addr_fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

int
addr_parse(const char *s, struct addr *out, char *err, size_t errlen)
{
	const char *colon, *host;
	size_t hostlen;
	char *end;
	long port;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, "unix:", 5) == 0) {
		size_t len = strlen(s + 5);

		s += 5;
		if (s[0] != '/')
			return addr_fail(err, errlen,
			    "unix socket path must be absolute");
		if (len >= sizeof(out->path))
			return addr_fail(err, errlen,
			    "unix socket path too long (107 bytes at most)");
		out->kind = ADDR_UNIX;
		memcpy(out->path, s, len + 1);
		return 0;
	}

	out->kind = ADDR_TCP;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return addr_fail(err, errlen, "missing ']'");
		host = s + 1;
		hostlen = (size_t)(close - host);
		if (close[1] != ':')
			return addr_fail(err, errlen, "missing port");
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return addr_fail(err, errlen, "missing port");
		host = s;
		hostlen = (size_t)(colon - s);
		if (memchr(host, ':', hostlen) != NULL)
			return addr_fail(err, errlen,
			    "IPv6 address needs brackets: [addr]:port");
	}
	if (hostlen == 0)
		return addr_fail(err, errlen, "missing host");
	if (hostlen >= sizeof(out->host))
		return addr_fail(err, errlen, "host name too long");
	memcpy(out->host, host, hostlen);
	out->host[hostlen] = '\0';

	if (colon[1] == '\0')
		return addr_fail(err, errlen, "missing port");
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] < '0' || colon[1] > '9')
		return addr_fail(err, errlen, "port is not a number");
	if (port < 0 || port > 65535)
		return addr_fail(err, errlen, "port out of range (0-65535)");
	out->port = (unsigned short)port;

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
	if (inet_pton(AF_INET, out->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(out->port);
		out->salen = sizeof(*sin);
		out->numeric = 1;
	} else if (inet_pton(AF_INET6, out->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(out->port);
		out->salen = sizeof(*sin6);
		out->numeric = 1;
	} else if (s[0] == '[') {
		return addr_fail(err, errlen,
		    "not an IPv6 address in brackets");
	}
	return 0;
}

char *
addr_format(const struct addr *a, char *buf, size_t len)
{
	if (a->kind == ADDR_UNIX)
		snprintf(buf, len, "unix:%s", a->path);
	else if (strchr(a->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", a->host, a->port);
	else
		snprintf(buf, len, "%s:%u", a->host, a->port);
	return buf;
}

int
addr_is_local(const struct addr *a)
{
	const struct sockaddr_in *sin = (const void *)&a->sa;
	const struct sockaddr_in6 *sin6 = (const void *)&a->sa;

	if (a->kind == ADDR_UNIX || strcmp(a->host, "localhost") == 0)
		return 1;
	if (!a->numeric)
		return 0;
	if (a->sa.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		sin6->sin6_addr.s6_addr[12] == 127);
}

char *
addr_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(buf, len, "unix");
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}
