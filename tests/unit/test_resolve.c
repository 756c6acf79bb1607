/* Inheritance: lookup by id and stem, errors (cycle, missing, ambiguous,
 * too deep), merge rules, section replacement and the composed prompt. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_scan.h"
#include "roster_resolve.h"
#include "roster_text.h"
#include "util.h"

static int diag_for(const struct tree *t, const char *file, const char *code)
{
    for (size_t i = 0; i < roster_diags_count(t->ix->diags); i++) {
        const struct roster_diag *g = roster_diags_get(t->ix->diags, i);
        if (g->file && strcmp(g->file, file) == 0 && strcmp(g->code, code) == 0)
            return 1;
    }
    return 0;
}

START_TEST(seed_lineage_and_sections)
{
    struct tree t = tree_load(fixture("../../profiles"));
    const struct roster_profile *p = tree_profile(&t, "worker-devops");
    ck_assert(p->ok);
    ck_assert_uint_eq(p->nchain, 2);
    ck_assert_str_eq(p->chain[0]->id, "base");
    ck_assert_str_eq(p->chain[1]->id, "worker-devops");
    /* base's sections, then the seed's */
    const struct roster_doc *base = p->chain[0];
    ck_assert_uint_eq(p->nsecs, base->md.nsections + p->doc->md.nsections);
    for (size_t i = 0; i < base->md.nsections; i++)
        ck_assert_ptr_eq(p->secs[i].doc, base);
    ck_assert_ptr_eq(p->secs[base->md.nsections].doc, p->doc);
    /* no replacement: prompt = trim(base body) + blank line + trim(seed body) */
    struct roster_buf want;
    roster_buf_init(&want, 1 << 20);
    for (size_t c = 0; c < 2; c++) {
        const struct roster_doc *d = p->chain[c];
        const char *s = d->text + d->md.body_start;
        size_t n = d->md.body_end - d->md.body_start;
        roster_trim(&s, &n);
        if (want.len)
            roster_buf_puts(&want, "\n\n");
        roster_buf_append(&want, s, n);
    }
    char *prompt = roster_profile_prompt(p);
    ck_assert_ptr_nonnull(prompt);
    ck_assert_uint_eq(p->prompt_len, want.len);
    ck_assert_uint_eq(strlen(prompt), want.len);
    ck_assert_int_eq(memcmp(prompt, want.data, want.len), 0);
    ck_assert_ptr_null(memchr(prompt, '\r', p->prompt_len));
    roster_free(prompt);
    roster_buf_release(&want);
    /* the inherited text is the parent's bytes, not a copy */
    ck_assert_uint_ge(p->nspans, 3);
    ck_assert(p->spans[0].text >= base->text && p->spans[0].text < base->text + base->text_len);
    ck_assert_str_eq(p->spans[1].text, "\n\n");
    /* front matter: child wins, id/extends not inherited, parent keys kept */
    ck_assert_str_eq(json_string_value(json_object_get(p->meta, "role")), "devops");
    ck_assert_str_eq(json_string_value(json_object_get(p->meta, "id")), "worker-devops");
    ck_assert_ptr_nonnull(json_object_get(p->meta, "tags"));
    /* three levels */
    const struct roster_profile *sre = tree_profile(&t, "worker-sre");
    ck_assert(sre->ok);
    ck_assert_uint_eq(sre->nchain, 3);
    tree_drop(&t);
}
END_TEST

START_TEST(cycles)
{
    struct tree t = tree_load(fixture("trees/cycle"));
    ck_assert(!tree_profile(&t, "a")->ok);
    ck_assert(!tree_profile(&t, "b")->ok);
    ck_assert(!tree_profile(&t, "c")->ok);
    ck_assert(!tree_profile(&t, "self")->ok);
    ck_assert(tree_profile(&t, "ok")->ok);
    ck_assert(diag_for(&t, "a.md", "extends.cycle"));
    ck_assert(diag_for(&t, "self.md", "extends.cycle"));
    ck_assert(diag_for(&t, "c.md", "extends.parent_invalid"));
    const struct roster_diag *g = roster_diags_get(t.ix->diags, 0);
    ck_assert(strstr(g->message, "a -> b -> a") != NULL);
    ck_assert_uint_eq(g->line, 3);
    tree_drop(&t);
}
END_TEST

