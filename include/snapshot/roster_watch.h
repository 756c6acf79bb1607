/* File-system events (inotify) for the profiles directory: the directory,
 * its non-hidden subdirectories, and its parent (so a profiles path that
 * is itself a symbolic link, as git-sync makes, is seen when swapped). */
#ifndef ROSTER_WATCH_H
#define ROSTER_WATCH_H

#include <stddef.h>

struct roster_watch;

#define ROSTER_WATCH_MAX_DIRS 1024

int roster_watch_new(struct roster_watch **out, const char *dir, char *why, size_t why_cap);
/* Reads pending events without blocking; returns how many concern the
 * profiles (0 when none). New subdirectories are watched as they appear. */
int roster_watch_read(struct roster_watch *w);
/* The descriptor that becomes readable when events arrive (for poll). */
int roster_watch_fd(const struct roster_watch *w);
/* 1 when events are waiting to be read. */
int roster_watch_pending(struct roster_watch *w);
/* Reads and discards pending events. */
void roster_watch_drain(struct roster_watch *w);
void roster_watch_free(struct roster_watch *w);

#endif
