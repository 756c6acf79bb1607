/* The MCP core (http/mcp.c, http/mcp_methods.c) without a transport:
 * messages in, responses and notifications out. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_mcp.h"
#include "roster_snapshot.h"
#include "util.h"

#define MAX_NOTES 32

static struct roster_snapshot *snap;
static struct roster_mcp_session *ses;
static json_t *notes; /* notifications sent, in order */

static void on_notify(void *ctx, const json_t *msg)
{
    (void)ctx;
    if (json_array_size(notes) < MAX_NOTES)
        json_array_append(notes, (json_t *)msg);
}

static void new_session(size_t page_size)
{
    struct roster_mcp_opts o = {
        .server_version = "9.9", .page_size = page_size, .notify = on_notify};
    roster_mcp_session_free(ses);
    ck_assert_int_eq(roster_mcp_session_new(&ses, &o), 0);
}

static void setup(void)
{
    snap = snapshot_build(fixture("templates"), 1, NULL);
    notes = json_array();
    ses = NULL;
    new_session(0);
}

static void teardown(void)
{
    roster_mcp_session_free(ses);
    roster_snapshot_unref(snap);
    json_decref(notes);
}

/* The response to text (a new reference; NULL for none). */
static json_t *send_on(const struct roster_snapshot *s, const char *text)
{
    return roster_mcp_handle_text(ses, s, text, strlen(text));
}

static json_t *send(const char *text)
{
    return send_on(snap, text);
}

static long long error_code(json_t *r)
{
    ck_assert_ptr_nonnull(r);
    json_t *e = json_object_get(r, "error");
    ck_assert_msg(e != NULL, "no error in %s", json_dumps(r, JSON_COMPACT));
    return json_integer_value(json_object_get(e, "code"));
}

static void init(void)
{
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
                     "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}}");
    ck_assert_ptr_nonnull(json_object_get(r, "result"));
    json_decref(r);
}

START_TEST(lifecycle)
{
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
    ck_assert_int_eq(error_code(r), ROSTER_MCP_INVALID_REQUEST);
    json_decref(r);
    r = send("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
    ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "p");
    ck_assert(json_is_object(json_object_get(r, "result")));
    ck_assert_uint_eq(json_object_size(json_object_get(r, "result")), 0);
    json_decref(r);
    ck_assert_int_eq(roster_mcp_session_initialized(ses), 0);
    r = send("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":"
             "{\"protocolVersion\":\"2025-06-18\"}}");
    json_t *res = json_object_get(r, "result");
    ck_assert_str_eq(json_string_value(json_object_get(res, "protocolVersion")), "2025-06-18");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(res, "serverInfo"), "version")), "9.9");
    json_decref(r);
    ck_assert_str_eq(roster_mcp_session_version(ses), "2025-06-18");
    r = send("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":"
             "{\"protocolVersion\":\"2025-06-18\"}}");
    ck_assert_int_eq(error_code(r), ROSTER_MCP_INVALID_REQUEST);
    json_decref(r);
    ck_assert_ptr_null(send("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
}
END_TEST

START_TEST(unknown_version_gets_the_latest)
{
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":"
                     "{\"protocolVersion\":\"2024-11-05\"}}");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
        ROSTER_MCP_PROTOCOL_LATEST);
    json_decref(r);
}
END_TEST

START_TEST(envelope_errors)
{
    static const struct {
        const char *text;
        int code;
    } cases[] = {
        {"", ROSTER_MCP_PARSE_ERROR},
        {"{", ROSTER_MCP_PARSE_ERROR},
        {"[]", ROSTER_MCP_INVALID_REQUEST},
        {"null", ROSTER_MCP_INVALID_REQUEST},
        {"{\"id\":1,\"method\":\"ping\"}", ROSTER_MCP_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", ROSTER_MCP_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", ROSTER_MCP_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}", ROSTER_MCP_METHOD_NOT_FOUND},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":3}",
         ROSTER_MCP_INVALID_PARAMS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *r = send(cases[i].text);
        ck_assert_msg(error_code(r) == cases[i].code, "case %zu", i);
        json_decref(r);
    }
    json_t *r = roster_mcp_handle_text(ses, snap, "{}", ROSTER_MCP_MAX_MESSAGE + 1);
    ck_assert_int_eq(error_code(r), ROSTER_MCP_INVALID_REQUEST);
    ck_assert(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    /* responses and notifications are not answered */
    ck_assert_ptr_null(send("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}"));
    ck_assert_ptr_null(send("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}"));
}
END_TEST

