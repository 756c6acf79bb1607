/* Listing queries over a snapshot built from tests/fixtures/query: every
 * filter (category, role, extends as written and as resolved, q), limit
 * and cursor paging, the summary and profile field lists, projections. */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_query.h"
#include "roster_snapshot.h"
#include "util.h"

/* The fixture tree: four served profiles and one that is never valid
 * (delta-orphan extends a parent that does not exist). team-base lives in
 * roles/base.md, so `extends: base` resolves by file stem to team-base. */
#define ALL_OK 4

static struct roster_snapshot *snap;

static void setup(void)
{
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot_opts o = {.dir = fixture("query"), .generation = 1};
    ck_assert_int_eq(roster_snapshot_build(&snap, &o, &err), 0);
    ck_assert_uint_eq(snap->n, 5);
    ck_assert_uint_eq(snap->served, ALL_OK);
    ck_assert_uint_eq(snap->invalid, 1);
}

static void teardown(void)
{
    roster_snapshot_unref(snap);
    snap = NULL;
}

static json_t *list(const struct roster_list_query *q)
{
    json_t *r = roster_query_list(snap, q);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(json_object_size(r), 3);
    ck_assert(json_is_array(json_object_get(r, "items")));
    ck_assert(json_is_integer(json_object_get(r, "total")));
    return r;
}

/* Asserts the ids of the page (in order, exactly), the total, and the
 * next cursor: NULL for none, else the id it must decode to. Frees r. */
static void expect_page(json_t *r, size_t total, const char *next, ...)
{
    json_t *items = json_object_get(r, "items");
    va_list ap;
    va_start(ap, next);
    size_t i = 0;
    for (const char *want; (want = va_arg(ap, const char *)) != NULL; i++) {
        ck_assert_msg(i < json_array_size(items), "page too short: no item %zu (%s)", i, want);
        const char *got = json_string_value(json_object_get(json_array_get(items, i), "id"));
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, want);
    }
    va_end(ap);
    ck_assert_uint_eq(json_array_size(items), i);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), (json_int_t)total);
    json_t *nc = json_object_get(r, "next_cursor");
    if (!next) {
        ck_assert(json_is_null(nc));
    } else {
        ck_assert(json_is_string(nc));
        char id[200];
        ck_assert_int_eq(roster_cursor_decode(json_string_value(nc), id, sizeof(id)), 0);
        ck_assert_str_eq(id, next);
    }
    json_decref(r);
}

START_TEST(no_filter_lists_served_profiles_sorted)
{
    struct roster_list_query q = {.limit = ROSTER_LIST_DEFAULT_LIMIT};
    expect_page(list(&q), ALL_OK, NULL, "alpha-writer", "beta-reviewer", "gamma-writer",
                "team-base", NULL);
    /* an empty q is no search at all */
    q.q = "";
    expect_page(list(&q), ALL_OK, NULL, "alpha-writer", "beta-reviewer", "gamma-writer",
                "team-base", NULL);
}
END_TEST

START_TEST(category_filter_is_exact)
{
    struct roster_list_query q = {.limit = 50, .category = "writer"};
    /* delta-orphan says category: writer too, but it is not served */
    expect_page(list(&q), 2, NULL, "alpha-writer", "gamma-writer", NULL);
    q.category = "base";
    expect_page(list(&q), 1, NULL, "team-base", NULL);
    q.category = "Writer";
    expect_page(list(&q), 0, NULL, NULL);
    q.category = "write";
    expect_page(list(&q), 0, NULL, NULL);
}
END_TEST

START_TEST(role_filter)
{
    struct roster_list_query q = {.limit = 50, .role = "critic"};
    expect_page(list(&q), 1, NULL, "beta-reviewer", NULL);
    q.role = "worker";
    expect_page(list(&q), 1, NULL, "team-base", NULL);
    q.role = "author"; /* delta-orphan is an author too, and invalid */
    expect_page(list(&q), 1, NULL, "alpha-writer", NULL);
    q.role = "crit";
    expect_page(list(&q), 0, NULL, NULL);
}
END_TEST

