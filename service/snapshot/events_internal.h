/* Shared by events.c (the ring) and http_events.c (the SSE clients). */
#ifndef ROSTER_EVENTS_INTERNAL_H
#define ROSTER_EVENTS_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "roster_events.h"

#define ROSTER_EVENTS_HEARTBEAT_S 15
#define ROSTER_EVENTS_MAX_CLIENTS 256
#define ROSTER_EVENTS_BOOT_LEN 12

struct roster_event {
    uint64_t id;
    char *frame; /* "id: ..\nevent: ..\ndata: ..\n\n" */
    size_t len;
};

struct sse_client;

struct roster_events {
    pthread_mutex_t lock;
    struct roster_event *ring; /* slot id % cap */
    size_t cap;
    size_t count;
    uint64_t next_id;
    /* event ids are "<boot>-<n>": unique across restarts, so a client that
     * resumes with an id from another process gets a gap event, not a
     * replay of unrelated events that happen to share a number */
    char boot[ROSTER_EVENTS_BOOT_LEN + 1];
    int closing;
    double next_heartbeat;
    struct sse_client *clients;
    size_t nclients;
    size_t max_clients; /* at most ROSTER_EVENTS_MAX_CLIENTS */
    /* The clients live in the HTTP layer (http_events.c), which installs
     * these with roster_http_events_bind: waking suspended clients and
     * ending those that hung up. Called with the lock held; NULL: none. */
    void (*wake_locked)(struct roster_events *ev, int heartbeat);
    void (*reap_locked)(struct roster_events *ev);
};

#endif