START_TEST(missing_and_ambiguous)
{
    struct tree t = tree_load(fixture("trees/missing"));
    ck_assert(!tree_profile(&t, "child")->ok);
    ck_assert(tree_profile(&t, "fine")->ok);
    ck_assert(diag_for(&t, "child.md", "extends.missing"));
    tree_drop(&t);
    t = tree_load(fixture("trees/ambiguous"));
    ck_assert(!tree_profile(&t, "child")->ok);
    ck_assert(diag_for(&t, "child.md", "extends.ambiguous"));
    const struct roster_diag *g = roster_diags_get(t.ix->diags, 0);
    ck_assert(strstr(g->message, "x/base.md") && strstr(g->message, "y/base.md"));
    tree_drop(&t);
}
END_TEST

START_TEST(stem_lookup)
{
    struct tree t = tree_load(fixture("trees/stem"));
    const struct roster_profile *p = tree_profile(&t, "child");
    ck_assert(p->ok);
    ck_assert_str_eq(p->chain[0]->id, "role-base");
    tree_drop(&t);
}
END_TEST

START_TEST(hop_limit)
{
    struct tree t = tree_load(fixture("trees/deep"));
    ck_assert(tree_profile(&t, "p10")->ok); /* 10 hops */
    ck_assert_uint_eq(tree_profile(&t, "p10")->nchain, 11);
    ck_assert(!tree_profile(&t, "p11")->ok);
    ck_assert(diag_for(&t, "p11.md", "extends.too_deep"));
    tree_drop(&t);
}
END_TEST

START_TEST(list_extends_left_to_right)
{
    struct tree t = tree_load(fixture("trees/multi"));
    const struct roster_profile *p = tree_profile(&t, "child");
    ck_assert(p->ok);
    ck_assert_uint_eq(p->nchain, 3);
    ck_assert_str_eq(p->chain[0]->id, "m1");
    ck_assert_str_eq(p->chain[1]->id, "m2");
    /* m2 is applied after m1: its role wins */
    ck_assert_str_eq(json_string_value(json_object_get(p->meta, "role")), "two");
    tree_drop(&t);
}
END_TEST

START_TEST(merge_rules_and_replacement)
{
    struct tree t = tree_load(fixture("trees/merge"));
    const struct roster_profile *p = tree_profile(&t, "child");
    ck_assert(p->ok);
    json_t *map = json_object_get(p->meta, "map");
    ck_assert_int_eq(json_integer_value(json_object_get(map, "x")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(map, "y")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(map, "z")), 4);
    json_t *nested = json_object_get(map, "nested");
    ck_assert(json_is_true(json_object_get(nested, "keep")));
    ck_assert_int_eq(json_integer_value(json_object_get(nested, "add")), 1);
    json_t *list = json_object_get(p->meta, "list");
    ck_assert_int_eq(json_array_size(list), 1);
    ck_assert_str_eq(json_string_value(json_object_get(p->meta, "only_parent")), "p");
    /* identity keys (name, description, version, ...) are never inherited */
    ck_assert_ptr_null(json_object_get(p->meta, "name"));
    ck_assert_str_eq(json_string_value(json_object_get(p->meta, "extends")), "parent");
    /* Anti-Patterns replaced in place: Parent, Anti-Patterns(child), Keep Me, Child */
    ck_assert_uint_eq(p->nsecs, 4);
    ck_assert_str_eq(p->secs[1].sec->title, "Anti-Patterns");
    ck_assert_str_eq(p->secs[1].doc->id, "child");
    ck_assert_str_eq(p->secs[2].sec->title, "Keep Me");
    char *prompt = roster_profile_prompt(p),
         *parent = roster_profile_prompt(tree_profile(&t, "parent"));
    ck_assert_ptr_nonnull(prompt);
    ck_assert_ptr_nonnull(parent);
    ck_assert_ptr_null(strstr(prompt, "Parent avoid"));
    ck_assert_ptr_nonnull(strstr(prompt, "Child avoid"));
    ck_assert_ptr_nonnull(strstr(prompt, "Parent text kept."));
    /* the parent itself is untouched */
    ck_assert_ptr_nonnull(strstr(parent, "Parent avoid"));
    roster_free(prompt);
    roster_free(parent);
    tree_drop(&t);
}
END_TEST