START_TEST(extends_as_written_and_as_resolved)
{
    struct roster_list_query q = {.limit = 50, .extends = "base"};
    /* as written: alpha's "base" and gamma's [base, beta-reviewer] */
    expect_page(list(&q), 2, NULL, "alpha-writer", "gamma-writer", NULL);
    /* as resolved: "base" is roles/base.md, whose id is team-base */
    q.extends = "team-base";
    expect_page(list(&q), 3, NULL, "alpha-writer", "beta-reviewer", "gamma-writer", NULL);
    /* a second entry of a list, and only direct parents */
    q.extends = "beta-reviewer";
    expect_page(list(&q), 1, NULL, "gamma-writer", NULL);
    q.extends = "alpha-writer";
    expect_page(list(&q), 0, NULL, NULL);
    q.extends = "nowhere"; /* only delta-orphan, which is not served */
    expect_page(list(&q), 0, NULL, NULL);
    q.extends = "roles";
    expect_page(list(&q), 0, NULL, NULL);
}
END_TEST

START_TEST(q_searches_case_insensitively)
{
    struct roster_list_query q = {.limit = 50, .q = "KUBERNETES"}; /* description */
    expect_page(list(&q), 1, NULL, "beta-reviewer", NULL);
    q.q = "changelog drafting"; /* a competency name */
    expect_page(list(&q), 1, NULL, "alpha-writer", NULL);
    q.q = "Review Checklist"; /* a section title */
    expect_page(list(&q), 2, NULL, "beta-reviewer", "gamma-writer", NULL);
    q.q = "-writer"; /* ids */
    expect_page(list(&q), 2, NULL, "alpha-writer", "gamma-writer", NULL);
    q.q = "Team Base"; /* a name, and the inherited title "# Team Base" */
    expect_page(list(&q), 4, NULL, "alpha-writer", "beta-reviewer", "gamma-writer", "team-base",
                NULL);
    /* body text is not searched */
    q.q = "pineapple";
    expect_page(list(&q), 0, NULL, NULL);
    /* and an invalid profile is never found */
    q.q = "orphan";
    expect_page(list(&q), 0, NULL, NULL);
}
END_TEST

START_TEST(filters_combine)
{
    struct roster_list_query q = {
        .limit = 50, .category = "writer", .extends = "team-base", .q = "GAMMA"};
    expect_page(list(&q), 1, NULL, "gamma-writer", NULL);
    q.q = NULL;
    expect_page(list(&q), 2, NULL, "alpha-writer", "gamma-writer", NULL);
    q.role = "critic";
    expect_page(list(&q), 0, NULL, NULL);
}
END_TEST

/* Follows next_cursor from the first page to the last. */
START_TEST(limit_and_cursor_paging)
{
    struct roster_list_query q = {.limit = 1};
    expect_page(list(&q), ALL_OK, "alpha-writer", "alpha-writer", NULL);
    static const char *const order[] = {"alpha-writer", "beta-reviewer", "gamma-writer",
                                        "team-base"};
    char after[200];
    q.after = NULL;
    for (size_t page = 0; page < ALL_OK; page++) {
        json_t *r = list(&q);
        json_t *items = json_object_get(r, "items");
        ck_assert_uint_eq(json_array_size(items), 1);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "id")),
                         order[page]);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), ALL_OK);
        json_t *nc = json_object_get(r, "next_cursor");
        if (page + 1 == ALL_OK) {
            ck_assert(json_is_null(nc));
        } else {
            ck_assert_int_eq(roster_cursor_decode(json_string_value(nc), after, sizeof(after)), 0);
            ck_assert_str_eq(after, order[page]);
            q.after = after;
        }
        json_decref(r);
    }
    /* a limit that ends exactly at the last match has no next page */
    q = (struct roster_list_query){.limit = 2, .category = "writer"};
    expect_page(list(&q), 2, NULL, "alpha-writer", "gamma-writer", NULL);
    q = (struct roster_list_query){.limit = 3};
    expect_page(list(&q), ALL_OK, "gamma-writer", "alpha-writer", "beta-reviewer", "gamma-writer",
                NULL);
    q.after = "gamma-writer";
    expect_page(list(&q), ALL_OK, NULL, "team-base", NULL);
    /* a cursor id need not exist: the listing continues after it */
    q = (struct roster_list_query){.limit = 50, .after = "b"};
    expect_page(list(&q), ALL_OK, NULL, "beta-reviewer", "gamma-writer", "team-base", NULL);
    q.after = "zzz";
    expect_page(list(&q), ALL_OK, NULL, NULL);
    /* the total counts every match, the cursor only trims the page */
    q = (struct roster_list_query){.limit = 1, .extends = "team-base", .after = "alpha-writer"};
    expect_page(list(&q), 3, "beta-reviewer", "beta-reviewer", NULL);
}
END_TEST

