/* Foundations: capped buffers, arena, map, text helpers, diagnostics
 * (allocation fault injection when built with ROSTER_ALLOC_FAULTS). */
#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_map.h"
#include "roster_text.h"
#include "util.h"

START_TEST(buf_caps_and_keeps_contents)
{
    struct roster_buf b;
    roster_buf_init(&b, 8);
    ck_assert_int_eq(roster_buf_puts(&b, "abcd"), 0);
    ck_assert_int_eq(roster_buf_printf(&b, "%d", 1234), 0);
    ck_assert_str_eq(b.data, "abcd1234");
    ck_assert_int_eq(roster_buf_putc(&b, 'x'), ROSTER_E2BIG);
    ck_assert_str_eq(b.data, "abcd1234");
    size_t n;
    char *s = roster_buf_steal(&b, &n);
    ck_assert_uint_eq(n, 8);
    ck_assert_ptr_null(b.data);
    roster_free(s);
    roster_buf_release(&b);
}
END_TEST

#ifdef ROSTER_ALLOC_FAULTS
START_TEST(alloc_failure_injection)
{
    roster_alloc_fail_at(1, 0);
    ck_assert_ptr_null(roster_malloc(10));
    void *p = roster_malloc(10);
    ck_assert_ptr_nonnull(p);
    roster_free(p);
    roster_alloc_fail_at(0, 0);
    struct roster_buf b;
    roster_buf_init(&b, 1000);
    roster_buf_puts(&b, "kept");
    char big[200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    roster_alloc_fail_at(1, 1);
    ck_assert_int_eq(roster_buf_puts(&b, big), ROSTER_ENOMEM);
    roster_alloc_fail_at(0, 0);
    ck_assert_str_eq(b.data, "kept");
    roster_buf_release(&b);
}
END_TEST
#endif

START_TEST(arena_caps)
{
    struct roster_arena *a = roster_arena_new(20000);
    ck_assert_ptr_nonnull(roster_arena_alloc(a, 100));
    ck_assert_ptr_nonnull(roster_arena_strndup(a, "abc", 3));
    ck_assert_ptr_null(roster_arena_alloc(a, 30000));
    roster_arena_free(a);
    ck_assert_ptr_null(roster_arena_free(NULL));
}
END_TEST

START_TEST(map_put_get_grow)
{
    struct roster_map *m = roster_map_new(2);
    char keys[300][8];
    for (int i = 0; i < 300; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        ck_assert_int_eq(roster_map_put(m, keys[i], strlen(keys[i]), keys[i]), 0);
    }
    ck_assert_int_eq(roster_map_put(m, "k7", 2, NULL), ROSTER_EINVAL);
    ck_assert_uint_eq(roster_map_count(m), 300);
    ck_assert_ptr_eq(roster_map_get(m, "k299", 4), keys[299]);
    ck_assert_ptr_null(roster_map_get(m, "k300", 4));
    roster_map_free(m);
}
END_TEST

START_TEST(utf8_check)
{
    ck_assert_uint_eq(roster_utf8_check("h\xc3\xa9llo", 6), 6);
    ck_assert_uint_eq(roster_utf8_check("a\xc3", 2), 1); /* truncated */
    ck_assert_uint_eq(roster_utf8_check("a\xc0\xaf", 3), 1); /* overlong */
    ck_assert_uint_eq(roster_utf8_check("\xed\xa0\x80", 3), 0); /* surrogate */
    ck_assert_uint_eq(roster_utf8_check("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    ck_assert_uint_eq(roster_utf8_check("\xe2\x9d\x8c", 3), 3); /* U+274C */
}
END_TEST

START_TEST(normalize_bom_crlf_cr)
{
    char *out;
    size_t n;
    ck_assert_int_eq(roster_text_normalize("\xef\xbb\xbf"
                                           "a\r\nb\rc\n",
                                           10, &out, &n),
                     0);
    ck_assert_str_eq(out, "a\nb\nc\n");
    ck_assert_uint_eq(n, 6);
    roster_free(out);
}
END_TEST

START_TEST(lines_and_slugs)
{
    const char *t = "one\ntwo\n\nfour";
    struct roster_lines l;
    ck_assert_int_eq(roster_lines_init(&l, t, strlen(t)), 0);
    ck_assert_uint_eq(l.count, 4);
    ck_assert_uint_eq(roster_lines_line_of(&l, 0), 1);
    ck_assert_uint_eq(roster_lines_line_of(&l, 4), 2);
    ck_assert_uint_eq(roster_lines_line_of(&l, 9), 4);
    const char *s;
    size_t n;
    ck_assert_int_eq(roster_lines_get(&l, 4, &s, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_lt(roster_lines_get(&l, 5, &s, &n), 0);
    roster_lines_release(&l);
    struct roster_buf b;
    roster_buf_init(&b, 100);
    roster_slugify("Monitoring & Alerting: Setup!", 29, &b);
    ck_assert_str_eq(b.data, "monitoring--alerting-setup");
    roster_buf_release(&b);
    char hex[65];
    roster_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(diagnostics_sort_and_format)
{
    struct roster_diags *d = roster_diags_new();
    roster_diags_add(d, ROSTER_SEV_WARNING, "b.code", "z.md", 3, 1, NULL, "later %d", 1);
    roster_diags_add(d, ROSTER_SEV_ERROR, "a.code", "a.md", 9, 2, "p", "first, with: comma");
    roster_diags_sort(d);
    ck_assert_str_eq(roster_diags_get(d, 0)->file, "a.md");
    ck_assert_uint_eq(roster_diags_count_severity(d, ROSTER_SEV_ERROR), 1);
    struct roster_buf b;
    roster_buf_init(&b, 1000);
    roster_diag_format_github(roster_diags_get(d, 0), &b);
    ck_assert_str_eq(b.data, "::error file=a.md,line=9,col=2,title=a.code::first, with: comma\n");
    b.len = 0;
    roster_diag_format_text(roster_diags_get(d, 1), &b);
    ck_assert_str_eq(b.data, "z.md:3:1: warning: later 1 [b.code]\n");
    roster_buf_release(&b);
    json_t *j = roster_diag_to_json(roster_diags_get(d, 0));
    ck_assert_str_eq(json_string_value(json_object_get(j, "severity")), "error");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "column")), 2);
    json_decref(j);
    enum roster_severity sev;
    ck_assert_int_eq(roster_severity_parse("warning", &sev), 0);
    ck_assert_int_lt(roster_severity_parse("fatal", &sev), 0);
    roster_diags_free(d);
}
END_TEST

static const struct roster_diag *find_code(const struct roster_diags *d, const char *code)
{
    for (size_t i = 0; i < roster_diags_count(d); i++)
        if (strcmp(roster_diags_get(d, i)->code, code) == 0)
            return roster_diags_get(d, i);
    return NULL;
}

/* Past the cap, diagnostics are counted, and sorting reports them as one
 * more, which every output form then shows. */
START_TEST(diagnostics_past_the_cap)
{
    struct roster_diags *d = roster_diags_new();
    for (int i = 0; i < ROSTER_DIAGS_MAX; i++)
        ck_assert_int_eq(roster_diags_add(d, ROSTER_SEV_INFO, "x.info", "a.md", 1, 1, NULL, "n"),
                         0);
    ck_assert_int_eq(roster_diags_sort(d), 0);
    ck_assert_ptr_null(find_code(d, ROSTER_DIAGS_TRUNCATED)); /* full, nothing dropped */
    for (int i = 0; i < 5; i++)
        roster_diags_add(d, i == 3 ? ROSTER_SEV_ERROR : ROSTER_SEV_WARNING, "x.late", "b.md", 2, 1,
                         NULL, "late %d", i);
    ck_assert_uint_eq(roster_diags_count(d), ROSTER_DIAGS_MAX);
    ck_assert_uint_eq(roster_diags_dropped(d), 5);
    ck_assert_int_eq(roster_diags_sort(d), 0);
    ck_assert_uint_eq(roster_diags_count(d), ROSTER_DIAGS_MAX + 1);
    const struct roster_diag *t = roster_diags_get(d, 0); /* no file: sorts first */
    ck_assert_str_eq(t->code, ROSTER_DIAGS_TRUNCATED);
    ck_assert_ptr_null(t->file);
    ck_assert_int_eq(t->severity, ROSTER_SEV_ERROR); /* an error was among them */
    ck_assert_ptr_nonnull(strstr(t->message, "5 more diagnostics were dropped"));
    ck_assert_uint_eq(roster_diags_count_severity(d, ROSTER_SEV_ERROR), 1);
    ck_assert_ptr_null(find_code(d, "x.late"));
    /* a later pass (the resolver sorts again) updates the same entry */
    roster_diags_add(d, ROSTER_SEV_INFO, "x.later", NULL, 0, 0, NULL, "one more");
    ck_assert_int_eq(roster_diags_sort(d), 0);
    ck_assert_uint_eq(roster_diags_count(d), ROSTER_DIAGS_MAX + 1);
    t = find_code(d, ROSTER_DIAGS_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(t->message, "6 more"));
    /* text, GitHub and JSON forms */
    struct roster_buf b;
    roster_buf_init(&b, 1000);
    ck_assert_int_eq(roster_diag_format_text(t, &b), 0);
    ck_assert_str_eq(b.data, "-:0:0: error: 6 more diagnostics were dropped: at most 100000 are "
                             "reported [diagnostics.truncated]\n");
    b.len = 0;
    ck_assert_int_eq(roster_diag_format_github(t, &b), 0);
    ck_assert_str_eq(b.data, "::error title=diagnostics.truncated::6 more diagnostics were "
                             "dropped: at most 100000 are reported\n");
    roster_buf_release(&b);
    json_t *j = roster_diag_to_json(t);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), ROSTER_DIAGS_TRUNCATED);
    ck_assert_str_eq(json_string_value(json_object_get(j, "severity")), "error");
    ck_assert(json_is_null(json_object_get(j, "file")));
    json_decref(j);
    roster_diags_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("base");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, buf_caps_and_keeps_contents);
#ifdef ROSTER_ALLOC_FAULTS
    tcase_add_test(tc, alloc_failure_injection);
#endif
    tcase_add_test(tc, arena_caps);
    tcase_add_test(tc, map_put_get_grow);
    tcase_add_test(tc, utf8_check);
    tcase_add_test(tc, normalize_bom_crlf_cr);
    tcase_add_test(tc, lines_and_slugs);
    tcase_add_test(tc, diagnostics_sort_and_format);
    tcase_add_test(tc, diagnostics_past_the_cap);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