static size_t find_sec(const struct roster_profile *p, const char *title, const char *from)
{
    for (size_t k = 0; k < p->nsecs; k++)
        if (strcmp(p->secs[k].sec->title, title) == 0 && strcmp(p->secs[k].doc->id, from) == 0)
            return k;
    return p->nsecs;
}

/* inherit: append goes after the parent's section, drop takes a section
 * with its subsections (an H1 only its own text) out of the sections and
 * the prompt; "Tools" is the same section as "Tool Priorities"; keys match
 * titles case-insensitively. */
START_TEST(inherit_modes)
{
    struct tree t = tree_load(fixture("trees/inherit"));
    const struct roster_profile *p = tree_profile(&t, "child");
    ck_assert(p->ok);
    size_t n = p->nsecs;
    ck_assert_uint_eq(find_sec(p, "Parent", "parent"), n);
    ck_assert_uint_eq(find_sec(p, "Chat Rules", "parent"), n);
    ck_assert_uint_eq(find_sec(p, "Greeting", "parent"), n);
    ck_assert_uint_eq(find_sec(p, "Tool Priorities", "parent"), n); /* replaced by Tools */
    size_t tools = find_sec(p, "Tools", "child"), keep = find_sec(p, "Keep", "parent");
    size_t pap = find_sec(p, "Anti-Patterns", "parent"),
           cap = find_sec(p, "Anti-Patterns", "child");
    ck_assert(tools < pap && pap + 1 == cap && cap < keep && keep < n);
    char *prompt = roster_profile_prompt(p);
    ck_assert_ptr_nonnull(prompt);
    ck_assert_ptr_null(strstr(prompt, "Parent statement."));
    ck_assert_ptr_null(strstr(prompt, "Say hello."));
    ck_assert_ptr_null(strstr(prompt, "P1"));
    ck_assert_ptr_nonnull(strstr(prompt, "Parent avoid"));
    ck_assert_ptr_nonnull(strstr(prompt, "Child avoid"));
    ck_assert_ptr_nonnull(strstr(prompt, "Kept text."));
    ck_assert_ptr_nonnull(strstr(prompt, "Child statement."));
    roster_free(prompt);
    /* identity keys stay with their file */
    ck_assert_ptr_null(json_object_get(p->meta, "name"));
    ck_assert_ptr_nonnull(json_object_get(p->meta, "inherit"));
    /* an H1 of the same title replaces the parent's H1 text, not its sections */
    const struct roster_profile *h = tree_profile(&t, "same-h1");
    ck_assert(h->ok);
    ck_assert_uint_eq(find_sec(h, "Parent", "parent"), h->nsecs);
    ck_assert_uint_eq(find_sec(h, "Parent", "same-h1"), 0);
    ck_assert_uint_lt(find_sec(h, "Chat Rules", "parent"), h->nsecs);
    prompt = roster_profile_prompt(h);
    ck_assert_ptr_null(strstr(prompt, "Parent statement."));
    ck_assert_ptr_nonnull(strstr(prompt, "Say hello."));
    ck_assert_ptr_nonnull(strstr(prompt, "Same title, new statement."));
    roster_free(prompt);
    ck_assert_uint_eq(roster_diags_count(t.ix->diags), 0);
    tree_drop(&t);
}
END_TEST

START_TEST(broken_parent_takes_only_its_children)
{
    struct tree t = tree_load(fixture("trees/broken"));
    ck_assert(tree_profile(&t, "good")->ok);
    ck_assert(!tree_profile(&t, "kid")->ok);
    tree_drop(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resolve");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, seed_lineage_and_sections);
    tcase_add_test(tc, cycles);
    tcase_add_test(tc, missing_and_ambiguous);
    tcase_add_test(tc, stem_lookup);
    tcase_add_test(tc, hop_limit);
    tcase_add_test(tc, list_extends_left_to_right);
    tcase_add_test(tc, merge_rules_and_replacement);
    tcase_add_test(tc, broken_parent_takes_only_its_children);
    tcase_add_test(tc, inherit_modes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
