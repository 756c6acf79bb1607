/* The change-event ring: frame format and ids, capacity eviction, the
 * events a reload publishes (and their counts), the client cap, and the
 * wake hook the HTTP layer installs. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_internal.h"
#include "roster_base.h"
#include "roster_events.h"
#include "roster_snapshot.h"
#include "util.h"

/* Splits "id: B-N\nevent: T\ndata: D\n\n" and checks its shape. */
struct frame {
    char boot[ROSTER_EVENTS_BOOT_LEN + 1];
    unsigned long long n;
    char type[64];
    char data[4096];
};

static void parse_frame(const struct roster_event *e, struct frame *f)
{
    ck_assert_ptr_nonnull(e->frame);
    ck_assert_uint_eq(strlen(e->frame), e->len);
    const char *p = e->frame;
    ck_assert(strncmp(p, "id: ", 4) == 0);
    p += 4;
    size_t hex = strspn(p, "0123456789abcdef");
    ck_assert_uint_eq(hex, ROSTER_EVENTS_BOOT_LEN);
    memcpy(f->boot, p, hex);
    f->boot[hex] = '\0';
    p += hex;
    ck_assert_int_eq(*p, '-');
    p++;
    char *end = NULL;
    ck_assert(*p >= '1' && *p <= '9'); /* no sign, no leading zero */
    f->n = strtoull(p, &end, 10);
    ck_assert(strncmp(end, "\nevent: ", 8) == 0);
    p = end + 8;
    const char *nl = strchr(p, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_uint_lt((size_t)(nl - p), sizeof(f->type));
    snprintf(f->type, sizeof(f->type), "%.*s", (int)(nl - p), p);
    ck_assert(strncmp(nl, "\ndata: ", 7) == 0);
    p = nl + 7;
    nl = strchr(p, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_str_eq(nl, "\n\n"); /* one data line, then the blank line */
    ck_assert_uint_lt((size_t)(nl - p), sizeof(f->data));
    snprintf(f->data, sizeof(f->data), "%.*s", (int)(nl - p), p);
    ck_assert_uint_eq(f->n, e->id);
}

/* The event with id n, which must still be in the ring. */
static const struct roster_event *event(const struct roster_events *ev, uint64_t n)
{
    const struct roster_event *e = &ev->ring[n % ev->cap];
    ck_assert_msg(e->id == n && e->frame, "event %llu is not in the ring", (unsigned long long)n);
    return e;
}

/* ---- publish_diff ------------------------------------------------------ */

static struct roster_snapshot *s1, *s2;

/* tests/fixtures/events: gen1 has a, b, c, g served and d invalid (a
 * missing parent); in gen2 a is unchanged, b edited, c deleted, d still
 * invalid with the same diagnostics, e new, f new and invalid, and g
 * broken (served stale from gen1). */
static void two_generations(void)
{
    s1 = snapshot_build(fixture("events/gen1"), 1, NULL);
    ck_assert_uint_eq(s1->n, 5);
    ck_assert_uint_eq(s1->served, 4);
    ck_assert_uint_eq(s1->invalid, 1);
    s2 = snapshot_build(fixture("events/gen2"), 2, s1);
    ck_assert_uint_eq(s2->n, 6);
    ck_assert_uint_eq(s2->served, 4); /* a, b, e and g (stale) */
    ck_assert_uint_eq(s2->stale, 1);
    ck_assert_uint_eq(s2->invalid, 2);
}

static void drop_generations(void)
{
    roster_snapshot_unref(s1);
    roster_snapshot_unref(s2);
    s1 = s2 = NULL;
}

/* A reload that changed nothing appends exactly one event. */
static const char NOCHANGE1[] =
    "{\"generation\":1,\"added\":0,\"changed\":0,\"removed\":0,\"invalid\":0}";
static const char NOCHANGE2[] =
    "{\"generation\":2,\"added\":0,\"changed\":0,\"removed\":0,\"invalid\":0}";

START_TEST(publish_appends_frames)
{
    struct roster_events *ev = roster_events_new(8);
    ck_assert_ptr_nonnull(ev);
    /* the HTTP layer has not bound its hooks */
    ck_assert_ptr_null(ev->wake_locked);
    ck_assert_ptr_null(ev->reap_locked);
    ck_assert_uint_eq(ev->count, 0);
    ck_assert_uint_eq(ev->next_id, 1);
    ck_assert_uint_eq(ev->nclients, 0);
    ck_assert_uint_eq(strlen(ev->boot), ROSTER_EVENTS_BOOT_LEN);
    ck_assert_uint_eq(strspn(ev->boot, "0123456789abcdef"), ROSTER_EVENTS_BOOT_LEN);

    roster_events_publish_diff(ev, s2, s2);
    ck_assert_uint_eq(ev->count, 1);
    ck_assert_uint_eq(ev->next_id, 2);
    char want[256];
    snprintf(want, sizeof(want), "id: %s-1\nevent: snapshot.reloaded\ndata: %s\n\n", ev->boot,
             NOCHANGE2);
    ck_assert_str_eq(event(ev, 1)->frame, want);
    ck_assert_uint_eq(event(ev, 1)->len, strlen(want));
    roster_events_publish_diff(ev, s1, s1);
    snprintf(want, sizeof(want), "id: %s-2\nevent: snapshot.reloaded\ndata: %s\n\n", ev->boot,
             NOCHANGE1);
    ck_assert_str_eq(event(ev, 2)->frame, want);
    ck_assert_uint_eq(ev->count, 2);
    ck_assert_uint_eq(ev->next_id, 3);
    /* the first frame is untouched by the second */
    struct frame f;
    parse_frame(event(ev, 1), &f);
    ck_assert_str_eq(f.boot, ev->boot);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_str_eq(f.type, "snapshot.reloaded");
    ck_assert_str_eq(f.data, NOCHANGE2);
    roster_events_free(ev);
}
END_TEST

START_TEST(ring_evicts_oldest)
{
    struct roster_events *ev = roster_events_new(3);
    char boot[ROSTER_EVENTS_BOOT_LEN + 1];
    snprintf(boot, sizeof(boot), "%s", ev->boot);
    /* odd ids are generation 1 summaries, even ids generation 2 */
    for (uint64_t i = 1; i <= 7; i++) {
        const struct roster_snapshot *s = i % 2 ? s1 : s2;
        roster_events_publish_diff(ev, s, s);
        ck_assert_uint_eq(ev->count, i < 3 ? (size_t)i : 3);
        ck_assert_uint_eq(ev->next_id, i + 1);
    }
    /* 5, 6 and 7 are kept, each in slot id % cap; the boot never changes */
    for (uint64_t n = 5; n <= 7; n++) {
        struct frame f;
        parse_frame(event(ev, n), &f);
        ck_assert_str_eq(f.boot, boot);
        ck_assert_str_eq(f.data, n % 2 ? NOCHANGE1 : NOCHANGE2);
    }
    /* slots 0, 1, 2 hold 6, 7, 5 */
    ck_assert_uint_eq(ev->ring[0].id, 6);
    ck_assert_uint_eq(ev->ring[1].id, 7);
    ck_assert_uint_eq(ev->ring[2].id, 5);
    ck_assert_str_eq(ev->boot, boot);
    /* a reload's events evict as many of the oldest */
    roster_events_publish_diff(ev, s1, s2); /* ids 8 to 13 */
    ck_assert_uint_eq(ev->count, 3);
    ck_assert_uint_eq(ev->next_id, 14);
    struct frame f;
    parse_frame(event(ev, 11), &f);
    ck_assert_str_eq(f.type, "profile.invalid");
    parse_frame(event(ev, 12), &f);
    ck_assert_str_eq(f.type, "profile.removed");
    parse_frame(event(ev, 13), &f);
    ck_assert_str_eq(f.type, "snapshot.reloaded");
    roster_events_free(ev);
    /* a ring of one keeps only the newest */
    ev = roster_events_new(1);
    roster_events_publish_diff(ev, s1, s1);
    roster_events_publish_diff(ev, s2, s2);
    ck_assert_uint_eq(ev->count, 1);
    parse_frame(event(ev, 2), &f);
    ck_assert_str_eq(f.data, NOCHANGE2);
    roster_events_free(ev);
}
END_TEST

START_TEST(snapshot_diff_counts)
{
    struct roster_diff d;
    memset(&d, 0xff, sizeof(d));
    roster_snapshot_diff(s1, s2, &d);
    ck_assert_uint_eq(d.added, 1); /* e */
    ck_assert_uint_eq(d.changed, 1); /* b */
    ck_assert_uint_eq(d.removed, 1); /* c */
    ck_assert_uint_eq(d.invalid, 2); /* f new and invalid, g gone stale */
    /* against nothing: every served profile is added, every other invalid */
    roster_snapshot_diff(NULL, s2, &d);
    ck_assert_uint_eq(d.added, 4);
    ck_assert_uint_eq(d.changed, 0);
    ck_assert_uint_eq(d.removed, 0);
    ck_assert_uint_eq(d.invalid, 2);
    /* a snapshot against itself, and against a rebuild of the same files */
    roster_snapshot_diff(s2, s2, &d);
    ck_assert(d.added == 0 && d.changed == 0 && d.removed == 0 && d.invalid == 0);
    struct roster_snapshot *s3 = snapshot_build(fixture("events/gen2"), 3, s2);
    roster_snapshot_diff(s2, s3, &d);
    ck_assert(d.added == 0 && d.changed == 0 && d.removed == 0 && d.invalid == 0);
    /* and backwards: c comes back, e and f go, b changes, g is fresh again */
    roster_snapshot_diff(s2, s1, &d);
    ck_assert_uint_eq(d.added, 1);
    ck_assert_uint_eq(d.changed, 2);
    ck_assert_uint_eq(d.removed, 2);
    ck_assert_uint_eq(d.invalid, 0);
    roster_snapshot_unref(s3);
}
END_TEST

/* Checks the data object of a profile event. */
static void expect_profile_event(const struct roster_event *e, const char *type, const char *id,
                                 const struct roster_sprofile *sp, uint64_t gen)
{
    struct frame f;
    parse_frame(e, &f);
    ck_assert_str_eq(f.type, type);
    json_t *d = json_loads(f.data, 0, NULL);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(json_string_value(json_object_get(d, "id")), id);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "generation")), (json_int_t)gen);
    size_t keys = 2;
    if (sp->ok) {
        char etag[100];
        roster_sprofile_etag(sp, ROSTER_VIEW_PROFILE, 0, etag, sizeof(etag));
        ck_assert_str_eq(json_string_value(json_object_get(d, "etag")), etag);
        ck_assert(json_is_boolean(json_object_get(d, "stale")));
        ck_assert_int_eq(json_is_true(json_object_get(d, "stale")), sp->stale);
        keys += 2;
    }
    if (strcmp(type, "profile.invalid") == 0) {
        ck_assert(json_equal(json_object_get(d, "diagnostics"), sp->diagnostics));
        ck_assert_uint_eq(json_array_size(sp->diagnostics), 1);
        keys++;
    }
    ck_assert_uint_eq(json_object_size(d), keys);
    json_decref(d);
}

