/* Change events: what a reload changed, kept in a bounded ring for
 * Server-Sent Events clients (GET /v1/events) with Last-Event-ID replay. */
#ifndef ROSTER_EVENTS_H
#define ROSTER_EVENTS_H

#include <stddef.h>

struct roster_snapshot;
struct roster_events;

struct roster_diff {
    size_t added;
    size_t changed;
    size_t removed;
    size_t invalid; /* profiles that became (or stay, with new diagnostics) invalid */
};

/* What differs between two snapshots (profile bytes, state, diagnostics). */
void roster_snapshot_diff(const struct roster_snapshot *old, const struct roster_snapshot *new,
                          struct roster_diff *d);

struct roster_events *roster_events_new(size_t capacity);
void roster_events_free(struct roster_events *ev);
/* Appends profile.* events and one snapshot.reloaded event, wakes clients. */
void roster_events_publish_diff(struct roster_events *ev, const struct roster_snapshot *old,
                                const struct roster_snapshot *new);
/* Heartbeats for idle clients; call every few tens of milliseconds. */
void roster_events_tick(struct roster_events *ev);
/* Ends every stream (shutdown). */
void roster_events_close(struct roster_events *ev);
/* Caps event clients (so they cannot take every connection). */
void roster_events_set_max_clients(struct roster_events *ev, size_t n);

#endif
