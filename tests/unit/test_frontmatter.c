/* Front matter: splitting, typing (YAML 1.2 core schema), every refusal
 * and limit, each with a fixture file. */
#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_frontmatter.h"
#include "roster_text.h"
#include "util.h"

/* Normalizes a fixture and parses its front matter; returns the result
 * code and fills err / *out. */
static int parse_fixture(const char *name, json_t **out, struct roster_error *err)
{
    size_t n, tn;
    char *raw = read_all(fixture(name), &n), *text = NULL;
    ck_assert_ptr_nonnull(raw);
    ck_assert_int_eq(roster_text_normalize(raw, n, &text, &tn), 0);
    roster_error_clear(err);
    struct roster_fm_split sp;
    int r = roster_frontmatter_split(text, tn, &sp, err);
    if (r == 0) {
        ck_assert_int_eq(sp.present, 1);
        r = roster_frontmatter_parse(out, text + sp.fm_off, sp.fm_len, sp.fm_line, err);
    }
    roster_free(raw);
    roster_free(text);
    return r;
}

/* The refusal's code, result, file line and column (1-based, of the token
 * that is refused, or where the YAML parser gave up) and message. */
static void expect_refusal(const char *name, const char *code, int result, unsigned line,
                           unsigned col, const char *msg)
{
    json_t *v = NULL;
    struct roster_error err;
    int r = parse_fixture(name, &v, &err);
    ck_assert_msg(r == result, "%s: result %d, expected %d", name, r, result);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(err.diag);
    ck_assert_str_eq(err.diag, code);
    ck_assert_int_eq(err.code, result);
    ck_assert_msg(err.line == line && err.col == col, "%s: at %u:%u, expected %u:%u", name,
                  err.line, err.col, line, col);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(types_core_schema)
{
    json_t *v = NULL;
    struct roster_error err;
    ck_assert_int_eq(parse_fixture("frontmatter/types.md", &v, &err), 0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "quoted")), "1.0");
    ck_assert_str_eq(json_string_value(json_object_get(v, "single")), "2");
    ck_assert(json_is_integer(json_object_get(v, "plain_int")));
    ck_assert_int_eq(json_integer_value(json_object_get(v, "plain_int")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "neg")), -7);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "hex")), 31);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "oct")), 15);
    ck_assert(json_is_real(json_object_get(v, "float")));
    ck_assert(json_real_value(json_object_get(v, "float")) == 1.5);
    ck_assert(json_is_real(json_object_get(v, "exp")));
    ck_assert(json_real_value(json_object_get(v, "exp")) == 2000.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "yes_word")), "yes");
    ck_assert_str_eq(json_string_value(json_object_get(v, "no_word")), "no");
    ck_assert_str_eq(json_string_value(json_object_get(v, "on_word")), "on");
    ck_assert_str_eq(json_string_value(json_object_get(v, "date")), "2024-01-02");
    ck_assert(json_is_true(json_object_get(v, "t")));
    ck_assert(json_is_false(json_object_get(v, "f")));
    ck_assert(json_is_null(json_object_get(v, "n1")));
    ck_assert(json_is_null(json_object_get(v, "n2")));
    ck_assert(json_is_null(json_object_get(v, "n3")));
    ck_assert_str_eq(json_string_value(json_object_get(v, "inf")), ".inf");
    ck_assert_str_eq(json_string_value(json_object_get(v, "big")), "99999999999999999999");
    json_t *list = json_object_get(v, "list");
    ck_assert_int_eq(json_array_size(list), 3);
    ck_assert_str_eq(json_string_value(json_array_get(list, 0)), "a");
    ck_assert(json_is_integer(json_array_get(list, 1)));
    ck_assert_int_eq(json_integer_value(json_array_get(list, 1)), 1);
    ck_assert(json_is_true(json_array_get(list, 2)));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "map"), "inner")), "x");
    ck_assert_uint_eq(json_object_size(json_object_get(v, "map")), 2);
    json_t *deeper = json_object_get(json_object_get(v, "map"), "deeper");
    ck_assert_str_eq(json_string_value(json_object_get(deeper, "k")), "v");
    ck_assert_str_eq(json_string_value(json_object_get(v, "str_tag")), "123");
    ck_assert_str_eq(json_string_value(json_object_get(v, "bang")), "456");
    ck_assert_str_eq(json_string_value(json_object_get(v, "lit")), "line one\nline two\n");
    /* every key is kept, in file order */
    const char *first = json_object_iter_key(json_object_iter(v));
    ck_assert_str_eq(first, "id");
    ck_assert_int_eq(json_object_size(v), 25);
    json_decref(v);
}
END_TEST

