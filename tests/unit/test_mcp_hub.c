/* The sessions of the MCP Streamable HTTP transport (http/mcp_hub.c):
 * the bounded table, eviction, expiry, serialized handling and the
 * messages queued for a session's stream. The streams themselves need a
 * connection: tests/http/test_mcp_http.py drives them. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_hub.h"
#include "roster_base.h"
#include "roster_snapshot.h"
#include "util.h"

static struct roster_mcp_hub *hub;

static void new_hub(size_t max)
{
    struct roster_mcp_hub_config c = {
        .max_sessions = max, .max_streams = 4, .idle_timeout = 60, .server_version = "9.9"};
    ck_assert_int_eq(roster_mcp_hub_new(&hub, &c), 0);
}

static void setup(void)
{
    new_hub(2);
}

static void teardown(void)
{
    roster_mcp_hub_free(hub);
    hub = NULL;
}

/* A session, released at once; its id copied into id. */
static void open_one(char *id)
{
    struct mcp_sess *s = NULL;
    ck_assert_int_eq(roster_mcp_hub_create(hub, &s), 0);
    const char *sid = roster_mcp_sess_id(s);
    ck_assert_uint_eq(strlen(sid), ROSTER_MCP_SESSION_ID_LEN);
    ck_assert_uint_eq(strspn(sid, "0123456789abcdef"), ROSTER_MCP_SESSION_ID_LEN);
    strcpy(id, sid);
    roster_mcp_hub_release(hub, s);
}

static json_t *handle(struct mcp_sess *s, const struct roster_snapshot *snap, const char *text)
{
    json_t *msg = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(msg);
    int busy = 1;
    json_t *r = roster_mcp_hub_handle(hub, s, snap, msg, &busy);
    ck_assert_int_eq(busy, 0);
    json_decref(msg);
    return r;
}

START_TEST(create_find_end)
{
    char a[40], b[40];
    open_one(a);
    open_one(b);
    ck_assert_str_ne(a, b);
    ck_assert_uint_eq(roster_mcp_hub_count(hub), 2);
    struct mcp_sess *s = roster_mcp_hub_find(hub, a);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(roster_mcp_sess_id(s), a);
    roster_mcp_hub_release(hub, s);
    ck_assert_ptr_null(roster_mcp_hub_find(hub, "0123456789abcdef0123456789abcdef"));
    ck_assert_ptr_null(roster_mcp_hub_find(hub, "short"));
    ck_assert_int_eq(roster_mcp_hub_end(hub, a), 0);
    ck_assert_int_eq(roster_mcp_hub_end(hub, a), -1);
    ck_assert_ptr_null(roster_mcp_hub_find(hub, a));
    ck_assert_uint_eq(roster_mcp_hub_count(hub), 1);
}
END_TEST