static const struct roster_sprofile *find(const struct roster_snapshot *s, const char *id)
{
    const struct roster_sprofile *sp = roster_snapshot_find(s, id, strlen(id));
    ck_assert_ptr_nonnull(sp);
    return sp;
}

START_TEST(publish_diff_events)
{
    struct roster_events *ev = roster_events_new(64);
    roster_events_publish_diff(ev, s2, s2); /* id 1, an earlier reload */
    roster_events_publish_diff(ev, s1, s2);
    /* profile events in id order, removals after them, then the summary */
    ck_assert_uint_eq(ev->next_id, 8);
    ck_assert_uint_eq(ev->count, 7);
    expect_profile_event(event(ev, 2), "profile.changed", "b", find(s2, "b"), 2);
    expect_profile_event(event(ev, 3), "profile.added", "e", find(s2, "e"), 2);
    expect_profile_event(event(ev, 4), "profile.invalid", "f", find(s2, "f"), 2);
    expect_profile_event(event(ev, 5), "profile.invalid", "g", find(s2, "g"), 2);
    expect_profile_event(event(ev, 6), "profile.removed", "c", find(s1, "c"), 2);
    struct frame f;
    parse_frame(event(ev, 7), &f);
    ck_assert_str_eq(f.type, "snapshot.reloaded");
    ck_assert_str_eq(f.data,
                     "{\"generation\":2,\"added\":1,\"changed\":1,\"removed\":1,\"invalid\":2}");
    /* every frame of the ring shares the boot */
    for (uint64_t n = 1; n <= 7; n++) {
        parse_frame(event(ev, n), &f);
        ck_assert_str_eq(f.boot, ev->boot);
    }
    /* no change: only the summary */
    roster_events_publish_diff(ev, s2, s2);
    ck_assert_uint_eq(ev->next_id, 9);
    parse_frame(event(ev, 8), &f);
    ck_assert_str_eq(f.type, "snapshot.reloaded");
    ck_assert_str_eq(f.data,
                     "{\"generation\":2,\"added\":0,\"changed\":0,\"removed\":0,\"invalid\":0}");
    /* the first snapshot: everything is added or invalid */
    roster_events_publish_diff(ev, NULL, s1);
    ck_assert_uint_eq(ev->next_id, 15);
    static const char *const first[][2] = {{"profile.added", "a"},
                                           {"profile.added", "b"},
                                           {"profile.added", "c"},
                                           {"profile.invalid", "d"},
                                           {"profile.added", "g"}};
    for (size_t i = 0; i < 5; i++)
        expect_profile_event(event(ev, 9 + i), first[i][0], first[i][1], find(s1, first[i][1]), 1);
    parse_frame(event(ev, 14), &f);
    ck_assert_str_eq(f.data,
                     "{\"generation\":1,\"added\":4,\"changed\":0,\"removed\":0,\"invalid\":1}");
    roster_events_free(ev);
}
END_TEST

