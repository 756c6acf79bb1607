/* Templates (engine/template.c, template_scan.c): declarations checked per
 * file, merged along extends, placeholders and escapes, raw fences, every
 * bind problem at once, rendering, and the check-time diagnostics. */
#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_resolve.h"
#include "roster_template.h"
#include "roster_text.h"
#include "util.h"

static struct tree load2(const char *a, const char *b)
{
    const char *names[] = {"parent.md", "child.md"};
    const char *texts[] = {a, b};
    return tree_load_memory(names, texts, b ? 2 : 1);
}

static const char PARENT[] =
    "---\nid: parent\nvariables:\n"
    "  task: {description: What to do, required: true}\n"
    "  language: {description: Main language, default: Go, enum: [Go, Python, C]}\n"
    "  repo_url: {pattern: '^https://', max_length: 40}\n"
    "---\n\n# Parent\n\nDo {{ task }} in {{language}}.\n\n"
    "```sh\ngit clone {{ repo_url }}\n```\n\n"
    "```text raw\nkept {{ task }}\n```\n\nLiteral {{{{ task }}.\n";

static char *render(const struct roster_profile *p, const char *values_json, json_t **problems)
{
    struct roster_template *t = NULL;
    char why[300];
    ck_assert_int_eq(roster_template_new(&t, p, why, sizeof(why)), 0);
    json_t *values = json_loads(values_json, 0, NULL), *resolved = NULL;
    ck_assert_ptr_nonnull(values);
    char *out = NULL;
    size_t len = 0;
    if (roster_template_bind(t, values, &resolved, problems) == 0) {
        out = roster_template_render(t, resolved, &len);
        ck_assert_uint_eq(strlen(out), len);
        /* the JSON form: the same text as a JSON string, its SHA-256 */
        struct roster_buf b;
        char sha[65], want_sha[65];
        roster_buf_init(&b, 1 << 20);
        ck_assert_int_eq(roster_template_render_json(t, resolved, &b, sha), 0);
        json_t *js = json_stringn(out, len);
        char *want = json_dumps(js, JSON_ENCODE_ANY | JSON_COMPACT);
        ck_assert_uint_eq(b.len, strlen(want));
        ck_assert_int_eq(memcmp(b.data, want, b.len), 0);
        roster_sha256_hex(out, len, want_sha);
        ck_assert_str_eq(sha, want_sha);
        roster_free(want);
        json_decref(js);
        roster_buf_release(&b);
    }
    json_decref(values);
    json_decref(resolved);
    roster_template_free(t);
    return out;
}

START_TEST(render_with_values_and_defaults)
{
    struct tree t = load2(PARENT, NULL);
    json_t *problems = NULL;
    char *out = render(tree_profile(&t, "parent"),
                       "{\"task\": \"fix CI\", \"repo_url\": \"https://x.test/r\"}", &problems);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(strstr(out, "Do fix CI in Go."));
    ck_assert_ptr_nonnull(strstr(out, "git clone https://x.test/r\n")); /* in a fence too */
    ck_assert_ptr_nonnull(strstr(out, "kept {{ task }}")); /* raw fence untouched */
    ck_assert_ptr_nonnull(strstr(out, "Literal {{ task }}.")); /* {{{{ is {{ */
    roster_free(out);
    /* a value with braces is inserted literally, never expanded again; one
     * with quotes, a newline and non-ASCII is escaped in the JSON form */
    out = render(tree_profile(&t, "parent"), "{\"task\": \"say \\\"hi\\\"\\n\\u00e9\"}", &problems);
    ck_assert_ptr_nonnull(strstr(out, "Do say \"hi\"\n\xc3\xa9 in Go."));
    roster_free(out);
    out = render(tree_profile(&t, "parent"), "{\"task\": \"{{ language }}\"}", &problems);
    ck_assert_ptr_nonnull(strstr(out, "Do {{ language }} in Go."));
    roster_free(out);
    tree_drop(&t);
}
END_TEST