START_TEST(no_snapshot_yet)
{
    init();
    json_t *r = send_on(NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
    ck_assert_int_eq(error_code(r), ROSTER_MCP_INTERNAL_ERROR);
    json_decref(r);
    r = send_on(NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    ck_assert_ptr_nonnull(json_object_get(r, "result"));
    json_decref(r);
}
END_TEST

START_TEST(prompts_page_by_id)
{
    new_session(2);
    init();
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
    json_t *res = json_object_get(r, "result");
    ck_assert_uint_eq(json_array_size(json_object_get(res, "prompts")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(res, "nextCursor")), "tpl-child");
    json_decref(r);
    r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\",\"params\":"
             "{\"cursor\":\"tpl-plain\"}}");
    res = json_object_get(r, "result");
    ck_assert_uint_eq(json_array_size(json_object_get(res, "prompts")), 1);
    ck_assert_ptr_null(json_object_get(res, "nextCursor"));
    json_decref(r);
}
END_TEST

START_TEST(prompt_get_and_problems)
{
    init();
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\",\"params\":"
                     "{\"name\":\"tpl-parent\",\"arguments\":{\"task\":\"T\"}}}");
    json_t *msg = json_array_get(json_object_get(json_object_get(r, "result"), "messages"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(msg, "role")), "user");
    const char *text = json_string_value(json_object_get(json_object_get(msg, "content"), "text"));
    ck_assert_ptr_nonnull(strstr(text, "do this: T. Work in Go."));
    json_decref(r);
    r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\",\"params\":"
             "{\"name\":\"tpl-parent\",\"arguments\":{\"nope\":\"x\"}}}");
    ck_assert_int_eq(error_code(r), ROSTER_MCP_INVALID_PARAMS);
    json_t *errors =
        json_object_get(json_object_get(json_object_get(r, "error"), "data"), "errors");
    ck_assert_uint_eq(json_array_size(errors), 2); /* nope unknown, task missing */
    json_decref(r);
}
END_TEST

START_TEST(read_serves_the_rep_bytes)
{
    init();
    const struct roster_sprofile *sp = roster_snapshot_find(snap, "tpl-child", 9);
    const struct roster_rep *rep = rep_of(snap, sp, ROSTER_VIEW_LINEAGE);
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":"
                     "{\"uri\":\"roster://profiles/tpl-child/lineage\"}}");
    json_t *c = json_array_get(json_object_get(json_object_get(r, "result"), "contents"), 0);
    ck_assert_uint_eq(json_string_length(json_object_get(c, "text")), rep->len);
    ck_assert_int_eq(memcmp(json_string_value(json_object_get(c, "text")), rep->body, rep->len), 0);
    json_decref(r);
    r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":"
             "{\"uri\":\"roster://profiles/tpl-child/source\"}}");
    ck_assert_int_eq(error_code(r), ROSTER_MCP_RESOURCE_NOT_FOUND);
    json_decref(r);
}
END_TEST

/* The bytes path (roster_mcp_answer) writes what json_dumps(JSON_COMPACT)
 * writes for the object path's response: for the methods it answers
 * itself (prompts/get, resources/read), their errors, and the rest. */
START_TEST(bytes_path_matches_the_object_path)
{
    static const char *const msgs[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"prompts/get\",\"params\":"
        "{\"name\":\"tpl-child\",\"arguments\":{\"task\":\"fix \\\"it\\\"\\n\\u00e9 "
        "<\\/>\\t\\u0001\",\"language\":\"C\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"prompts/get\",\"params\":"
        "{\"name\":\"tpl-plain\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"prompts/get\",\"params\":"
        "{\"name\":\"tpl-child\",\"arguments\":null}}",
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"prompts/get\",\"params\":"
        "{\"name\":\"tpl-child\",\"arguments\":{\"language\":\"Rust\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"prompts/get\",\"params\":"
        "{\"name\":\"nobody\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"resources/read\",\"params\":"
        "{\"uri\":\"roster://profiles/tpl-child\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"resources/read\",\"params\":"
        "{\"uri\":\"roster://profiles/tpl-child/prompt\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"resources/read\",\"params\":"
        "{\"uri\":\"roster://profiles/tpl-parent/variables\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"resources/read\",\"params\":"
        "{\"uri\":\"roster://profiles/tpl-child/source\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"resources/read\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"prompts/list\"}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
    };
    for (int before = 1; before >= 0; before--) {
        /* before: the session is not initialized yet (every answer an error) */
        for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
            json_t *m = json_loads(msgs[i], 0, NULL);
            ck_assert_msg(m != NULL, "%zu", i);
            json_t *want = roster_mcp_handle(ses, snap, m);
            char *w = want ? json_dumps(want, JSON_COMPACT) : NULL;
            struct roster_buf b;
            roster_buf_init(&b, ROSTER_MCP_MAX_RESPONSE);
            int n = roster_mcp_answer(ses, snap, m, &b);
            ck_assert_int_eq(n, want != NULL);
            if (w)
                ck_assert_msg(strcmp(b.data, w) == 0, "message %zu:\n%s\n%s", i, b.data, w);
            roster_buf_release(&b);
            roster_free(w);
            json_decref(want);
            json_decref(m);
        }
        if (before)
            init();
    }
}
END_TEST