START_TEST(empty_front_matter_is_empty_object)
{
    json_t *v = NULL;
    struct roster_error err;
    ck_assert_int_eq(parse_fixture("frontmatter/empty.md", &v, &err), 0);
    ck_assert(json_is_object(v));
    ck_assert_int_eq(json_object_size(v), 0);
    json_decref(v);
}
END_TEST

START_TEST(depth_within_limit)
{
    json_t *v = NULL;
    struct roster_error err;
    ck_assert_int_eq(parse_fixture("frontmatter/deep-ok.md", &v, &err), 0);
    json_decref(v);
}
END_TEST

START_TEST(refusals)
{
    static const char anchors[] = "anchors (&name) are not allowed in front matter";
    /* "a: 3" repeats line 3's key */
    expect_refusal("frontmatter/duplicate-key.md", "frontmatter.duplicate_key", ROSTER_EINVAL, 5, 1,
                   "duplicate key 'a'");
    /* "base: &anchor": the '&' */
    expect_refusal("frontmatter/anchor.md", "frontmatter.anchor", ROSTER_EINVAL, 3, 7, anchors);
    /* "other: *ref": the '*' */
    expect_refusal("frontmatter/alias.md", "frontmatter.alias", ROSTER_EINVAL, 4, 8,
                   "aliases (*name) are not allowed in front matter");
    /* "a: &a [...]": refused at the first anchor, before any alias expands */
    expect_refusal("frontmatter/alias-bomb.md", "frontmatter.anchor", ROSTER_EINVAL, 3, 4, anchors);
    /* "obj: !!python/object:os.system": the tag */
    expect_refusal("frontmatter/tag-mapping.md", "frontmatter.tag", ROSTER_EINVAL, 3, 6,
                   "tags are not allowed on mappings or sequences in front matter");
    expect_refusal("frontmatter/tag-scalar.md", "frontmatter.tag", ROSTER_EINVAL, 3, 6,
                   "tags other than plain strings are not allowed in front matter");
    /* "? [a, b]": the '[' */
    expect_refusal("frontmatter/nonscalar-key.md", "frontmatter.non_scalar_key", ROSTER_EINVAL, 3,
                   3, "mapping keys must be scalars");
    expect_refusal("frontmatter/second-document.md", "frontmatter.multiple_documents",
                   ROSTER_EINVAL, 3, 1, "front matter must be a single YAML document");
    expect_refusal("frontmatter/unclosed.md", "frontmatter.unclosed", ROSTER_EINVAL, 1, 1,
                   "front matter opened by '---' on line 1 is never closed (expected a line '---' "
                   "or '...')");
    expect_refusal("frontmatter/not-mapping.md", "frontmatter.not_mapping", ROSTER_EINVAL, 2, 1,
                   "front matter must be a mapping of keys to values");
    /* "key: [unclosed" on line 3: libyaml gives up where the slice ends,
     * the start of the closing '---' line; the mistake is the '[' */
    expect_refusal("frontmatter/syntax-error.md", "frontmatter.syntax", ROSTER_EINVAL, 3, 6,
                   "YAML syntax error: the '[' here is never closed (the parser gave up on line "
                   "4: did not find expected ',' or ']'); hint: close the list with ']', or "
                   "quote the value if the '[' is text");
}
END_TEST

