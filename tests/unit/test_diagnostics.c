/* Friendlier diagnostics: the registry of codes, a profile's own
 * `lint: {ignore: [...]}` (lint.invalid, what it silences at parse and at
 * resolve time, errors never) and "did you mean" for extends.missing. */
#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_ignore.h"
#include "roster_index.h"
#include "roster_resolve.h"
#include "roster_text.h"
#include "util.h"

/* The diagnostics of file with code: how many; *msg the first message. */
static size_t count(const struct tree *s, const char *file, const char *code, const char **msg)
{
    size_t n = 0;
    for (size_t i = 0; i < roster_diags_count(s->ix->diags); i++) {
        const struct roster_diag *g = roster_diags_get(s->ix->diags, i);
        if (!g->file || strcmp(g->file, file) || strcmp(g->code, code))
            continue;
        if (!n++ && msg)
            *msg = g->message;
    }
    return n;
}

START_TEST(registry_kinds)
{
    ck_assert_int_eq(roster_ignore_code_kind("id.missing", 10), ROSTER_CODE_IGNORABLE);
    ck_assert_int_eq(roster_ignore_code_kind("frontmatter.number_as_string", 28),
                     ROSTER_CODE_IGNORABLE);
    ck_assert_int_eq(roster_ignore_code_kind("extends.missing", 15), ROSTER_CODE_ERROR);
    ck_assert_int_eq(roster_ignore_code_kind("frontmatter.syntax", 18), ROSTER_CODE_ERROR);
    ck_assert_int_eq(roster_ignore_code_kind("id.missin", 9), ROSTER_CODE_UNKNOWN);
    ck_assert_int_eq(roster_ignore_code_kind("id.missing.x", 12), ROSTER_CODE_UNKNOWN);
    char msg[600];
    ck_assert_int_eq(roster_ignore_why("x", "id.missing", 10, msg, sizeof(msg)), 0);
    ck_assert_int_eq(roster_ignore_why("x", "markdown.fence_info_closr", 25, msg, sizeof(msg)), 1);
    ck_assert_str_eq(msg, "x: \"markdown.fence_info_closr\" is no diagnostic code (did you mean "
                          "\"markdown.fence_info_closer\"?)");
    ck_assert_int_eq(roster_ignore_why("x", "extends.missing", 15, msg, sizeof(msg)), 1);
    ck_assert_str_eq(msg, "x: \"extends.missing\" is an error, and errors cannot be ignored");
    /* errors are never suggested as something to ignore */
    ck_assert_int_eq(roster_ignore_why("x", "extends.misin", 13, msg, sizeof(msg)), 1);
    ck_assert_str_eq(msg, "x: \"extends.misin\" is no diagnostic code");
}
END_TEST

/* What the file says it ignores is gone from its diagnostics; the same
 * codes in another file stay. */
START_TEST(lint_ignore_silences_own_warnings)
{
    const char *names[] = {"a.md", "b.md"};
    const char *texts[] = {
        "---\nname: A\nversion: 1.10\nlint: {ignore: [frontmatter.number_as_string, "
        "id.missing]}\n---\n# A\n\nThe a.\n",
        "---\nname: B\nversion: 1.10\n---\n# B\n\nThe b.\n",
    };
    struct tree s = tree_load_memory(names, texts, 2);
    ck_assert_uint_eq(count(&s, "a.md", "frontmatter.number_as_string", NULL), 0);
    ck_assert_uint_eq(count(&s, "a.md", "id.missing", NULL), 0);
    ck_assert_uint_eq(count(&s, "a.md", "lint.invalid", NULL), 0);
    ck_assert_uint_eq(count(&s, "b.md", "frontmatter.number_as_string", NULL), 1);
    ck_assert_uint_eq(count(&s, "b.md", "id.missing", NULL), 1);
    ck_assert_uint_eq(roster_diags_count(s.ix->diags), 2);
    /* the value is still the authored text */
    ck_assert_str_eq(json_string_value(json_object_get(s.ix->docs[0]->meta, "version")), "1.10");
    tree_drop(&s);
}
END_TEST