static void subscribe(const struct roster_snapshot *s, const char *id)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/subscribe\",\"params\":"
             "{\"uri\":\"roster://profiles/%s\"}}",
             id);
    json_t *r = send_on(s, text);
    ck_assert_ptr_nonnull(json_object_get(r, "result"));
    json_decref(r);
}

static int notified(const char *method, const char *uri)
{
    size_t i;
    json_t *n;
    json_array_foreach(notes, i, n)
    {
        const char *u = json_string_value(json_object_get(json_object_get(n, "params"), "uri"));
        if (strcmp(json_string_value(json_object_get(n, "method")), method) == 0 &&
            (!uri || (u && strcmp(u, uri) == 0)))
            return 1;
    }
    return 0;
}

/* tests/fixtures/events: a unchanged, b edited, c deleted, e new. */
START_TEST(reload_notifications)
{
    struct roster_snapshot *g1 = snapshot_build(fixture("events/gen1"), 1, NULL);
    struct roster_snapshot *g2 = snapshot_build(fixture("events/gen2"), 2, g1);
    /* before initialize: nothing */
    roster_mcp_snapshot_changed(ses, g1, g2);
    ck_assert_uint_eq(json_array_size(notes), 0);
    init();
    subscribe(g1, "a");
    subscribe(g1, "b");
    subscribe(g1, "c");
    roster_mcp_snapshot_changed(ses, g1, g2);
    ck_assert(!notified("notifications/resources/updated", "roster://profiles/a"));
    ck_assert(notified("notifications/resources/updated", "roster://profiles/b"));
    ck_assert(notified("notifications/resources/updated", "roster://profiles/c"));
    ck_assert(notified("notifications/prompts/list_changed", NULL));
    ck_assert(notified("notifications/resources/list_changed", NULL));
    /* the same snapshot: nothing new */
    size_t before = json_array_size(notes);
    roster_mcp_snapshot_changed(ses, g2, g2);
    ck_assert_uint_eq(json_array_size(notes), before);
    roster_snapshot_unref(g2);
    roster_snapshot_unref(g1);
}
END_TEST

START_TEST(log_levels)
{
    json_t *d = json_pack("{s:s}", "event", "x");
    roster_mcp_log(ses, ROSTER_MCP_EMERGENCY, d); /* not initialized */
    init();
    roster_mcp_log(ses, ROSTER_MCP_INFO, d); /* below the default (warning) */
    ck_assert_uint_eq(json_array_size(notes), 0);
    roster_mcp_log(ses, ROSTER_MCP_ERROR, d);
    ck_assert_uint_eq(json_array_size(notes), 1);
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":"
                     "{\"level\":\"debug\"}}");
    json_decref(r);
    roster_mcp_log(ses, ROSTER_MCP_DEBUG, d);
    ck_assert_uint_eq(json_array_size(notes), 2);
    json_t *p = json_object_get(json_array_get(notes, 1), "params");
    ck_assert_str_eq(json_string_value(json_object_get(p, "level")), "debug");
    json_decref(d);
}
END_TEST

START_TEST(completion_caps_and_counts)
{
    init();
    json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"completion/complete\",\"params\":"
                     "{\"ref\":{\"type\":\"ref/resource\",\"uri\":\"roster://profiles/{id}\"},"
                     "\"argument\":{\"name\":\"id\",\"value\":\"\"}}}");
    json_t *c = json_object_get(json_object_get(r, "result"), "completion");
    ck_assert_int_eq(json_integer_value(json_object_get(c, "total")), (json_int_t)snap->served);
    ck_assert(json_is_false(json_object_get(c, "hasMore")));
    json_decref(r);
}
END_TEST

#ifdef ROSTER_ALLOC_FAULTS
/* Every allocation of answering each message fails in turn (alone, and
 * with every later one): the answer is a response, an error or NULL, never
 * a crash or a leak (the sanitizer and valgrind runs check the latter). */