START_TEST(limits)
{
    static const char deep[] = "front matter nesting is deeper than 32 levels";
    /* "k: [[[...": the root mapping is level 1, the 32nd '[' (column 4 + 31)
     * would be level 33 */
    expect_refusal("frontmatter/too-deep.md", "frontmatter.too_deep", ROSTER_E2BIG, 3, 35, deep);
    expect_refusal("frontmatter/too-large.md", "frontmatter.too_large", ROSTER_E2BIG, 1, 1,
                   "front matter is over the limit of 65536 bytes");
    /* event 10,001 is the 9,994th '1' of "k: [1,1,...": column 5 + 2 * 9993 */
    expect_refusal("frontmatter/too-many-nodes.md", "frontmatter.too_many_nodes", ROSTER_E2BIG, 3,
                   19991, "front matter has too many nodes");
    /* 60,000 nested '[' would take libyaml minutes; the cap stops it at 33 */
    expect_refusal("frontmatter/flow-deep.md", "frontmatter.too_deep", ROSTER_E2BIG, 3, 35, deep);
}
END_TEST

START_TEST(split_variants)
{
    struct roster_fm_split sp;
    struct roster_error err;
    const char *none = "# No front matter\n";
    ck_assert_int_eq(roster_frontmatter_split(none, strlen(none), &sp, &err), 0);
    ck_assert_int_eq(sp.present, 0);
    ck_assert_uint_eq(sp.body_off, 0);
    ck_assert_uint_eq(sp.body_line, 1);
    const char *dots = "---\nid: a\n...\nbody\n";
    ck_assert_int_eq(roster_frontmatter_split(dots, strlen(dots), &sp, &err), 0);
    ck_assert_int_eq(sp.present, 1);
    ck_assert_uint_eq(sp.fm_off, 4);
    ck_assert_uint_eq(sp.fm_len, 6); /* "id: a\n" */
    ck_assert_uint_eq(sp.fm_line, 2);
    ck_assert_uint_eq(sp.body_off, 14);
    ck_assert_uint_eq(sp.body_line, 4);
    ck_assert_str_eq(dots + sp.body_off, "body\n");
    const char *trailing = "---  \nid: a\n---\t\n";
    ck_assert_int_eq(roster_frontmatter_split(trailing, strlen(trailing), &sp, &err), 0);
    ck_assert_int_eq(sp.present, 1);
    ck_assert_uint_eq(sp.fm_off, 6);
    ck_assert_uint_eq(sp.fm_len, 6);
    ck_assert_uint_eq(sp.fm_line, 2);
    ck_assert_uint_eq(sp.body_off, strlen(trailing)); /* an empty body */
    ck_assert_uint_eq(sp.body_line, 4);
    const char *hr = "----\n";
    ck_assert_int_eq(roster_frontmatter_split(hr, strlen(hr), &sp, &err), 0);
    ck_assert_int_eq(sp.present, 0);
    ck_assert_uint_eq(sp.body_off, 0);
    ck_assert_uint_eq(sp.body_line, 1);
}
END_TEST

START_TEST(error_lines_are_file_lines)
{
    const char *y = "a: 1\nb: [\n";
    json_t *v = NULL;
    struct roster_error err;
    roster_error_clear(&err);
    ck_assert_int_eq(roster_frontmatter_parse(&v, y, strlen(y), 10, &err), ROSTER_EINVAL);
    ck_assert_ptr_null(v);
    ck_assert_str_eq(err.diag, "frontmatter.syntax");
    /* the slice's lines are file lines 10 and 11; libyaml gives up at the
     * end of the slice, the start of line 12, and the '[' that never
     * closes is on line 11 */
    ck_assert_uint_eq(err.line, 11);
    ck_assert_uint_eq(err.col, 4);
    ck_assert_ptr_nonnull(strstr(err.msg, "(the parser gave up on line 12: "));
    /* and a refused token is reported on its own file line and column */
    const char *dup = "id: x\nlist: [a]\n  # note\nid: y\n";
    roster_error_clear(&err);
    ck_assert_int_eq(roster_frontmatter_parse(&v, dup, strlen(dup), 7, &err), ROSTER_EINVAL);
    ck_assert_str_eq(err.diag, "frontmatter.duplicate_key");
    ck_assert_uint_eq(err.line, 10);
    ck_assert_uint_eq(err.col, 1);
    const char *tag = "a: 1\nb:\n  c: !!int 3\n";
    roster_error_clear(&err);
    ck_assert_int_eq(roster_frontmatter_parse(&v, tag, strlen(tag), 2, &err), ROSTER_EINVAL);
    ck_assert_str_eq(err.diag, "frontmatter.tag");
    ck_assert_uint_eq(err.line, 4);
    ck_assert_uint_eq(err.col, 6);
}
END_TEST

