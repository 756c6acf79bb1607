/* Markdown: fence repair (and its invariant), the section tree, block
 * source recovery, tables and nesting limits. */
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "util.h"

static struct roster_doc *parse(const char *fixture_name, int strict, struct roster_diags *d)
{
    size_t n;
    char *raw = read_all(fixture(fixture_name), &n);
    ck_assert_ptr_nonnull(raw);
    struct roster_doc *doc = NULL;
    struct roster_doc_opts o = {.strict_markdown = strict, .keep_blocks = 1};
    ck_assert_int_eq(roster_doc_parse(&doc, "x.md", raw, n, &o, d), 0);
    return doc;
}

static size_t count_code(const struct roster_diags *d, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < roster_diags_count(d); i++)
        n += strcmp(roster_diags_get(d, i)->code, code) == 0;
    return n;
}

static const struct roster_section *find(const struct roster_doc *doc, const char *title)
{
    for (size_t i = 0; i < doc->md.nsections; i++)
        if (strcmp(doc->md.sections[i].title, title) == 0)
            return &doc->md.sections[i];
    return NULL;
}

START_TEST(seed_fence_repairs)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("../../profiles/worker-devops.md", 0, d);
    ck_assert_int_eq(doc->failed, 0);
    ck_assert_uint_eq(count_code(d, "markdown.fence_info_closer"), 4);
    ck_assert(has_diag(d, "markdown.fence_info_closer", 111));
    ck_assert(has_diag(d, "markdown.fence_info_closer", 153));
    ck_assert(has_diag(d, "markdown.fence_info_closer", 191));
    ck_assert(has_diag(d, "markdown.fence_info_closer", 268));
    ck_assert_ptr_nonnull(find(doc, "Rollback Planning"));
    ck_assert_ptr_nonnull(find(doc, "Anti-Patterns"));
    ck_assert_ptr_null(find(doc, "Disaster Recovery Runbook"));
    ck_assert_uint_eq(doc->md.nsections, 12);
    ck_assert_uint_eq(find(doc, "Rollback Planning")->line, 113);
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

/* Unclosed fences: a heading of a view section ends the block (twice
 * here); other heading-like lines stay code; the re-parse from the text
 * (roster_doc_blocks) gives the same sections. */
START_TEST(unclosed_fence_recovery)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("markdown/unclosed-recovered.md", 0, d);
    ck_assert_int_eq(doc->failed, 0);
    ck_assert_uint_eq(count_code(d, "markdown.unclosed_fence"), 2);
    ck_assert(has_diag(d, "markdown.unclosed_fence", 11));
    ck_assert(has_diag(d, "markdown.unclosed_fence", 19));
    const char *titles[] = {"Unclosed", "Work Patterns", "Script", "Tool Priorities",
                            "Anti-Patterns"};
    unsigned lines[] = {5, 7, 9, 15, 24};
    ck_assert_uint_eq(doc->md.nsections, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(doc->md.sections[i].title, titles[i]);
        ck_assert_uint_eq(doc->md.sections[i].line, lines[i]);
    }
    /* the bash block ends before the blank line above the heading */
    const struct roster_block *code = find(doc, "Script")->blocks;
    ck_assert_int_eq(code->kind, ROSTER_BLOCK_CODE);
    ck_assert_str_eq(code->lang, "bash");
    ck_assert_str_eq(code->text, "echo one\n# a shell comment, not a heading\n");
    struct roster_arena *arena = NULL;
    struct roster_md again;
    ck_assert_int_eq(roster_doc_blocks(doc, &arena, &again), 0);
    ck_assert_uint_eq(again.nsections, 5);
    ck_assert_uint_eq(again.sections[4].line, 24);
    roster_arena_free(arena);
    roster_doc_free(doc);
    roster_diags_free(d);
    /* strict: reported, nothing recovered */
    d = roster_diags_new();
    doc = parse("markdown/unclosed-recovered.md", 1, d);
    ck_assert_uint_eq(count_code(d, "markdown.unclosed_fence"), 1);
    ck_assert_uint_eq(doc->md.nsections, 3);
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

START_TEST(strict_markdown_swallows)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("../../profiles/worker-devops.md", 1, d);
    ck_assert_uint_eq(count_code(d, "markdown.fence_info_closer"), 0);
    ck_assert_ptr_null(find(doc, "Rollback Planning")); /* swallowed as code */
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

START_TEST(longer_outer_fence_is_untouched)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("markdown/nested-fences.md", 0, d);
    ck_assert_uint_eq(count_code(d, "markdown.fence_info_closer"), 0);
    ck_assert_uint_eq(doc->md.nsections, 2);
    ck_assert_ptr_null(find(doc, "Inside a template"));
    ck_assert_ptr_nonnull(find(doc, "After"));
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

START_TEST(repair_only_when_it_helps)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("markdown/swallow.md", 0, d);
    ck_assert_uint_eq(count_code(d, "markdown.fence_info_closer"), 1);
    ck_assert(has_diag(d, "markdown.fence_info_closer", 5));
    /* "~~~ note" inside a ~~~ block followed by a bare ~~~ is content */
    ck_assert_ptr_nonnull(find(doc, "Recovered"));
    ck_assert_ptr_nonnull(find(doc, "Last"));
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

