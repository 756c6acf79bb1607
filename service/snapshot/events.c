/* The event ring and snapshot comparison. Clients (http_events.c) read the
 * ring under the mutex; this is off the profile request path. */
#include "events_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_snapshot.h"

static const struct roster_sprofile *find(const struct roster_snapshot *s, const char *id)
{
    return roster_snapshot_find(s, id, strlen(id));
}

/* 0 same, 1 content changed, 2 validity or diagnostics changed */
static int profile_delta(const struct roster_sprofile *a, const struct roster_sprofile *b)
{
    if (a->ok != b->ok || a->stale != b->stale || !json_equal(a->diagnostics, b->diagnostics))
        return b->ok && !b->stale ? 1 : 2;
    if (!b->ok)
        return 0;
    /* the lineage digest covers every file the representations are made of */
    return strcmp(a->key, b->key) != 0;
}

void roster_snapshot_diff(const struct roster_snapshot *old, const struct roster_snapshot *new,
                          struct roster_diff *d)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < new->n; i++) {
        const struct roster_sprofile *b = &new->profiles[i];
        const struct roster_sprofile *a = old ? find(old, b->id) : NULL;
        if (!a) {
            if (b->ok)
                d->added++;
            else
                d->invalid++;
            continue;
        }
        int delta = profile_delta(a, b);
        d->changed += delta == 1;
        d->invalid += delta == 2;
    }
    for (size_t i = 0; old && i < old->n; i++)
        if (!find(new, old->profiles[i].id))
            d->removed++;
}

struct roster_events *roster_events_new(size_t capacity)
{
    struct roster_events *ev = roster_calloc(1, sizeof(*ev));
    if (!ev)
        return NULL;
    ev->ring = roster_calloc(capacity, sizeof(*ev->ring));
    if (!ev->ring) {
        roster_free(ev);
        return NULL;
    }
    ev->cap = capacity;
    ev->next_id = 1;
    /* the start time in seconds and 16 random bits: two processes started
     * in the same second still differ (all but 1 in 65,536 times) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned short rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
        rnd = (unsigned short)((unsigned long)ts.tv_nsec ^ (unsigned long)getpid());
    snprintf(ev->boot, sizeof(ev->boot), "%08lx%04x", (unsigned long)ts.tv_sec & 0xffffffffUL,
             (unsigned)rnd);
    ev->max_clients = ROSTER_EVENTS_MAX_CLIENTS;
    pthread_mutex_init(&ev->lock, NULL);
    return ev;
}

void roster_events_free(struct roster_events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->cap; i++)
        roster_free(ev->ring[i].frame);
    roster_free(ev->ring);
    pthread_mutex_destroy(&ev->lock);
    roster_free(ev);
}

/* Must hold the lock. */
static void wake(struct roster_events *ev, int heartbeat)
{
    if (ev->wake_locked)
        ev->wake_locked(ev, heartbeat);
}

/* Must hold the lock. Out of memory, the event is lost (never half kept). */
static void append(struct roster_events *ev, const char *type, const char *data)
{
    uint64_t id = ev->next_id;
    struct roster_buf b;
    roster_buf_init(&b, 1 << 20);
    if (roster_buf_printf(&b, "id: %s-%llu\nevent: %s\ndata: %s\n\n", ev->boot,
                          (unsigned long long)id, type, data) < 0) {
        roster_buf_release(&b);
        return;
    }
    struct roster_event *slot = &ev->ring[id % ev->cap];
    roster_free(slot->frame);
    slot->id = id;
    slot->frame = roster_buf_steal(&b, &slot->len);
    ev->next_id++;
    if (ev->count < ev->cap)
        ev->count++;
}

static void publish_profile(struct roster_events *ev, const char *type,
                            const struct roster_sprofile *sp, uint64_t gen)
{
    json_t *o = json_pack("{s:s,s:I}", "id", sp->id, "generation", (json_int_t)gen);
    if (!o)
        return;
    if (sp->ok) {
        char etag[100];
        roster_sprofile_etag(sp, ROSTER_VIEW_PROFILE, 0, etag, sizeof(etag));
        json_object_set_new(o, "etag", json_string(etag));
        json_object_set_new(o, "stale", json_boolean(sp->stale));
    }
    if (strcmp(type, "profile.invalid") == 0)
        json_object_set(o, "diagnostics", sp->diagnostics);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s)
        append(ev, type, s);
    roster_free(s);
}

void roster_events_publish_diff(struct roster_events *ev, const struct roster_snapshot *old,
                                const struct roster_snapshot *new)
{
    struct roster_diff d;
    roster_snapshot_diff(old, new, &d);
    pthread_mutex_lock(&ev->lock);
    for (size_t i = 0; i < new->n; i++) {
        const struct roster_sprofile *b = &new->profiles[i];
        const struct roster_sprofile *a = old ? find(old, b->id) : NULL;
        int delta = a ? profile_delta(a, b) : (b->ok ? 1 : 2);
        if (delta == 0)
            continue;
        const char *type = delta == 2 ? "profile.invalid" : a ? "profile.changed" : "profile.added";
        publish_profile(ev, type, b, new->generation);
    }
    for (size_t i = 0; old && i < old->n; i++)
        if (!find(new, old->profiles[i].id))
            publish_profile(ev, "profile.removed", &old->profiles[i], new->generation);
    char data[256];
    snprintf(data, sizeof(data),
             "{\"generation\":%llu,\"added\":%zu,\"changed\":%zu,\"removed\":%zu,\"invalid\":%zu}",
             (unsigned long long)new->generation, d.added, d.changed, d.removed, d.invalid);
    append(ev, "snapshot.reloaded", data);
    wake(ev, 0);
    pthread_mutex_unlock(&ev->lock);
}

void roster_events_tick(struct roster_events *ev)
{
    double now = roster_now_mono();
    pthread_mutex_lock(&ev->lock);
    if (ev->reap_locked)
        ev->reap_locked(ev);
    if (now >= ev->next_heartbeat) {
        ev->next_heartbeat = now + ROSTER_EVENTS_HEARTBEAT_S;
        wake(ev, 1);
    }
    pthread_mutex_unlock(&ev->lock);
}

void roster_events_close(struct roster_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->closing = 1;
    wake(ev, 0);
    pthread_mutex_unlock(&ev->lock);
}

void roster_events_set_max_clients(struct roster_events *ev, size_t n)
{
    pthread_mutex_lock(&ev->lock);
    ev->max_clients = n < 1 ? 1 : n > ROSTER_EVENTS_MAX_CLIENTS ? ROSTER_EVENTS_MAX_CLIENTS : n;
    pthread_mutex_unlock(&ev->lock);
}