START_TEST(max_clients_clamped)
{
    struct roster_events *ev = roster_events_new(4);
    ck_assert_uint_eq(ev->max_clients, ROSTER_EVENTS_MAX_CLIENTS);
    static const struct {
        size_t set, want;
    } cases[] = {{0, 1},
                 {1, 1},
                 {10, 10},
                 {ROSTER_EVENTS_MAX_CLIENTS, ROSTER_EVENTS_MAX_CLIENTS},
                 {ROSTER_EVENTS_MAX_CLIENTS + 1, ROSTER_EVENTS_MAX_CLIENTS},
                 {(size_t)-1, ROSTER_EVENTS_MAX_CLIENTS}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        roster_events_set_max_clients(ev, cases[i].set);
        ck_assert_uint_eq(ev->max_clients, cases[i].want);
    }
    roster_events_free(ev);
}
END_TEST

/* ---- hooks ------------------------------------------------------------- */

static struct {
    int wakes, heartbeats, reaps;
    int lock_held; /* every call found the ring's lock taken */
    uint64_t next_id_seen;
    int closing_seen;
} hook;

static int lock_taken(struct roster_events *ev)
{
    int r = pthread_mutex_trylock(&ev->lock);
    if (r == 0)
        pthread_mutex_unlock(&ev->lock);
    return r == EBUSY;
}

