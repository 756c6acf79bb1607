/* engine/compare.c: two versions of a resolved profile compared: item
 * matching by key and occurrence, minimal moves, changed item fields
 * (rank excepted), front matter fields, the prompt diff, the item cap, and
 * allocation failures at every site. */
#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_compare.h"
#include "util.h"

/* A profile object with these competencies (a JSON array text) and
 * metadata (a JSON object text); the rest as rendering makes it. */
static json_t *profile(const char *competencies, const char *metadata, const char *tools)
{
    char text[4096];
    int n = snprintf(text, sizeof(text),
                     "{\"id\": \"p\", \"lineage\": [\"p\", \"base\"], \"metadata\": %s,"
                     " \"role\": {\"name\": \"w\", \"title\": \"P\", \"statement\": \"You work.\"},"
                     " \"competencies\": %s, \"work_patterns\": [], \"tool_priorities\": %s,"
                     " \"output_standards\": [],"
                     " \"anti_patterns\": {\"avoid\": [{\"text\": \"Rush\", \"from\": \"base\"},"
                     " {\"text\": \"Guess\", \"from\": \"base\"}], \"always\": []},"
                     " \"sections\": [{\"title\": \"P\", \"line\": 1}]}",
                     metadata, competencies, tools ? tools : "[]");
    ck_assert(n > 0 && (size_t)n < sizeof(text));
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "%s", e.text);
    return j;
}

