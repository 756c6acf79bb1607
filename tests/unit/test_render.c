/* Rendering and snapshots: CRLF and LF give the same bytes, views wrap
 * the profile, ETags and gzip, last-known-good across snapshots. */
#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "roster_base.h"
#include "roster_render.h"
#include "roster_snapshot.h"
#include "roster_text.h"
#include "util.h"

static void copy_crlf(const char *dir, const char *src, const char *name)
{
    size_t n;
    char *data = read_all(src, &n);
    ck_assert_ptr_nonnull(data);
    struct roster_buf b;
    roster_buf_init(&b, 4 * n + 16);
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n')
            roster_buf_putc(&b, '\r');
        roster_buf_putc(&b, data[i]);
    }
    put_file(dir, name, b.data);
    roster_buf_release(&b);
    roster_free(data);
}

/* The one diagnostic of a list: its code and file position. */
static void expect_one_diag(const json_t *diags, const char *code, const char *file,
                            json_int_t line, json_int_t col)
{
    ck_assert_uint_eq(json_array_size(diags), 1);
    const json_t *g = json_array_get(diags, 0);
    ck_assert_str_eq(json_string_value(json_object_get(g, "severity")), "error");
    ck_assert_str_eq(json_string_value(json_object_get(g, "code")), code);
    ck_assert_str_eq(json_string_value(json_object_get(g, "file")), file);
    ck_assert_int_eq(json_integer_value(json_object_get(g, "line")), line);
    ck_assert_int_eq(json_integer_value(json_object_get(g, "column")), col);
}