static void wake_hook(struct roster_events *ev, int heartbeat)
{
    hook.wakes++;
    hook.heartbeats += heartbeat != 0;
    hook.lock_held &= lock_taken(ev);
    hook.next_id_seen = ev->next_id;
    hook.closing_seen = ev->closing;
}

static void reap_hook(struct roster_events *ev)
{
    hook.reaps++;
    hook.lock_held &= lock_taken(ev);
}

START_TEST(publishing_wakes_installed_hook)
{
    memset(&hook, 0, sizeof(hook));
    hook.lock_held = 1;
    struct roster_events *ev = roster_events_new(16);
    ev->wake_locked = wake_hook;
    ev->reap_locked = reap_hook;
    roster_events_publish_diff(ev, s1, s1);
    ck_assert_int_eq(hook.wakes, 1);
    ck_assert_int_eq(hook.heartbeats, 0);
    ck_assert_uint_eq(hook.next_id_seen, 2); /* woken after the append */
    roster_events_publish_diff(ev, s2, s2);
    ck_assert_int_eq(hook.wakes, 2);
    /* a whole reload is one wake-up, after its last event */
    roster_events_publish_diff(ev, s1, s2);
    ck_assert_int_eq(hook.wakes, 3);
    ck_assert_uint_eq(hook.next_id_seen, ev->next_id);
    ck_assert_uint_eq(ev->next_id, 9);
    ck_assert_int_eq(hook.reaps, 0);
    /* the first tick reaps and sends a heartbeat; the next one only reaps */
    roster_events_tick(ev);
    ck_assert_int_eq(hook.reaps, 1);
    ck_assert_int_eq(hook.wakes, 4);
    ck_assert_int_eq(hook.heartbeats, 1);
    roster_events_tick(ev);
    ck_assert_int_eq(hook.reaps, 2);
    ck_assert_int_eq(hook.wakes, 4);
    /* closing wakes every client to end its stream */
    roster_events_close(ev);
    ck_assert_int_eq(hook.wakes, 5);
    ck_assert_int_eq(hook.heartbeats, 1);
    ck_assert_int_eq(hook.closing_seen, 1);
    ck_assert_int_eq(hook.lock_held, 1);
    /* without hooks nothing is called and publishing still works */
    ev->wake_locked = NULL;
    ev->reap_locked = NULL;
    roster_events_publish_diff(ev, s2, s2);
    ck_assert_uint_eq(ev->next_id, 10);
    roster_events_tick(ev);
    ck_assert_int_eq(hook.wakes, 5);
    ck_assert_int_eq(hook.reaps, 2);
    roster_events_free(ev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, two_generations, drop_generations);
    tcase_add_test(tc, publish_appends_frames);
    tcase_add_test(tc, ring_evicts_oldest);
    tcase_add_test(tc, max_clients_clamped);
    tcase_add_test(tc, snapshot_diff_counts);
    tcase_add_test(tc, publish_diff_events);
    tcase_add_test(tc, publishing_wakes_installed_hook);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