static json_t *compare(const json_t *a, const json_t *b, const char *pa, const char *pb)
{
    struct roster_compare_side sa = {a, pa, strlen(pa), "old/p"}, sb = {b, pb, strlen(pb), "new/p"};
    struct roster_error err;
    roster_error_clear(&err);
    json_t *out = NULL;
    ck_assert_int_eq(roster_compare_profiles(&sa, &sb, &out, &err), 0);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* The JSON text of o[path0][path1] (path1 NULL: o[path0]), static. */
static const char *dump(const json_t *o, const char *path0, const char *path1)
{
    static char buf[4096];
    const json_t *v = json_object_get(o, path0);
    if (path1)
        v = json_object_get(v, path1);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    ck_assert_ptr_nonnull(s);
    snprintf(buf, sizeof(buf), "%s", s);
    roster_free(s);
    return buf;
}

#define C(name, desc, from)                                                                        \
    "{\"name\": \"" name "\", \"description\": \"" desc "\", \"from\": \"" from "\"}"

START_TEST(identical_versions_do_not_differ)
{
    json_t *a = profile("[" C("A", "a", "base") "]", "{\"version\": \"1\"}", NULL);
    json_t *d = compare(a, a, "# P\n", "# P\n");
    ck_assert(json_is_false(json_object_get(d, "changed")));
    ck_assert_uint_eq(json_object_size(json_object_get(d, "views")), 0);
    ck_assert_uint_eq(json_object_size(json_object_get(d, "fields")), 0);
    ck_assert(json_is_null(json_object_get(d, "prompt_diff")));
    ck_assert(json_is_false(json_object_get(d, "prompt_replaced")));
    json_decref(d);
    json_decref(a);
}
END_TEST

START_TEST(items_added_removed_moved_changed)
{
    json_t *a = profile("[" C("A", "a", "base") "," C("B", "b", "base") "," C(
                            "C", "c", "base") "," C("D", "d", "base") "]",
                        "{\"version\": \"1\", \"tags\": [\"x\"]}", NULL);
    /* D to the front, B gone, E new, C reworded and now the child's */
    json_t *b = profile("[" C("D", "d", "base") "," C("A", "a", "base") "," C("C", "c2", "p") "," C(
                            "E", "e", "p") "]",
                        "{\"version\": \"2\", \"role\": \"w\"}", NULL);
    json_t *d = compare(a, b, "# P\n", "# P\n");
    ck_assert(json_is_true(json_object_get(d, "changed")));
    const json_t *views = json_object_get(d, "views");
    ck_assert_uint_eq(json_object_size(views), 1);
    ck_assert_str_eq(dump(views, "competencies", "added"),
                     "[{\"key\":\"E\",\"from\":\"p\",\"position\":4}]");
    ck_assert_str_eq(dump(views, "competencies", "removed"),
                     "[{\"key\":\"B\",\"from\":\"base\",\"position\":2}]");
    ck_assert_str_eq(dump(views, "competencies", "moved"),
                     "[{\"key\":\"D\",\"from\":\"base\",\"old_position\":4,\"new_position\":1}]");
    ck_assert_str_eq(dump(views, "competencies", "changed"),
                     "[{\"key\":\"C\",\"from\":\"p\",\"old_from\":\"base\",\"position\":3,"
                     "\"fields\":[\"description\",\"from\"]}]");
    /* front matter: changed, added (old null) and removed (new null) keys */
    const json_t *fields = json_object_get(d, "fields");
    ck_assert_str_eq(dump(fields, "version", NULL), "{\"old\":\"1\",\"new\":\"2\"}");
    ck_assert_str_eq(dump(fields, "tags", NULL), "{\"old\":[\"x\"],\"new\":null}");
    ck_assert_str_eq(dump(fields, "role", NULL), "{\"old\":null,\"new\":\"w\"}");
    ck_assert_uint_eq(json_object_size(fields), 3);
    ck_assert(json_is_null(json_object_get(d, "prompt_diff")));
    json_decref(d);
    json_decref(b);
    json_decref(a);
}
END_TEST

/* Duplicates pair in order; a reversed list is n - 1 moves; a change of
 * rank alone is a move, never a change. */
START_TEST(moves_are_minimal_and_rank_is_position)
{
    json_t *a = profile("[" C("A", "1", "base") "," C("A", "2", "base") "," C(
                            "B", "b", "base") "," C("C", "c", "base") "]",
                        "{}",
                        "[{\"rank\": 1, \"name\": \"Read\", \"from\": \"base\"},"
                        " {\"rank\": 2, \"name\": \"Edit\", \"from\": \"base\"}]");
    json_t *b = profile("[" C("C", "c", "base") "," C("B", "b", "base") "," C(
                            "A", "1", "base") "," C("A", "2", "base") "]",
                        "{}",
                        "[{\"rank\": 1, \"name\": \"Edit\", \"from\": \"base\"},"
                        " {\"rank\": 2, \"name\": \"Read\", \"from\": \"base\"}]");
    json_t *d = compare(a, b, "x\n", "x\n");
    const json_t *views = json_object_get(d, "views");
    const json_t *moved = json_object_get(json_object_get(views, "competencies"), "moved");
    /* [A A B C] -> [C B A A]: keeping A A, C and B move */
    ck_assert_uint_eq(json_array_size(moved), 2);
    ck_assert_str_eq(dump(views, "competencies", "changed"), "[]");
    ck_assert_str_eq(dump(views, "tool-priorities", "changed"), "[]");
    ck_assert_uint_eq(
        json_array_size(json_object_get(json_object_get(views, "tool-priorities"), "moved")), 1);
    json_decref(d);
    /* anti-patterns: named lists, with "list" */
    json_t *c = json_deep_copy(a);
    json_t *avoid = json_object_get(json_object_get(c, "anti_patterns"), "avoid");
    ck_assert_int_eq(
        json_array_append_new(avoid, json_pack("{s:s, s:s}", "text", "Skip tests", "from", "p")),
        0);
    d = compare(a, c, "x\n", "x\n");
    ck_assert_str_eq(dump(json_object_get(d, "views"), "anti-patterns", "added"),
                     "[{\"key\":\"Skip tests\",\"from\":\"p\",\"list\":\"avoid\",\"position\":3}]");
    json_decref(d);
    json_decref(c);
    json_decref(b);
    json_decref(a);
}
END_TEST

START_TEST(prompt_and_role_fields)
{
    json_t *a = profile("[]", "{}", NULL);
    json_t *b = json_deep_copy(a);
    json_object_set_new(json_object_get(b, "role"), "statement", json_string("You work hard."));
    json_object_set_new(b, "lineage", json_pack("[s]", "p"));
    /* line numbers of sections are where, not what: not compared */
    json_object_set_new(json_array_get(json_object_get(b, "sections"), 0), "line", json_integer(9));
    json_t *d = compare(a, b, "# P\n\nYou work.\n", "# P\n\nYou work hard.\n");
    const json_t *fields = json_object_get(d, "fields");
    ck_assert_uint_eq(json_object_size(fields), 2);
    ck_assert_str_eq(dump(fields, "role.statement", "new"), "\"You work hard.\"");
    ck_assert_str_eq(dump(fields, "lineage", "old"), "[\"p\",\"base\"]");
    ck_assert_str_eq(
        json_string_value(json_object_get(d, "prompt_diff")),
        "--- old/p\n+++ new/p\n@@ -1,3 +1,3 @@\n # P\n \n-You work.\n+You work hard.\n");
    ck_assert_str_eq(dump(d, "prompt_lines", NULL), "{\"added\":1,\"removed\":1}");
    json_decref(d);
    /* only the sections' lines differ: unchanged */
    json_t *e = json_deep_copy(a);
    json_object_set_new(json_array_get(json_object_get(e, "sections"), 0), "line", json_integer(9));
    d = compare(a, e, "same\n", "same\n");
    ck_assert(json_is_false(json_object_get(d, "changed")));
    json_decref(d);
    json_decref(e);
    json_decref(b);
    json_decref(a);
}
END_TEST

START_TEST(too_many_items)
{
    json_t *a = profile("[]", "{}", NULL), *b = json_deep_copy(a);
    json_t *list = json_object_get(b, "competencies");
    for (int i = 0; i <= ROSTER_COMPARE_MAX_ITEMS; i++)
        ck_assert_int_eq(json_array_append_new(list, json_pack("{s:s}", "name", "x")), 0);
    struct roster_compare_side sa = {a, "", 0, NULL}, sb = {b, "", 0, NULL};
    struct roster_error err;
    roster_error_clear(&err);
    json_t *out = (json_t *)&err; /* untouched on failure */
    ck_assert_int_eq(roster_compare_profiles(&sa, &sb, &out, &err), ROSTER_E2BIG);
    ck_assert_ptr_eq(out, (json_t *)&err);
    ck_assert_ptr_nonnull(strstr(err.msg, "items"));
    json_decref(b);
    json_decref(a);
}
END_TEST

#ifdef ROSTER_ALLOC_FAULTS
/* Every allocation of a comparison failing once, then from there on: an
 * error (never a crash, never a leak, *out untouched) or the full answer. */
START_TEST(allocation_failures)
{
    json_t *a =
        profile("[" C("A", "a", "base") "," C("B", "b", "base") "]", "{\"version\": \"1\"}", NULL);
    json_t *b = profile("[" C("B", "b", "base") "," C("A", "a2", "p") "," C("E", "e", "p") "]",
                        "{\"version\": \"2\"}", NULL);
    struct roster_compare_side sa = {a, "1\n2\n3\n", 6, "a"}, sb = {b, "1\nx\n3\n", 6, "b"};
    struct roster_error err;
    json_t *out = NULL;
    roster_alloc_fail_at(0, 0);
    ck_assert_int_eq(roster_compare_profiles(&sa, &sb, &out, &err), 0);
    long total = roster_alloc_count();
    json_decref(out);
    ck_assert_int_gt(total, 10);
    for (int sticky = 0; sticky < 2; sticky++)
        for (long n = 1; n <= total; n++) {
            out = NULL;
            roster_error_clear(&err);
            roster_alloc_fail_at(n, sticky);
            int r = roster_compare_profiles(&sa, &sb, &out, &err);
            roster_alloc_fail_at(0, 0);
            if (r < 0) {
                ck_assert_ptr_null(out);
                ck_assert_int_ne(err.code, 0);
            } else {
                ck_assert_ptr_nonnull(out);
                json_decref(out);
            }
        }
    json_decref(b);
    json_decref(a);
}
END_TEST
#endif

int main(void)
{
    /* as rosterd does: jansson's allocations fail with the injected ones */
    json_set_alloc_funcs(roster_malloc, roster_free);
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, identical_versions_do_not_differ);
    tcase_add_test(tc, items_added_removed_moved_changed);
    tcase_add_test(tc, moves_are_minimal_and_rank_is_position);
    tcase_add_test(tc, prompt_and_role_fields);
    tcase_add_test(tc, too_many_items);
#ifdef ROSTER_ALLOC_FAULTS
    tcase_add_test(tc, allocation_failures);
#endif
    suite_add_tcase(s, tc);
    return run_suite(s);
}