/* A YAML mistake is reported on the line that has it, with a hint. */
START_TEST(syntax_hints)
{
    static const char tab[] = "; hint: this line is indented with a tab: YAML indents with spaces";
    /* "\t- a": libyaml stops at the tab itself */
    expect_refusal("frontmatter/yaml-tab.md", "frontmatter.syntax", ROSTER_EINVAL, 4, 1,
                   "YAML syntax error: found character that cannot start any token while "
                   "scanning for the next token; hint: this line is indented with a tab: YAML "
                   "indents with spaces");
    /* "  \tb: 2": the tab after two spaces (column 3), not where libyaml
     * complained (column 1) */
    json_t *v = NULL;
    struct roster_error err;
    ck_assert_int_eq(parse_fixture("frontmatter/yaml-tab-nested.md", &v, &err), ROSTER_EINVAL);
    ck_assert_uint_eq(err.line, 5);
    ck_assert_uint_eq(err.col, 3);
    ck_assert_ptr_nonnull(strstr(err.msg, tab));
    /* "tags: [a, b" then "name: y": the '[' on line 3, not line 4 where
     * libyaml gave up */
    expect_refusal("frontmatter/yaml-unclosed-list.md", "frontmatter.syntax", ROSTER_EINVAL, 3, 7,
                   "YAML syntax error: the '[' here is never closed (the parser gave up on line "
                   "4: did not find expected ',' or ']'); hint: close the list with ']', or "
                   "quote the value if the '[' is text");
    expect_refusal("frontmatter/yaml-unclosed-map.md", "frontmatter.syntax", ROSTER_EINVAL, 3, 7,
                   "YAML syntax error: the '{' here is never closed (the parser gave up on line "
                   "5: did not find expected ',' or '}'); hint: close the mapping with '}', or "
                   "quote the value if the '{' is text");
    /* the inner [b, c] closes; "d]" is quoted and "# f]" a comment: the
     * outer '[' is the one left open */
    expect_refusal("frontmatter/yaml-unclosed-nested.md", "frontmatter.syntax", ROSTER_EINVAL, 3, 7,
                   "YAML syntax error: the '[' here is never closed (the parser gave up on line "
                   "4: did not find expected ',' or ']'); hint: close the list with ']', or "
                   "quote the value if the '[' is text");
    /* "description: Use this: for that # why": the second ': ' */
    expect_refusal("frontmatter/yaml-colon.md", "frontmatter.syntax", ROSTER_EINVAL, 3, 22,
                   "YAML syntax error: mapping values are not allowed in this context; hint: a "
                   "value that contains ': ' must be quoted: description: \"Use this: for "
                   "that\"");
}
END_TEST