START_TEST(section_tree)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("markdown/sections.md", 0, d);
    ck_assert_uint_eq(doc->md.nsections, 9);
    const struct roster_section *s = doc->md.sections;
    ck_assert_str_eq(s[0].title, "Title");
    ck_assert_int_eq(s[0].parent, -1);
    ck_assert_str_eq(s[2].path, "Title/Examples/Setup");
    ck_assert_str_eq(s[4].path, "Title/Notes/Setup");
    ck_assert_str_eq(s[2].slug, "setup"); /* same title, different parents */
    ck_assert_str_eq(s[4].slug, "setup");
    ck_assert_str_eq(s[5].slug, "notes-2"); /* same title, same parent */
    ck_assert_str_eq(s[6].title, "Setext Heading");
    ck_assert_uint_eq(s[6].line, 17);
    ck_assert_str_eq(s[7].title, "");
    ck_assert_uint_eq(s[7].line, 32);
    ck_assert_str_eq(s[8].title, "Code and emphasis in a title");
    ck_assert_ptr_nonnull(doc->md.preamble);
    ck_assert_str_eq(doc->md.preamble->text, "Preamble paragraph.");
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

START_TEST(block_sources)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("markdown/blocks.md", 0, d);
    const struct roster_section *c = find(doc, "Core Competencies");
    ck_assert_ptr_nonnull(c);
    const struct roster_block *ul = c->blocks;
    ck_assert_int_eq(ul->kind, ROSTER_BLOCK_UL);
    const char *want[] = {"**Plain Name**: plain description",
                          "**Colon Inside:** described",
                          "__Underscores__ - dashed description",
                          "No bold label here",
                          "**Multi** line item that continues on the next line",
                          "**Task Item**: a task"};
    int i = 0;
    for (const struct roster_block *li = ul->first; li; li = li->next, i++)
        ck_assert_str_eq(li->first->text, want[i]);
    ck_assert_int_eq(i, 6);
    const struct roster_section *t = find(doc, "Table");
    const struct roster_block *table = t->blocks;
    ck_assert_int_eq(table->kind, ROSTER_BLOCK_TABLE);
    const struct roster_block *row = table->first;
    ck_assert_int_eq(row->header, 1);
    ck_assert_str_eq(row->first->text, "Name");
    row = row->next;
    ck_assert_str_eq(row->first->text, "a | b");
    ck_assert_str_eq(row->first->next->text, "`x`");
    row = row->next;
    ck_assert_str_eq(row->first->text, "**bold**");
    ck_assert_str_eq(row->first->next->text, "");
    const struct roster_block *quote = table->next;
    ck_assert_int_eq(quote->kind, ROSTER_BLOCK_QUOTE);
    ck_assert_str_eq(quote->first->text, "quoted paragraph continues");
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

START_TEST(nesting_limits)
{
    const char *files[] = {"markdown/deep-list.md", "markdown/deep-quote.md"};
    for (int i = 0; i < 2; i++) {
        struct roster_diags *d = roster_diags_new();
        struct roster_doc *doc = parse(files[i], 0, d);
        ck_assert_int_eq(doc->failed, 1);
        ck_assert(has_diag(d, "markdown.too_deep", 0));
        roster_doc_free(doc);
        roster_diags_free(d);
    }
}
END_TEST

START_TEST(section_and_repair_limits)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("markdown/too-many-sections.md", 0, d);
    ck_assert_int_eq(doc->failed, 1);
    ck_assert(has_diag(d, "markdown.too_many_sections", 0));
    roster_doc_free(doc);
    roster_diags_free(d);
    d = roster_diags_new();
    doc = parse("markdown/repair-limit.md", 0, d);
    ck_assert_int_eq(doc->failed, 0);
    ck_assert_uint_eq(count_code(d, "markdown.fence_info_closer"), ROSTER_MD_MAX_REPAIRS);
    ck_assert(has_diag(d, "markdown.fence_repair_limit", 261));
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

START_TEST(empty_body)
{
    struct roster_diags *d = roster_diags_new();
    struct roster_doc *doc = parse("markdown/empty-body.md", 0, d);
    ck_assert_int_eq(doc->failed, 0);
    ck_assert_uint_eq(doc->md.nsections, 0);
    roster_doc_free(doc);
    roster_diags_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("markdown");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, seed_fence_repairs);
    tcase_add_test(tc, strict_markdown_swallows);
    tcase_add_test(tc, longer_outer_fence_is_untouched);
    tcase_add_test(tc, repair_only_when_it_helps);
    tcase_add_test(tc, section_tree);
    tcase_add_test(tc, block_sources);
    tcase_add_test(tc, nesting_limits);
    tcase_add_test(tc, section_and_repair_limits);
    tcase_add_test(tc, empty_body);
    tcase_add_test(tc, unclosed_fence_recovery);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