static json_t *body_json(const struct roster_rep *r)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(crlf_renders_identically)
{
    char *dir = temp_dir();
    copy_crlf(dir, fixture("../../profiles/worker-devops.md"), "worker-devops.md");
    copy_crlf(dir, fixture("../../profiles/base.md"), "base.md");
    struct roster_snapshot *lf = snapshot_build(fixture("../../profiles"), 1, NULL);
    struct roster_snapshot *crlf = snapshot_build(dir, 1, NULL);
    const struct roster_sprofile *a = roster_snapshot_find(lf, "worker-devops", 13);
    const struct roster_sprofile *b = roster_snapshot_find(crlf, "worker-devops", 13);
    ck_assert(a && b && a->ok && b->ok);
    for (int v = ROSTER_VIEW_ROLE; v < ROSTER_VIEW_SOURCE; v++) {
        const struct roster_rep *ra = rep_of(lf, a, v), *rb = rep_of(crlf, b, v);
        ck_assert_uint_eq(ra->len, rb->len);
        ck_assert_int_eq(memcmp(ra->body, rb->body, ra->len), 0);
    }
    /* the full profile differs only in source.sha256, and so in its digest */
    json_t *ja = body_json(rep_of(lf, a, ROSTER_VIEW_PROFILE));
    json_t *jb = body_json(rep_of(crlf, b, ROSTER_VIEW_PROFILE));
    ck_assert_str_ne(json_string_value(json_object_get(json_object_get(ja, "source"), "sha256")),
                     json_string_value(json_object_get(json_object_get(jb, "source"), "sha256")));
    ck_assert_str_ne(json_string_value(json_object_get(ja, "digest")),
                     json_string_value(json_object_get(jb, "digest")));
    json_object_del(ja, "source");
    json_object_del(jb, "source");
    json_object_del(ja, "digest");
    json_object_del(jb, "digest");
    ck_assert(json_equal(ja, jb));
    ck_assert_ptr_null(memchr(rep_of(crlf, b, ROSTER_VIEW_PROFILE)->body, '\r',
                              rep_of(crlf, b, ROSTER_VIEW_PROFILE)->len));
    json_decref(ja);
    json_decref(jb);
    roster_snapshot_unref(lf);
    roster_snapshot_unref(crlf);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(views_etags_gzip)
{
    struct roster_snapshot *s = snapshot_build(fixture("../../profiles"), 7, NULL);
    const struct roster_sprofile *p = roster_snapshot_find(s, "worker-devops", 13);
    json_t *view = body_json(rep_of(s, p, ROSTER_VIEW_TOOL_PRIORITIES));
    ck_assert_uint_eq(json_object_size(view), 2);
    ck_assert_str_eq(json_string_value(json_object_get(view, "id")), "worker-devops");
    ck_assert_uint_eq(json_array_size(json_object_get(view, "tool_priorities")), 4);
    json_decref(view);
    const struct roster_rep *r = rep_of(s, p, ROSTER_VIEW_PROFILE);
    ck_assert(r->body[r->len - 1] == '\n');
    /* strong ETags from the lineage digest and the representation, never
     * the generation: known before rendering, the same in every snapshot */
    char hex[65], want[100], in[200];
    snprintf(in, sizeof(in), "%s:profile", p->key);
    roster_sha256_hex(in, strlen(in), hex);
    snprintf(want, sizeof(want), "\"%.32s\"", hex);
    ck_assert_str_eq(r->etag, want);
    snprintf(want, sizeof(want), "\"%.32s-gz\"", hex);
    ck_assert_str_eq(r->etag_gz, want);
    char known[100];
    roster_sprofile_etag(p, ROSTER_VIEW_PROFILE, 1, known, sizeof(known));
    ck_assert_str_eq(known, r->etag_gz);
    /* another generation of the same files: the same digest and ETags */
    struct roster_snapshot *again = snapshot_build(fixture("../../profiles"), 8, NULL);
    const struct roster_sprofile *p2 = roster_snapshot_find(again, "worker-devops", 13);
    ck_assert_str_eq(p2->key, p->key);
    ck_assert_str_eq(rep_of(again, p2, ROSTER_VIEW_PROFILE)->etag, r->etag);
    roster_snapshot_unref(again);
    /* gzip is made on first use, once: the same buffer the second time */
    ck_assert_ptr_null(atomic_load(&((struct roster_rep *)(uintptr_t)r)->gz));
    const struct roster_gz *gz = NULL, *gz2 = NULL;
    ck_assert_int_eq(roster_rep_gzip(r, &gz), 0);
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(roster_rep_gzip(r, &gz2), 0);
    ck_assert_ptr_eq(gz, gz2);
    char *plain = malloc(r->len);
    uLongf n = r->len;
    z_stream z = {0};
    inflateInit2(&z, 31);
    z.next_in = (Bytef *)(uintptr_t)gz->data;
    z.avail_in = (uInt)gz->len;
    z.next_out = (Bytef *)plain;
    z.avail_out = (uInt)n;
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(z.total_out, r->len);
    ck_assert_int_eq(memcmp(plain, r->body, r->len), 0);
    inflateEnd(&z);
    free(plain);
    ck_assert_str_eq(rep_of(s, p, ROSTER_VIEW_PROMPT)->ctype, "text/markdown; charset=utf-8");
    json_t *pj = body_json(rep_of(s, p, ROSTER_REP_PROMPT_JSON));
    const struct roster_rep *pr = rep_of(s, p, ROSTER_VIEW_PROMPT);
    json_t *prompt = json_object_get(pj, "prompt");
    ck_assert_uint_eq(json_string_length(prompt), pr->len);
    ck_assert_int_eq(memcmp(json_string_value(prompt), pr->body, pr->len), 0);
    roster_sha256_hex(pr->body, pr->len, hex);
    ck_assert_str_eq(json_string_value(json_object_get(pj, "sha256")), hex);
    ck_assert_str_eq(json_string_value(json_object_get(pj, "id")), "worker-devops");
    json_decref(pj);
    ck_assert_uint_eq(s->served, 3);
    roster_snapshot_unref(s);
}
END_TEST

/* Scope keeps the items whose "from" is (own) or is not (inherited) the
 * profile; the two partition every list; all is the profile itself. */
START_TEST(scope_partitions_items)
{
    struct roster_snapshot *s = snapshot_build(fixture("../../profiles"), 1, NULL);
    json_t *whole = profile_of(s, roster_snapshot_find(s, "worker-sre", 10));
    json_t *own = roster_render_scoped(whole, ROSTER_SCOPE_OWN);
    json_t *inh = roster_render_scoped(whole, ROSTER_SCOPE_INHERITED);
    json_t *all = roster_render_scoped(whole, ROSTER_SCOPE_ALL);
    ck_assert(json_equal(all, whole));
    const char *keys[] = {"competencies", "work_patterns", "tool_priorities", "output_standards",
                          "sections"};
    for (size_t k = 0; k < 5; k++) {
        json_t *a = json_object_get(whole, keys[k]), *o = json_object_get(own, keys[k]);
        json_t *i = json_object_get(inh, keys[k]);
        ck_assert_uint_eq(json_array_size(o) + json_array_size(i), json_array_size(a));
        size_t x;
        json_t *item;
        json_array_foreach(o, x, item)
            ck_assert_str_eq(json_string_value(json_object_get(item, "from")), "worker-sre");
        json_array_foreach(i, x, item)
            ck_assert_str_ne(json_string_value(json_object_get(item, "from")), "worker-sre");
    }
    /* sre owns its tools, inherits the competencies, and both anti-pattern kinds */
    ck_assert_uint_eq(json_array_size(json_object_get(own, "tool_priorities")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(own, "competencies")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(inh, "competencies")), 8);
    json_t *oa = json_object_get(json_object_get(own, "anti_patterns"), "avoid");
    json_t *ia = json_object_get(json_object_get(inh, "anti_patterns"), "avoid");
    ck_assert_uint_eq(json_array_size(oa), 3);
    ck_assert_uint_eq(json_array_size(ia), 8);
    enum roster_scope sc;
    ck_assert_int_eq(roster_scope_parse("inherited", &sc), 0);
    ck_assert_int_eq(sc, ROSTER_SCOPE_INHERITED);
    ck_assert_int_lt(roster_scope_parse("mine", &sc), 0);
    ck_assert(roster_scope_applies(ROSTER_VIEW_SECTIONS) &&
              !roster_scope_applies(ROSTER_VIEW_ROLE));
    json_decref(own);
    json_decref(inh);
    json_decref(all);
    json_decref(whole);
    roster_snapshot_unref(s);
}
END_TEST

START_TEST(last_known_good)
{
    char *dir = temp_dir();
    put_file(dir, "a.md", "---\nid: a\nname: A\n---\n# A\n\nGood.\n");
    put_file(dir, "b.md", "---\nid: b\nextends: a\n---\n# B\n\nChild.\n");
    struct roster_snapshot *s1 = snapshot_build(dir, 1, NULL);
    put_file(dir, "a.md", "---\nid: a\nname: [broken\n---\n# A\n");
    struct roster_snapshot *s2 = snapshot_build(dir, 2, s1);
    const struct roster_sprofile *a = roster_snapshot_find(s2, "a", 1);
    ck_assert(a->ok && a->stale);
    json_t *j = body_json(rep_of(s2, a, ROSTER_VIEW_PROFILE));
    ck_assert(json_is_true(json_object_get(j, "stale")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "A");
    /* "name: [broken" never closes: reported where the '[' opens */
    expect_one_diag(json_object_get(j, "diagnostics"), "frontmatter.syntax", "a.md", 3, 7);
    ck_assert(json_equal(json_object_get(j, "diagnostics"), a->diagnostics));
    json_decref(j);
    /* the child keeps its last good version too */
    const struct roster_sprofile *b = roster_snapshot_find(s2, "b", 1);
    ck_assert(b->ok && b->stale);
    expect_one_diag(b->diagnostics, "extends.parent_invalid", "b.md", 3, 1);
    ck_assert_uint_eq(s2->stale, 2);
    ck_assert_uint_eq(s2->served, 2);
    ck_assert_uint_eq(s2->invalid, 0);
    /* fixed: fresh again; deleted: gone */
    put_file(dir, "a.md", "---\nid: a\nname: A2\n---\n# A\n\nGood.\n");
    struct roster_snapshot *s3 = snapshot_build(dir, 3, s2);
    const struct roster_sprofile *a3 = roster_snapshot_find(s3, "a", 1);
    ck_assert(a3->ok && !a3->stale);
    json_t *j3 = profile_of(s3, a3);
    ck_assert_str_eq(json_string_value(json_object_get(j3, "name")), "A2");
    json_decref(j3);
    ck_assert_uint_eq(json_array_size(a3->diagnostics), 0);
    ck_assert_uint_eq(s3->stale, 0);
    ck_assert_uint_eq(s3->served, 2);
    char path[512];
    snprintf(path, sizeof(path), "%s/b.md", dir);
    remove(path);
    struct roster_snapshot *s4 = snapshot_build(dir, 4, s3);
    ck_assert_ptr_null(roster_snapshot_find(s4, "b", 1));
    roster_snapshot_unref(s1);
    roster_snapshot_unref(s2);
    roster_snapshot_unref(s3);
    roster_snapshot_unref(s4);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(never_valid_is_invalid)
{
    struct roster_snapshot *s = snapshot_build(fixture("trees/broken"), 1, NULL);
    ck_assert_uint_eq(s->served, 1);
    const struct roster_sprofile *k = roster_snapshot_find(s, "kid", 3);
    ck_assert(k && !k->ok);
    /* dup-key.md's front matter is refused, so its id is the file stem
     * "dup-key" and kid's parent "broken-dup" does not exist */
    expect_one_diag(k->diagnostics, "extends.missing", "kid.md", 3, 1);
    /* one error in each of the five broken files, and deep-list.md has no id */
    ck_assert_uint_eq(s->diag_counts[0], 5);
    ck_assert_uint_eq(s->diag_counts[1], 1);
    ck_assert_uint_eq(s->diag_counts[2], 0);
    ck_assert_uint_eq(json_array_size(s->diag_items), 6);
    ck_assert_uint_eq(s->n, 6);
    ck_assert_uint_eq(s->invalid, 5);
    ck_assert_uint_eq(s->stale, 0);
    roster_snapshot_unref(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crlf_renders_identically);
    tcase_add_test(tc, views_etags_gzip);
    tcase_add_test(tc, last_known_good);
    tcase_add_test(tc, scope_partitions_items);
    tcase_add_test(tc, never_valid_is_invalid);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