START_TEST(cursor_round_trip)
{
    /* every length modulo 3, and the longest id */
    static const char *const ids[] = {"a", "ab", "abc", "abcd", "worker-devops", "x_y.z-9"};
    char enc[400], dec[400];
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        ck_assert_int_eq(roster_cursor_encode(ids[i], enc, sizeof(enc)), 0);
        ck_assert_msg(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                  "-_") == strlen(enc),
                      "'%s' is not base64url", enc);
        ck_assert_uint_eq(strlen(enc), (strlen(ids[i]) * 4 + 2) / 3); /* unpadded */
        ck_assert_int_eq(roster_cursor_decode(enc, dec, sizeof(dec)), 0);
        ck_assert_str_eq(dec, ids[i]);
    }
    ck_assert_int_eq(roster_cursor_encode("worker-devops", enc, sizeof(enc)), 0);
    ck_assert_str_eq(enc, "d29ya2VyLWRldm9wcw");
    char longid[129];
    memset(longid, 'a', 128);
    longid[128] = '\0';
    ck_assert_int_eq(roster_cursor_encode(longid, enc, sizeof(enc)), 0);
    ck_assert_int_eq(roster_cursor_decode(enc, dec, sizeof(dec)), 0);
    ck_assert_str_eq(dec, longid);
    /* an output buffer that is too small is refused and not overrun */
    char small[8];
    memset(small, '#', sizeof(small));
    ck_assert_int_eq(roster_cursor_encode("abcdefghi", small, sizeof(small)), ROSTER_E2BIG);
    ck_assert_int_eq(small[0], '#');
}
END_TEST

START_TEST(bad_cursors_refused)
{
    char dec[400];
    static const char *const bad[] = {
        "", /* empty */
        "!!!!", /* not base64url */
        "d29y=", /* padding is not part of the alphabet */
        "d29y+2Vy", /* '+' is base64, not base64url */
        "Y", /* a length no encoding has (4k+1) */
        "QUJD", /* "ABC": upper case is not an id */
        "Li4", /* "..": not an id */
        "YS9i", /* "a/b" */
        "YQBi", /* "a\0b" */
        "w6k", /* "\xc3\xa9": not ASCII */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(dec, "untouched", 10);
        ck_assert_msg(roster_cursor_decode(bad[i], dec, sizeof(dec)) == ROSTER_EINVAL,
                      "cursor '%s' should be refused", bad[i]);
        /* a refused cursor leaves the output as it was */
        ck_assert_str_eq(dec, "untouched");
    }
    /* an id longer than the output buffer is refused, not truncated */
    char enc[400];
    ck_assert_int_eq(roster_cursor_encode("abcdefgh", enc, sizeof(enc)), 0);
    char tiny[8];
    ck_assert_int_eq(roster_cursor_decode(enc, tiny, sizeof(tiny)), ROSTER_EINVAL);
    char fits[9];
    ck_assert_int_eq(roster_cursor_decode(enc, fits, sizeof(fits)), 0);
    ck_assert_str_eq(fits, "abcdefgh");
}
END_TEST

static const char *const SUMMARY_KEYS[] = {"id",   "name",    "category", "description", "version",
                                           "role", "extends", "lineage",  "link",        "digest"};
