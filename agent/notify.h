/* SPDX-License-Identifier: MIT */
/*
 * notify.h: telling the service manager how the agent is (systemd's
 * sd_notify(3) protocol): READY=1, RELOADING=1, STOPPING=1, STATUS=...,
 * WATCHDOG=1.  Without $NOTIFY_SOCKET every call does nothing.
 */
#ifndef AGENT_NOTIFY_H
#define AGENT_NOTIFY_H

/*
 * notify_init(): read $NOTIFY_SOCKET and $WATCHDOG_USEC (then unset
 * them, so that no child inherits them).  Call once, early.
 */
void notify_init(void);

/* notify_send(fmt, ...): one datagram of "KEY=value" lines; best effort. */
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* notify_watchdog_ms(): how often to send WATCHDOG=1 (half of what the
 * manager asked), or 0 if it did not ask. */
unsigned notify_watchdog_ms(void);

#endif
