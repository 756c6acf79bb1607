/* Authoring checks (engine/lint.c): each warning on the line the author
 * has to fix, and none on a file that uses the forms the views read. */
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "util.h"

static struct roster_diags *lint(const char *fixture_name)
{
    size_t n;
    char *raw = read_all(fixture(fixture_name), &n);
    ck_assert_ptr_nonnull(raw);
    struct roster_doc *doc = NULL;
    struct roster_diags *d = roster_diags_new();
    struct roster_doc_opts o = {.strict_markdown = 0, .keep_blocks = 0};
    ck_assert_int_eq(roster_doc_parse(&doc, "x.md", raw, n, &o, d), 0);
    ck_assert_int_eq(doc->failed, 0);
    roster_doc_free(doc);
    return d;
}

START_TEST(every_code_on_its_line)
{
    struct roster_diags *d = lint("lint/all-codes.md");
    ck_assert(has_diag(d, "markdown.heading_no_space", 7));
    ck_assert(has_diag(d, "section.wrong_level", 9));
    ck_assert(has_diag(d, "tools.duplicate_rank", 20));
    ck_assert(has_diag(d, "section.unreadable", 22));
    ck_assert(has_diag(d, "section.unreadable", 26));
    ck_assert_uint_eq(roster_diags_count(d), 5);
    const struct roster_diag *g = NULL;
    for (size_t i = 0; i < roster_diags_count(d); i++)
        if (strcmp(roster_diags_get(d, i)->code, "tools.duplicate_rank") == 0)
            g = roster_diags_get(d, i);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_nonnull(strstr(g->message, "served as 3 to 3"));
    ck_assert_int_eq(g->severity, ROSTER_SEV_WARNING);
    roster_diags_free(d);
}
END_TEST

START_TEST(clean_file_has_none)
{
    struct roster_diags *d = lint("lint/clean.md");
    ck_assert_uint_eq(roster_diags_count(d), 0);
    roster_diags_free(d);
}
END_TEST

START_TEST(seed_has_only_its_fence_repairs)
{
    struct roster_diags *d = lint("../../profiles/worker-devops.md");
    for (size_t i = 0; i < roster_diags_count(d); i++)
        ck_assert_str_eq(roster_diags_get(d, i)->code, "markdown.fence_info_closer");
    ck_assert_uint_eq(roster_diags_count(d), 4);
    roster_diags_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lint");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_code_on_its_line);
    tcase_add_test(tc, clean_file_has_none);
    tcase_add_test(tc, seed_has_only_its_fence_repairs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