static const char *const PROFILE_KEYS[] = {"id",
                                           "name",
                                           "category",
                                           "description",
                                           "version",
                                           "extends",
                                           "lineage",
                                           "metadata",
                                           "role",
                                           "competencies",
                                           "work_patterns",
                                           "tool_priorities",
                                           "output_standards",
                                           "anti_patterns",
                                           "sections",
                                           "variables",
                                           "source",
                                           "diagnostics",
                                           "stale",
                                           "digest"};
#define NKEYS(a) (sizeof(a) / sizeof(a[0]))

/* The keys of o, in order, are exactly keys[0..n). */
static void expect_keys(const json_t *o, const char *const *keys, size_t n)
{
    ck_assert_uint_eq(json_object_size(o), n);
    size_t i = 0;
    for (void *it = json_object_iter((json_t *)o); it; it = json_object_iter_next((json_t *)o, it))
        ck_assert_str_eq(json_object_iter_key(it), keys[i++]);
}

START_TEST(summary_and_profile_fields)
{
    const struct roster_sprofile *a = roster_snapshot_find(snap, "alpha-writer", 12);
    ck_assert_ptr_nonnull(a);
    /* what the listing shows is what the field list admits, and no more */
    expect_keys(a->summary, SUMMARY_KEYS, NKEYS(SUMMARY_KEYS));
    json_t *ap = profile_of(snap, a);
    expect_keys(ap, PROFILE_KEYS, NKEYS(PROFILE_KEYS));
    json_decref(ap);
    for (size_t i = 0; i < NKEYS(SUMMARY_KEYS); i++)
        ck_assert_msg(roster_query_summary_field(SUMMARY_KEYS[i]) == 1, "%s", SUMMARY_KEYS[i]);
    for (size_t i = 0; i < NKEYS(PROFILE_KEYS); i++)
        ck_assert_msg(roster_query_profile_field(PROFILE_KEYS[i]) == 1, "%s", PROFILE_KEYS[i]);
    static const char *const not_summary[] = {"",         "ID",        "links", "lin",
                                              "metadata", "sections",  "stale", "source",
                                              "id ",      "role.name", "items", "total"};
    for (size_t i = 0; i < NKEYS(not_summary); i++)
        ck_assert_msg(roster_query_summary_field(not_summary[i]) == 0, "'%s'", not_summary[i]);
    static const char *const not_profile[] = {
        "", "link", "Id", "tool-priorities", "prompt", "metadata.role", "staleness"};
    for (size_t i = 0; i < NKEYS(not_profile); i++)
        ck_assert_msg(roster_query_profile_field(not_profile[i]) == 0, "'%s'", not_profile[i]);
    /* the summary's values: extends as written, the lineage as resolved (the
     * chain reversed: the profile first, docs/profile-format.md) */
    json_t *want = json_loads("{\"id\":\"alpha-writer\",\"name\":\"Alpha Writer\","
                              "\"category\":\"writer\",\"description\":\"Drafts release notes\","
                              "\"version\":\"1.0\",\"role\":\"author\",\"extends\":\"base\","
                              "\"lineage\":[\"alpha-writer\",\"team-base\"],"
                              "\"link\":\"/v1/profiles/alpha-writer\"}",
                              0, NULL);
    ck_assert_ptr_nonnull(want);
    json_object_set_new(want, "digest", json_sprintf("sha256:%s", a->good_key));
    ck_assert(json_equal(a->summary, want));
    json_decref(want);
    const struct roster_sprofile *g = roster_snapshot_find(snap, "gamma-writer", 12);
    want = json_loads("{\"id\":\"gamma-writer\",\"name\":\"Gamma Writer\",\"category\":\"writer\","
                      "\"description\":\"Edits long-form guides\",\"version\":\"1.0\","
                      "\"role\":\"editor\",\"extends\":[\"base\",\"beta-reviewer\"],"
                      "\"lineage\":[\"gamma-writer\",\"beta-reviewer\",\"team-base\"],"
                      "\"link\":\"/v1/profiles/gamma-writer\"}",
                      0, NULL);
    json_object_set_new(want, "digest", json_sprintf("sha256:%s", g->good_key));
    ck_assert(json_equal(g->summary, want));
    json_decref(want);
    /* the never-valid profile has no summary and is not listed */
    const struct roster_sprofile *d = roster_snapshot_find(snap, "delta-orphan", 12);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->ok, 0);
    ck_assert_ptr_null(d->summary);
}
END_TEST