static const char *const SWEPT[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
    "{\"protocolVersion\":\"2025-11-25\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\",\"params\":"
    "{\"name\":\"tpl-child\",\"arguments\":{\"task\":\"T\"}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\",\"params\":"
    "{\"name\":\"tpl-parent\",\"arguments\":{\"x\":\"1\",\"ticket\":\"123456789\"}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/templates/list\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":"
    "{\"uri\":\"roster://profiles/tpl-child/prompt\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":"
    "{\"uri\":\"roster://profiles/nope\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/subscribe\",\"params\":"
    "{\"uri\":\"roster://profiles/tpl-plain\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"completion/complete\",\"params\":"
    "{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"tpl-parent\"},"
    "\"argument\":{\"name\":\"language\",\"value\":\"\"}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}",
    "[1]",
};

/* The message is parsed with allocation working: jansson 2.14's json_loadb
 * itself crashes when an allocation fails mid-parse (not ours to sweep). */
START_TEST(allocation_failures)
{
    for (size_t m = 0; m < sizeof(SWEPT) / sizeof(SWEPT[0]); m++) {
        int is_init = m == 0;
        json_t *msg = json_loads(SWEPT[m], 0, NULL);
        ck_assert_ptr_nonnull(msg);
        new_session(0);
        if (!is_init)
            init();
        json_decref(roster_mcp_handle(ses, snap, msg)); /* renders what is rendered once */
        new_session(0);
        if (!is_init)
            init();
        roster_alloc_fail_at(0, 0);
        json_decref(roster_mcp_handle(ses, snap, msg));
        long total = roster_alloc_count();
        for (int sticky = 0; sticky < 2; sticky++)
            for (long n = 1; n <= total; n++) {
                if (is_init)
                    new_session(0);
                roster_alloc_fail_at(n, sticky);
                json_t *r = roster_mcp_handle(ses, snap, msg);
                roster_alloc_fail_at(0, 0);
                ck_assert_msg(!r || json_object_get(r, "result") || json_object_get(r, "error"),
                              "message %zu, allocation %ld", m, n);
                json_decref(r);
                /* the bytes path: a whole response, or nothing and an error */
                if (is_init)
                    new_session(0);
                struct roster_buf b;
                roster_buf_init(&b, ROSTER_MCP_MAX_RESPONSE);
                roster_alloc_fail_at(n, sticky);
                int k = roster_mcp_answer(ses, snap, msg, &b);
                roster_alloc_fail_at(0, 0);
                json_t *parsed = k > 0 ? json_loads(b.data, 0, NULL) : NULL;
                ck_assert_msg(k <= 0 || json_object_get(parsed, "result") ||
                                  json_object_get(parsed, "error"),
                              "bytes path: message %zu, allocation %ld", m, n);
                json_decref(parsed);
                roster_buf_release(&b);
            }
        json_decref(msg);
    }
}
END_TEST

START_TEST(allocation_failures_in_notifications)
{
    struct roster_snapshot *g1 = snapshot_build(fixture("events/gen1"), 1, NULL);
    struct roster_snapshot *g2 = snapshot_build(fixture("events/gen2"), 2, g1);
    init();
    subscribe(g1, "b");
    subscribe(g1, "c");
    roster_alloc_fail_at(0, 0);
    roster_mcp_snapshot_changed(ses, g1, g2);
    long total = roster_alloc_count();
    for (int sticky = 0; sticky < 2; sticky++)
        for (long n = 1; n <= total; n++) {
            roster_alloc_fail_at(n, sticky);
            roster_mcp_snapshot_changed(ses, g1, g2);
            roster_alloc_fail_at(0, 0);
        }
    roster_snapshot_unref(g2);
    roster_snapshot_unref(g1);
}
END_TEST
#endif

int main(void)
{
    /* as rosterd does: jansson's allocations fail with the injected ones */
    json_set_alloc_funcs(roster_malloc, roster_free);
    Suite *s = suite_create("mcp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lifecycle);
    tcase_add_test(tc, unknown_version_gets_the_latest);
    tcase_add_test(tc, envelope_errors);
    tcase_add_test(tc, no_snapshot_yet);
    tcase_add_test(tc, prompts_page_by_id);
    tcase_add_test(tc, prompt_get_and_problems);
    tcase_add_test(tc, read_serves_the_rep_bytes);
    tcase_add_test(tc, bytes_path_matches_the_object_path);
    tcase_add_test(tc, reload_notifications);
    tcase_add_test(tc, log_levels);
    tcase_add_test(tc, completion_caps_and_counts);
#ifdef ROSTER_ALLOC_FAULTS
    tcase_add_test(tc, allocation_failures);
    tcase_add_test(tc, allocation_failures_in_notifications);
#endif
    suite_add_tcase(s, tc);
    return run_suite(s);
}