START_TEST(every_problem_at_once)
{
    struct tree t = load2(PARENT, NULL);
    json_t *problems = NULL;
    char *out = render(tree_profile(&t, "parent"),
                       "{\"language\": \"Rust\", \"repo_url\": \"http://plain.test/a-very-long-"
                       "url-over-forty\", \"extra\": \"x\"}",
                       &problems);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(problems);
    const char *want[][2] = {{"extra", "unknown"},
                             {"language", "not_in_enum"},
                             {"repo_url", "too_long"},
                             {"task", "missing"}};
    ck_assert_uint_eq(json_array_size(problems), 4);
    for (size_t i = 0; i < 4; i++) {
        int found = 0;
        size_t k;
        json_t *pb;
        json_array_foreach(problems, k, pb)
        {
            found |= strcmp(json_string_value(json_object_get(pb, "name")), want[i][0]) == 0 &&
                     strcmp(json_string_value(json_object_get(pb, "reason")), want[i][1]) == 0;
        }
        ck_assert_msg(found, "%s %s", want[i][0], want[i][1]);
    }
    json_decref(problems);
    problems = NULL;
    out = render(tree_profile(&t, "parent"), "{\"task\": 3, \"repo_url\": \"ftp://x\"}", &problems);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(json_array_size(problems), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(problems, 0), "reason")),
                     "pattern_mismatch");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(problems, 1), "reason")),
                     "not_string");
    json_decref(problems);
    tree_drop(&t);
}
END_TEST

/* A child overrides a parent's declaration field by field; `from` names
 * the most derived declaring profile; declarations come in name order. */
START_TEST(inheritance_and_override)
{
    struct tree t =
        load2(PARENT, "---\nid: child\nextends: parent\nvariables:\n  task: {required: false, "
                      "default: review}\n---\n\n# Child\n\nAlso {{ task }}.\n");
    const struct roster_profile *c = tree_profile(&t, "child");
    struct roster_template *tp = NULL;
    char why[300];
    ck_assert_int_eq(roster_template_new(&tp, c, why, sizeof(why)), 0);
    json_t *decls = roster_template_declarations(tp);
    ck_assert_uint_eq(json_array_size(decls), 3);
    json_t *task = json_array_get(decls, 2);
    ck_assert_str_eq(json_string_value(json_object_get(task, "name")), "task");
    ck_assert_str_eq(json_string_value(json_object_get(task, "from")), "child");
    ck_assert_str_eq(json_string_value(json_object_get(task, "description")), "What to do");
    ck_assert(json_is_false(json_object_get(task, "required")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(decls, 0), "from")),
                     "parent");
    json_decref(decls);
    roster_template_free(tp);
    json_t *problems = NULL;
    char *out = render(c, "{}", &problems);
    ck_assert_ptr_nonnull(strstr(out, "Do review in Go."));
    ck_assert_ptr_nonnull(strstr(out, "Also review."));
    roster_free(out);
    tree_drop(&t);
}
END_TEST

START_TEST(invalid_declarations_are_errors)
{
    struct tree t = load2("---\nid: bad\nvariables:\n  1x: {}\n  ok: {required: yes}\n"
                          "  re: {pattern: '(['}\n  en: {enum: []}\n  odd: {colour: red}\n"
                          "---\n\n# Bad\n",
                          NULL);
    struct roster_doc *d = roster_index_find(t.ix, "bad");
    ck_assert(d->failed);
    size_t n = 0;
    for (size_t i = 0; i < roster_diags_count(t.ix->diags); i++) {
        const struct roster_diag *g = roster_diags_get(t.ix->diags, i);
        if (strcmp(g->code, "template.invalid_declaration") == 0) {
            n++;
            ck_assert_uint_eq(g->line, 3);
            ck_assert_int_eq(g->severity, ROSTER_SEV_ERROR);
        }
    }
    ck_assert_uint_eq(n, 5);
    tree_drop(&t);
}
END_TEST

START_TEST(undeclared_and_unused)
{
    struct tree t = load2("---\nid: p\nvariables:\n  used: {}\n  idle: {description: never}\n"
                          "---\n\n# P\n\nUse {{ used }} and {{ stray }}.\n",
                          NULL);
    ck_assert(has_diag(t.ix->diags, "template.undeclared", 10));
    ck_assert(has_diag(t.ix->diags, "template.unused", 3));
    ck_assert_uint_eq(roster_diags_count(t.ix->diags), 2);
    for (size_t i = 0; i < 2; i++) {
        const struct roster_diag *g = roster_diags_get(t.ix->diags, i);
        if (strcmp(g->code, "template.unused") == 0) {
            ck_assert_int_eq(g->severity, ROSTER_SEV_INFO);
            ck_assert_ptr_nonnull(strstr(g->message, "idle"));
        } else {
            ck_assert_ptr_nonnull(strstr(g->message, "{{ stray }}"));
        }
    }
    tree_drop(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, render_with_values_and_defaults);
    tcase_add_test(tc, every_problem_at_once);
    tcase_add_test(tc, inheritance_and_override);
    tcase_add_test(tc, invalid_declarations_are_errors);
    tcase_add_test(tc, undeclared_and_unused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