/* Hints from slices, where no fixture is needed. */
START_TEST(syntax_hints_inline)
{
    static const struct {
        const char *yaml;
        unsigned line, col;
        const char *tail; /* the message ends with it */
    } cases[] = {
        /* a list item whose value has a second ': ' */
        {"list:\n  - a: b: c\n", 2, 9, "must be quoted: a: \"b: c\""},
        /* a value with quotes in it: no rewrite to suggest */
        {"d: say \"x\": y\n", 1, 11, "; hint: a value that contains ': ' must be quoted"},
        /* the first ': ' of an over-indented line is no value's colon */
        {"a: x\n  b: y\n", 2, 4, "mapping values are not allowed in this context"},
        /* a block list left open to the end of the block */
        {"tags: [\n  a,\n  b,\n", 1, 7,
         "close the list with ']', or quote the value if the "
         "'[' is text"},
        /* closed by the wrong bracket: the '{' is the one never closed */
        {"t: [a, {b: 1]\nn: y\n", 1, 8,
         "close the mapping with '}', or quote the value if "
         "the '{' is text"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = NULL;
        struct roster_error err;
        roster_error_clear(&err);
        const char *y = cases[i].yaml;
        ck_assert_int_eq(roster_frontmatter_parse(&v, y, strlen(y), 1, &err), ROSTER_EINVAL);
        ck_assert_str_eq(err.diag, "frontmatter.syntax");
        ck_assert_msg(err.line == cases[i].line && err.col == cases[i].col,
                      "case %zu: at %u:%u, expected %u:%u (%s)", i, err.line, err.col,
                      cases[i].line, cases[i].col, err.msg);
        size_t n = strlen(err.msg), t = strlen(cases[i].tail);
        ck_assert_msg(n >= t && strcmp(err.msg + n - t, cases[i].tail) == 0, "case %zu: %s", i,
                      err.msg);
    }
}
END_TEST

/* name, category, description, version and role keep a plain number's
 * text, with a warning each; other keys keep the core schema's types. */
START_TEST(numbers_keep_their_text)
{
    size_t n, tn;
    char *raw = read_all(fixture("frontmatter/numbers-as-text.md"), &n), *text = NULL;
    ck_assert_int_eq(roster_text_normalize(raw, n, &text, &tn), 0);
    struct roster_fm_split sp;
    struct roster_error err;
    ck_assert_int_eq(roster_frontmatter_split(text, tn, &sp, &err), 0);
    struct roster_diags *d = roster_diags_new();
    struct roster_fm_opts fo = {.file = "n.md", .diags = d};
    json_t *v = NULL;
    ck_assert_int_eq(
        roster_frontmatter_parse_opts(&v, text + sp.fm_off, sp.fm_len, sp.fm_line, &fo, &err), 0);
    static const struct {
        const char *key, *text;
        unsigned line, col;
    } kept[] = {{"name", "2", 3, 7},
                {"category", "0x1F", 4, 11},
                {"description", "1e3", 5, 14},
                {"version", "1.10", 6, 10},
                {"role", "-0.5", 7, 7}};
    ck_assert_uint_eq(roster_diags_count(d), 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(json_string_value(json_object_get(v, kept[i].key)), kept[i].text);
        const struct roster_diag *g = roster_diags_get(d, i);
        ck_assert_str_eq(g->code, "frontmatter.number_as_string");
        ck_assert_int_eq(g->severity, ROSTER_SEV_WARNING);
        ck_assert_str_eq(g->file, "n.md");
        ck_assert_uint_eq(g->line, kept[i].line);
        ck_assert_uint_eq(g->col, kept[i].col);
    }
    ck_assert_str_eq(roster_diags_get(d, 3)->message,
                     "version: 1.10 is a number in YAML; it is kept as the text \"1.10\": quote "
                     "it (version: \"1.10\")");
    /* other keys, and the same keys below the top level, are numbers */
    ck_assert(json_is_real(json_object_get(v, "level")));
    ck_assert_str_eq(json_string_value(json_object_get(v, "quoted")), "1.10");
    json_t *meta = json_object_get(v, "metadata");
    ck_assert(json_is_real(json_object_get(meta, "version")));
    ck_assert(json_real_value(json_object_get(meta, "temperature")) == 0.7);
    json_decref(v);
    /* warnings only for a block that parses */
    const char *bad = "version: 1.10\ntags: [a\n";
    roster_error_clear(&err);
    v = NULL;
    ck_assert_int_eq(roster_frontmatter_parse_opts(&v, bad, strlen(bad), 2, &fo, &err),
                     ROSTER_EINVAL);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(roster_diags_count(d), 5);
    roster_diags_free(d);
    roster_free(raw);
    roster_free(text);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("frontmatter");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, types_core_schema);
    tcase_add_test(tc, empty_front_matter_is_empty_object);
    tcase_add_test(tc, depth_within_limit);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, split_variants);
    tcase_add_test(tc, error_lines_are_file_lines);
    tcase_add_test(tc, syntax_hints);
    tcase_add_test(tc, syntax_hints_inline);
    tcase_add_test(tc, numbers_keep_their_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