/* An ended session a request still holds lives until it is released. */
START_TEST(end_while_held)
{
    char a[40];
    open_one(a);
    struct mcp_sess *s = roster_mcp_hub_find(hub, a);
    ck_assert_int_eq(roster_mcp_hub_end(hub, a), 0);
    json_t *r = handle(s, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    ck_assert_ptr_nonnull(json_object_get(r, "result"));
    json_decref(r);
    roster_mcp_hub_release(hub, s); /* freed here: ASan and valgrind watch */
}
END_TEST

START_TEST(full_table_evicts_the_least_recently_used)
{
    char a[40], b[40], c[40];
    open_one(a);
    open_one(b);
    struct mcp_sess *s = roster_mcp_hub_find(hub, a); /* a is now the newer one */
    roster_mcp_hub_release(hub, s);
    open_one(c);
    ck_assert_ptr_null(roster_mcp_hub_find(hub, b));
    s = roster_mcp_hub_find(hub, a);
    ck_assert_ptr_nonnull(s);
    struct mcp_sess *t = roster_mcp_hub_find(hub, c);
    ck_assert_ptr_nonnull(t);
    /* both held (requests in flight): nothing can go */
    struct mcp_sess *u = NULL;
    ck_assert_int_eq(roster_mcp_hub_create(hub, &u), ROSTER_EBUSY);
    roster_mcp_hub_release(hub, s);
    roster_mcp_hub_release(hub, t);
    ck_assert_int_eq(roster_mcp_hub_create(hub, &u), 0);
    roster_mcp_hub_release(hub, u);
    ck_assert_uint_eq(roster_mcp_hub_count(hub), 2);
}
END_TEST

START_TEST(idle_sessions_expire)
{
    char a[40], b[40];
    open_one(a);
    open_one(b);
    roster_mcp_hub_tick(hub, roster_now_mono() + 30);
    ck_assert_uint_eq(roster_mcp_hub_count(hub), 2);
    struct mcp_sess *held = roster_mcp_hub_find(hub, b);
    roster_mcp_hub_tick(hub, roster_now_mono() + 61);
    ck_assert_ptr_null(roster_mcp_hub_find(hub, a));
    ck_assert_uint_eq(roster_mcp_hub_count(hub), 1); /* b is in use */
    roster_mcp_hub_release(hub, held);
    roster_mcp_hub_tick(hub, roster_now_mono() + 61);
    ck_assert_uint_eq(roster_mcp_hub_count(hub), 0);
}
END_TEST

START_TEST(reload_queues_messages_for_subscribers)
{
    struct roster_snapshot *g1 = snapshot_build(fixture("templates"), 1, NULL);
    char a[40], b[40];
    open_one(a);
    open_one(b);
    struct mcp_sess *s = roster_mcp_hub_find(hub, a);
    struct mcp_sess *t = roster_mcp_hub_find(hub, b);
    json_t *r = handle(s, g1,
                       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                       "{\"protocolVersion\":\"2025-06-18\"}}");
    json_decref(r);
    char v[16];
    roster_mcp_sess_version(s, v, sizeof(v));
    ck_assert_str_eq(v, "2025-06-18");
    roster_mcp_sess_version(t, v, sizeof(v));
    ck_assert_str_eq(v, "");
    const struct roster_sprofile *sp = &g1->profiles[0];
    char req[512];
    snprintf(req, sizeof(req),
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/subscribe\",\"params\":"
             "{\"uri\":\"roster://profiles/%s\"}}",
             sp->id);
    r = handle(s, g1, req);
    ck_assert_ptr_nonnull(json_object_get(r, "result"));
    json_decref(r);
    /* the same snapshot: nothing changed, nothing queued */
    roster_mcp_hub_changed(hub, g1, g1);
    ck_assert_uint_eq(roster_mcp_sess_last_message(s), 0);
    /* a snapshot without any profile: the subscribed URI changed, and the set */
    char *empty = temp_dir();
    struct roster_snapshot *g2 = snapshot_build(empty, 2, NULL);
    roster_mcp_hub_changed(hub, g1, g2);
    ck_assert_uint_eq(roster_mcp_sess_last_message(s), 3); /* updated + two list_changed */
    ck_assert_uint_eq(roster_mcp_sess_last_message(t), 0); /* not initialized */
    roster_mcp_hub_release(hub, s);
    roster_mcp_hub_release(hub, t);
    roster_snapshot_unref(g2);
    roster_snapshot_unref(g1);
    remove_tree(empty);
    free(empty);
}
END_TEST

START_TEST(disabled_size_zero_has_no_room)
{
    teardown();
    new_hub(0);
    struct mcp_sess *s = NULL;
    ck_assert_int_eq(roster_mcp_hub_create(hub, &s), ROSTER_EBUSY);
}
END_TEST

#ifdef ROSTER_ALLOC_FAULTS
START_TEST(allocation_failures)
{
    for (int sticky = 0; sticky < 2; sticky++)
        for (long n = 1; n <= 8; n++) {
            struct mcp_sess *s = NULL;
            roster_alloc_fail_at(n, sticky);
            int rc = roster_mcp_hub_create(hub, &s);
            roster_alloc_fail_at(0, 0);
            ck_assert(rc == 0 || rc == ROSTER_ENOMEM);
            if (rc == 0) {
                ck_assert_int_eq(roster_mcp_hub_end(hub, roster_mcp_sess_id(s)), 0);
                roster_mcp_hub_release(hub, s);
            }
        }
    ck_assert_uint_eq(roster_mcp_hub_count(hub), 0);
}
END_TEST
#endif

int main(void)
{
    json_set_alloc_funcs(roster_malloc, roster_free);
    Suite *s = suite_create("mcp_hub");
    TCase *tc = tcase_create("sessions");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, create_find_end);
    tcase_add_test(tc, end_while_held);
    tcase_add_test(tc, full_table_evicts_the_least_recently_used);
    tcase_add_test(tc, idle_sessions_expire);
    tcase_add_test(tc, reload_queues_messages_for_subscribers);
    tcase_add_test(tc, disabled_size_zero_has_no_room);
#ifdef ROSTER_ALLOC_FAULTS
    tcase_add_test(tc, allocation_failures);
#endif
    suite_add_tcase(s, tc);
    return run_suite(s);
}