START_TEST(lint_invalid)
{
    static const struct {
        const char *lint;
        const char *message;
    } cases[] = {
        {"lint: [id.missing]",
         "lint must be a mapping, e.g. lint: {ignore: [markdown.fence_info_closer]}"},
        {"lint: {ignore: id.missing}", "lint.ignore must be a list of diagnostic codes, e.g. "
                                       "lint: {ignore: [markdown.fence_info_closer]}"},
        {"lint: {ignore: [id.missing], skip: [x]}",
         "unknown key \"skip\" in lint: the only key is ignore"},
        {"lint: {ignore: [extends.missing]}",
         "lint.ignore entry: \"extends.missing\" is an error, and errors cannot be ignored"},
        {"lint: {ignore: [id.missin]}",
         "lint.ignore entry: \"id.missin\" is no diagnostic code (did you mean \"id.missing\"?)"},
        {"lint: {ignore: [nothing.like_it]}",
         "lint.ignore entry: \"nothing.like_it\" is no diagnostic "
         "code"},
        {"lint: {ignore: [id.missing, 3]}",
         "lint.ignore entry 2 is not a diagnostic code (a string)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[300];
        snprintf(text, sizeof(text), "---\nid: a\n%s\n---\n# A\n\nThe a.\n", cases[i].lint);
        const char *names[] = {"a.md"}, *texts[] = {text};
        struct tree s = tree_load_memory(names, texts, 1);
        const char *msg = NULL;
        ck_assert_msg(count(&s, "a.md", "lint.invalid", &msg) == 1, "case %zu", i);
        ck_assert_str_eq(msg, cases[i].message);
        const struct roster_diag *g = roster_diags_get(s.ix->diags, 0);
        ck_assert_int_eq(g->severity, ROSTER_SEV_WARNING);
        ck_assert_uint_eq(g->line, 3); /* the lint key */
        ck_assert(s.res->profiles[0].ok); /* a warning: still served */
        tree_drop(&s);
    }
}
END_TEST

/* An error listed in lint.ignore stays, and the list says why. */
START_TEST(errors_are_never_silenced)
{
    const char *names[] = {"a.md"};
    const char *texts[] = {"---\nid: a\nextends: nope\nlint: {ignore: [extends.missing]}\n"
                           "---\n# A\n\nThe a.\n"};
    struct tree s = tree_load_memory(names, texts, 1);
    ck_assert_uint_eq(count(&s, "a.md", "extends.missing", NULL), 1);
    ck_assert_uint_eq(count(&s, "a.md", "lint.invalid", NULL), 1);
    ck_assert(!s.res->profiles[0].ok);
    tree_drop(&s);
}
END_TEST

/* Resolve-time warnings (two role statements in the composed prompt) are
 * silenced by the child's own list. */
START_TEST(lint_ignore_silences_resolve_warnings)
{
    const char *names[] = {"base.md", "child.md", "other.md"};
    const char *texts[] = {
        "---\nid: base\n---\n# Base\n\nYou are a base.\n",
        "---\nid: child\nextends: base\nlint: {ignore: [prompt.multiple_roles]}\n---\n"
        "# Child\n\nYou are a child.\n",
        "---\nid: other\nextends: base\n---\n# Other\n\nYou are another.\n",
    };
    struct tree s = tree_load_memory(names, texts, 3);
    ck_assert_uint_eq(count(&s, "other.md", "prompt.multiple_roles", NULL), 1);
    ck_assert_uint_eq(count(&s, "child.md", "prompt.multiple_roles", NULL), 0);
    ck_assert_uint_eq(roster_diags_count(s.ix->diags), 1);
    tree_drop(&s);
}
END_TEST

static const json_t *meta_of(void *ctx, const char *file)
{
    return strcmp(file, "a.md") == 0 ? ctx : NULL;
}

/* The filter over an index's list: only from the position given, only
 * warnings of files that list their code, the list replaced only when
 * something goes. */
START_TEST(filter_from_position)
{
    json_error_t je;
    json_t *meta = json_loads("{\"lint\": {\"ignore\": [\"x.warn\"]}}", 0, &je);
    struct roster_diags *d = roster_diags_new();
    ck_assert_int_eq(roster_diags_add(d, ROSTER_SEV_WARNING, "x.warn", "a.md", 1, 1, "a", "old"),
                     0);
    struct roster_diags *before = d;
    ck_assert_int_eq(roster_ignore_filter(&d, 1, meta_of, meta), 0);
    ck_assert_ptr_eq(d, before); /* nothing after position 1: unchanged */
    ck_assert_int_eq(roster_diags_add(d, ROSTER_SEV_WARNING, "x.warn", "a.md", 2, 1, "a", "new"),
                     0);
    ck_assert_int_eq(roster_diags_add(d, ROSTER_SEV_ERROR, "x.warn", "a.md", 3, 1, "a", "err"), 0);
    ck_assert_int_eq(roster_diags_add(d, ROSTER_SEV_WARNING, "x.warn", "b.md", 4, 1, "b", "b"), 0);
    ck_assert_int_eq(roster_diags_add(d, ROSTER_SEV_INFO, "x.other", "a.md", 5, 1, "a", "o"), 0);
    ck_assert_int_eq(roster_ignore_filter(&d, 1, meta_of, meta), 0);
    ck_assert_uint_eq(roster_diags_count(d), 4);
    static const char *const left[] = {"old", "err", "b", "o"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(roster_diags_get(d, i)->message, left[i]);
    ck_assert_str_eq(roster_diags_get(d, 1)->profile, "a");
    roster_diags_free(d);
    json_decref(meta);
}
END_TEST

START_TEST(extends_missing_suggests)
{
    const char *names[] = {"child.md", "misc/base-x.md", "worker-devops.md"};
    const char *texts[] = {
        "---\nid: child\nextends: [worker-devopps, base-y, zzz]\n---\n# C\n\nC.\n",
        "---\nid: base-x-id\n---\n# B\n\nB.\n",
        "---\nid: worker-devops\n---\n# D\n\nD.\n",
    };
    struct tree s = tree_load_memory(names, texts, 3);
    size_t seen = 0;
    for (size_t i = 0; i < roster_diags_count(s.ix->diags); i++) {
        const struct roster_diag *g = roster_diags_get(s.ix->diags, i);
        if (strcmp(g->code, "extends.missing") != 0)
            continue;
        seen++;
        if (strstr(g->message, "\"worker-devopps\""))
            ck_assert_str_eq(g->message, "extends \"worker-devopps\": no profile has this id or "
                                         "file name; did you mean \"worker-devops\"?");
        else if (strstr(g->message, "\"base-y\""))
            ck_assert_str_eq(g->message, "extends \"base-y\": no profile has this id or file "
                                         "name; did you mean \"base-x\"?"); /* the stem */
        else
            ck_assert_str_eq(g->message, "extends \"zzz\": no profile has this id or file name");
    }
    ck_assert_uint_eq(seen, 3);
    tree_drop(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("diagnostics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, registry_kinds);
    tcase_add_test(tc, lint_ignore_silences_own_warnings);
    tcase_add_test(tc, lint_invalid);
    tcase_add_test(tc, errors_are_never_silenced);
    tcase_add_test(tc, lint_ignore_silences_resolve_warnings);
    tcase_add_test(tc, filter_from_position);
    tcase_add_test(tc, extends_missing_suggests);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