START_TEST(projections)
{
    const struct roster_sprofile *b = roster_snapshot_find(snap, "beta-reviewer", 13);
    static const char *const f1[] = {"link", "id"};
    json_t *p = roster_query_project(b->summary, f1, 2);
    ck_assert_ptr_nonnull(p);
    expect_keys(p, f1, 2); /* in the order asked for */
    ck_assert_str_eq(json_string_value(json_object_get(p, "link")), "/v1/profiles/beta-reviewer");
    ck_assert_str_eq(json_string_value(json_object_get(p, "id")), "beta-reviewer");
    json_decref(p);
    /* a key the object lacks is left out; none at all is {} */
    static const char *const f2[] = {"nope", "role"};
    p = roster_query_project(b->summary, f2, 2);
    ck_assert_uint_eq(json_object_size(p), 1);
    ck_assert_str_eq(json_string_value(json_object_get(p, "role")), "critic");
    json_decref(p);
    p = roster_query_project(b->summary, f1, 0);
    ck_assert(json_is_object(p));
    ck_assert_uint_eq(json_object_size(p), 0);
    json_decref(p);
    /* projecting a profile shares its values, it does not change the profile */
    static const char *const f3[] = {"stale", "role"};
    json_t *bp = profile_of(snap, b);
    p = roster_query_project(bp, f3, 2);
    expect_keys(p, f3, 2);
    ck_assert(json_is_false(json_object_get(p, "stale")));
    ck_assert_ptr_eq(json_object_get(p, "role"), json_object_get(bp, "role"));
    json_decref(p);
    ck_assert_uint_eq(json_object_size(bp), NKEYS(PROFILE_KEYS));
    json_decref(bp);

    /* in a listing, every item is projected; no fields: the whole summary */
    struct roster_list_query q = {.limit = 2, .fields = {"id", "category"}, .nfields = 2};
    json_t *r = list(&q);
    json_t *items = json_object_get(r, "items");
    ck_assert_uint_eq(json_array_size(items), 2);
    static const char *const want_cat[] = {"writer", "reviewer"};
    for (size_t i = 0; i < 2; i++) {
        json_t *it = json_array_get(items, i);
        expect_keys(it, q.fields, 2);
        ck_assert_str_eq(json_string_value(json_object_get(it, "category")), want_cat[i]);
    }
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), ALL_OK);
    json_decref(r);
    q.nfields = 0;
    r = list(&q);
    json_t *first = json_array_get(json_object_get(r, "items"), 0);
    ck_assert(json_equal(first, roster_snapshot_find(snap, "alpha-writer", 12)->summary));
    expect_keys(first, SUMMARY_KEYS, NKEYS(SUMMARY_KEYS));
    json_decref(r);
}
END_TEST

/* The snapshot's prebuilt default listing is the query with no parameters. */
START_TEST(default_listing_is_the_plain_query)
{
    struct roster_list_query q = {.limit = ROSTER_LIST_DEFAULT_LIMIT};
    json_t *r = list(&q);
    json_t *pre = json_loadb(snap->list_default.body, snap->list_default.len, 0, NULL);
    ck_assert_ptr_nonnull(pre);
    ck_assert(json_equal(r, pre));
    json_decref(pre);
    json_decref(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, no_filter_lists_served_profiles_sorted);
    tcase_add_test(tc, category_filter_is_exact);
    tcase_add_test(tc, role_filter);
    tcase_add_test(tc, extends_as_written_and_as_resolved);
    tcase_add_test(tc, q_searches_case_insensitively);
    tcase_add_test(tc, filters_combine);
    tcase_add_test(tc, limit_and_cursor_paging);
    tcase_add_test(tc, cursor_round_trip);
    tcase_add_test(tc, bad_cursors_refused);
    tcase_add_test(tc, summary_and_profile_fields);
    tcase_add_test(tc, projections);
    tcase_add_test(tc, default_listing_is_the_plain_query);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
