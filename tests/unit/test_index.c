/* The index: directory walk, symbolic links, special files, unreadable
 * files, duplicate ids, size limits; broken files never hide good ones. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_resolve.h"
#include "roster_scan.h"
#include "util.h"

static struct roster_index *load(const char *dir)
{
    struct roster_index *ix = NULL;
    struct roster_error err;
    roster_error_clear(&err);
    ck_assert_int_eq(roster_scan_dir(&ix, dir, NULL, &err), 0);
    return ix;
}

START_TEST(missing_directory_fails)
{
    struct roster_index *ix = NULL;
    struct roster_error err;
    roster_error_clear(&err);
    ck_assert_int_lt(roster_scan_dir(&ix, "/nonexistent/roster", NULL, &err), 0);
    ck_assert_ptr_null(ix);
    ck_assert(strstr(err.msg, "/nonexistent/roster") != NULL);
}
END_TEST

START_TEST(symlinks_hidden_and_other_files)
{
    struct roster_index *ix = load(fixture("trees/symlinks"));
    ck_assert_uint_eq(ix->ndocs, 1); /* inside.md, through a hidden store */
    ck_assert_str_eq(ix->docs[0]->relpath, "inside.md");
    ck_assert_str_eq(ix->docs[0]->id, "inside-target");
    ck_assert(has_diag(ix->diags, "file.symlink_outside", 0));
    ck_assert(has_diag(ix->diags, "file.symlink_loop", 0));
    ck_assert(has_diag(ix->diags, "file.symlink_broken", 0));
    roster_index_free(ix);
}
END_TEST

START_TEST(fifo_is_skipped)
{
    char *dir = temp_dir();
    put_file(dir, "ok.md", "---\nid: ok\n---\n# Ok\n");
    char path[512];
    snprintf(path, sizeof(path), "%s/pipe.md", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    struct roster_index *ix = load(dir); /* must not block on the FIFO */
    ck_assert_uint_eq(ix->ndocs, 1);
    ck_assert(has_diag(ix->diags, "file.not_regular", 0));
    roster_index_free(ix);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(unreadable_file)
{
    char *dir = temp_dir();
    chmod(dir, 0755);
    put_file(dir, "ok.md", "---\nid: ok\n---\n# Ok\n");
    put_file(dir, "secret.md", "---\nid: secret\n---\n# Secret\n");
    char path[512];
    snprintf(path, sizeof(path), "%s/secret.md", dir);
    chmod(path, 0);
    /* root reads anything: look as nobody, in a child process */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0)
            _exit(2);
        struct roster_index *ix = NULL;
        struct roster_error err;
        int ok = roster_scan_dir(&ix, dir, NULL, &err) == 0 && ix->ndocs == 2 &&
                 has_diag(ix->diags, "file.unreadable", 0) &&
                 roster_index_find(ix, "ok")->failed == 0 &&
                 roster_index_find(ix, "secret")->failed == 1;
        roster_index_free(ix);
        free(dir); /* the child's copy: valgrind checks leaks at its exit too */
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(too_large_file)
{
    char *dir = temp_dir();
    char path[512];
    snprintf(path, sizeof(path), "%s/huge.md", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), 100L * 1024 * 1024), 0); /* 100 MB, sparse */
    fclose(f);
    put_file(dir, "ok.md", "# Ok\n");
    struct roster_index *ix = load(dir);
    ck_assert(has_diag(ix->diags, "file.too_large", 0));
    ck_assert_int_eq(roster_index_find(ix, "huge")->failed, 1);
    ck_assert_int_eq(roster_index_find(ix, "ok")->failed, 0);
    ck_assert(has_diag(ix->diags, "id.missing", 1)); /* ok.md: id from the stem */
    roster_index_free(ix);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(nul_file)
{
    char *dir = temp_dir();
    char path[512];
    snprintf(path, sizeof(path), "%s/zeros.md", dir);
    FILE *f = fopen(path, "wb");
    static const char zeros[4096];
    fwrite(zeros, 1, sizeof(zeros), f);
    fclose(f);
    struct roster_index *ix = load(dir);
    ck_assert(has_diag(ix->diags, "file.nul_byte", 1));
    roster_index_free(ix);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(duplicate_ids_first_path_wins)
{
    struct roster_index *ix = load(fixture("trees/dupes"));
    struct roster_doc *d = roster_index_find(ix, "same");
    ck_assert_str_eq(d->relpath, "a.md");
    ck_assert_int_eq(d->failed, 0);
    ck_assert(has_diag(ix->diags, "id.duplicate", 0));
    const struct roster_diag *g = roster_diags_get(ix->diags, 0);
    ck_assert_str_eq(g->file, "b.md");
    ck_assert(strstr(g->message, "a.md") && strstr(g->message, "b.md"));
    roster_index_free(ix);
}
END_TEST

START_TEST(stem_ids_and_spaces)
{
    char *dir = temp_dir();
    put_file(dir, "Sub Dir/My Worker.md", "# Mine\n");
    put_file(dir, "bad!name.md", "# Bad\n");
    struct roster_index *ix = load(dir);
    ck_assert_ptr_nonnull(roster_index_find(ix, "my-worker"));
    ck_assert(has_diag(ix->diags, "id.invalid", 0));
    roster_index_free(ix);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(broken_files_never_hide_good_ones)
{
    struct roster_index *ix = load(fixture("trees/broken"));
    ck_assert_int_eq(roster_index_find(ix, "good")->failed, 0);
    ck_assert(has_diag(ix->diags, "file.invalid_utf8", 3));
    ck_assert(has_diag(ix->diags, "frontmatter.duplicate_key", 5));
    ck_assert(has_diag(ix->diags, "frontmatter.unclosed", 1));
    ck_assert(has_diag(ix->diags, "markdown.too_deep", 0));
    roster_index_free(ix);
}
END_TEST

/* Per-file refusals, each from its fixture file. */
START_TEST(file_level_refusals)
{
    static const struct {
        const char *fixture;
        const char *code;
        unsigned line;
    } cases[] = {
        {"frontmatter/invalid-id.md", "id.invalid", 2},
        {"frontmatter/id-not-string.md", "id.invalid", 2},
        {"frontmatter/extends-invalid.md", "extends.invalid", 3},
        {"frontmatter/nul-byte.md", "file.nul_byte", 3},
        {"frontmatter/invalid-utf8.md", "file.invalid_utf8", 3},
        {"frontmatter/unclosed.md", "frontmatter.unclosed", 1},
        {"frontmatter/too-deep.md", "frontmatter.too_deep", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *dir = temp_dir();
        copy_fixture(dir, cases[i].fixture, "case.md");
        put_file(dir, "good.md", "---\nid: good\n---\n# Good\n");
        struct roster_index *ix = load(dir);
        ck_assert_msg(has_diag(ix->diags, cases[i].code, cases[i].line), "%s: no %s at line %u",
                      cases[i].fixture, cases[i].code, cases[i].line);
        ck_assert_int_eq(roster_index_find(ix, "good")->failed, 0);
        const struct roster_diag *g = roster_diags_get(ix->diags, 0);
        ck_assert_str_eq(g->file, "case.md");
        ck_assert_ptr_nonnull(g->profile); /* the id it would have had */
        roster_index_free(ix);
        remove_tree(dir);
        free(dir);
    }
    /* UTF-8 error column: the first bad byte */
    char *dir = temp_dir();
    copy_fixture(dir, "frontmatter/invalid-utf8.md", "case.md");
    struct roster_index *ix = load(dir);
    ck_assert_uint_eq(roster_diags_get(ix->diags, 0)->col, 11);
    roster_index_free(ix);
    remove_tree(dir);
    free(dir);
    /* BOM + CRLF: accepted, id from front matter */
    dir = temp_dir();
    copy_fixture(dir, "frontmatter/bom-crlf.md", "case.md");
    ix = load(dir);
    ck_assert_uint_eq(roster_diags_count(ix->diags), 0);
    ck_assert_ptr_nonnull(roster_index_find(ix, "bom-crlf"));
    roster_index_free(ix);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(many_files)
{
    char *dir = temp_dir();
    char name[64], body[128];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "d%02d/p%05d.md", i % 50, i);
        snprintf(body, sizeof(body), "---\nid: p%05d\n---\n# P\n", i);
        put_file(dir, name, body);
    }
    struct roster_index *ix = load(dir);
    ck_assert_uint_eq(ix->ndocs, 2000);
    ck_assert_uint_eq(roster_diags_count(ix->diags), 0);
    /* sorted by path, whatever the directory order */
    for (size_t i = 1; i < ix->ndocs; i++)
        ck_assert_int_lt(strcmp(ix->docs[i - 1]->relpath, ix->docs[i]->relpath), 0);
    roster_index_free(ix);
    remove_tree(dir);
    free(dir);
}
END_TEST

static struct roster_index *scan(const char *dir, unsigned threads, const struct roster_index *prev,
                                 struct roster_progress *pg)
{
    struct roster_error err;
    struct roster_index *ix = NULL;
    struct roster_scan_opts o = {.threads = threads, .previous = prev, .progress = pg};
    ck_assert_int_eq(roster_scan(&ix, dir, &o, &err), 0);
    return ix;
}

/* Several parsing threads give the same index as one, diagnostics too. */
START_TEST(threads_give_the_same_index)
{
    char *dir = temp_dir();
    char name[64], body[160];
    for (int i = 0; i < 600; i++) {
        snprintf(name, sizeof(name), "p%04d.md", i);
        /* every 7th has a bad extends value: a diagnostic from the parse */
        snprintf(body, sizeof(body), "---\nid: p%04d\n%s---\n# P\n\n```x\nq\n```y\n\n## T\n", i,
                 i % 7 ? "" : "extends: 3\n");
        put_file(dir, name, body);
    }
    struct roster_progress pg = {0};
    struct roster_index *one = scan(dir, 1, NULL, NULL), *four = scan(dir, 4, NULL, &pg);
    ck_assert_uint_eq(pg.total, 600);
    ck_assert_uint_eq(pg.indexed, 600);
    ck_assert_uint_eq(pg.reused, 0);
    ck_assert_uint_eq(one->ndocs, four->ndocs);
    ck_assert_uint_eq(roster_diags_count(one->diags), roster_diags_count(four->diags));
    ck_assert_uint_gt(roster_diags_count(one->diags), 600); /* a fence repair each, and more */
    for (size_t i = 0; i < one->ndocs; i++) {
        ck_assert_str_eq(one->docs[i]->relpath, four->docs[i]->relpath);
        ck_assert_uint_eq(four->docs[i]->pos, i);
    }
    for (size_t i = 0; i < roster_diags_count(one->diags); i++) {
        const struct roster_diag *a = roster_diags_get(one->diags, i),
                                 *b = roster_diags_get(four->diags, i);
        ck_assert_str_eq(a->code, b->code);
        ck_assert_str_eq(a->file, b->file);
        ck_assert_str_eq(a->profile, b->profile);
        ck_assert_uint_eq(a->line, b->line);
    }
    roster_index_free(one);
    roster_index_free(four);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* A rescan reads only what changed: unchanged files' docs are shared (with
 * their diagnostics), changed and new ones are parsed; a shared doc that a
 * new file makes a duplicate is parsed afresh, never changed in place. */
START_TEST(rescan_reuses_unchanged_files)
{
    char *dir = temp_dir();
    put_file(dir, "b.md", "---\nid: b\n---\n# B\n\n```x\nq\n```y\n");
    put_file(dir, "c.md", "---\nid: c\n---\n# C\n");
    put_file(dir, "d.md", "---\nid: d\n---\n# D\n");
    struct roster_index *v1 = scan(dir, 2, NULL, NULL);
    ck_assert_uint_eq(roster_diags_count(v1->diags), 1); /* b's fence repair */
    /* files written just before a scan are read again by the next one (they
     * could change again within a timestamp tick): age the first scan */
    struct roster_progress racy = {0};
    roster_index_free(scan(dir, 2, v1, &racy));
    ck_assert_uint_eq(racy.reused, 0);
    v1->scanned_at_ns += 3ull * 1000000000ull;
    put_file(dir, "c.md", "---\nid: c\nname: changed\n---\n# C\n");
    put_file(dir, "a.md", "---\nid: d\n---\n# A takes d's id\n");
    struct roster_progress pg = {0};
    struct roster_index *v2 = scan(dir, 2, v1, &pg);
    ck_assert_uint_eq(pg.indexed, 4);
    ck_assert_uint_eq(pg.reused, 2); /* b and d; then d is parsed again */
    struct roster_doc *b1 = roster_index_find(v1, "b"), *b2 = roster_index_find(v2, "b");
    ck_assert_ptr_eq(b1, b2);
    ck_assert_uint_eq(roster_diags_count(v2->diags), 2); /* b's repair, d's duplicate id */
    ck_assert(has_diag(v2->diags, "markdown.fence_info_closer", 0));
    ck_assert(has_diag(v2->diags, "id.duplicate", 0));
    ck_assert_ptr_ne(roster_index_find(v1, "c"), roster_index_find(v2, "c"));
    /* d.md is a duplicate in v2 only: v1's doc is untouched */
    ck_assert_int_eq(v1->docs[2]->duplicate, 0);
    ck_assert_int_eq(v1->docs[2]->failed, 0);
    ck_assert_str_eq(v2->docs[3]->relpath, "d.md");
    ck_assert_int_eq(v2->docs[3]->duplicate, 1);
    ck_assert_ptr_ne(v1->docs[2], v2->docs[3]);
    roster_index_free(v1); /* v2's shared docs live on */
    ck_assert_str_eq(roster_index_find(v2, "b")->relpath, "b.md");
    roster_index_free(v2);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* A re-resolution after a rescan takes the merge of every profile whose
 * chain is unchanged, and gives what a fresh resolution gives. */
START_TEST(resolve_from_previous_takes_unchanged_merges)
{
    char *dir = temp_dir();
    put_file(dir, "base.md",
             "---\nid: base\nname: Base\n---\n# Base\n\nRoot text.\n\n## Tools\n\n- a\n");
    put_file(dir, "mid.md", "---\nid: mid\nextends: base\n---\n# Mid\n\nMid text.\n");
    put_file(dir, "leaf.md", "---\nid: leaf\nextends: mid\n---\n## Tools\n\n- b\n");
    put_file(dir, "other.md", "---\nid: other\nextends: base\n---\nOther.\n");
    struct roster_index *v1 = scan(dir, 1, NULL, NULL);
    v1->scanned_at_ns += 3ull * 1000000000ull; /* settled files (see the racy test) */
    struct roster_resolution *r1 = NULL, *r2 = NULL, *fresh = NULL;
    ck_assert_int_eq(roster_resolve(&r1, v1), 0);
    put_file(dir, "mid.md", "---\nid: mid\nextends: base\nname: Mid2\n---\n# Mid\n\nNew text.\n");
    struct roster_index *v2 = scan(dir, 1, v1, NULL);
    ck_assert_int_eq(roster_resolve_from(&r2, v2, r1), 0);
    ck_assert_int_eq(roster_resolve(&fresh, v2), 0);
    for (size_t i = 0; i < v2->ndocs; i++) {
        const struct roster_profile *p = &r2->profiles[i], *f = &fresh->profiles[i];
        const char *id = p->doc->id;
        ck_assert(p->ok && f->ok);
        const struct roster_profile *old = &r1->profiles[roster_index_find(v1, id)->pos];
        /* carried: base and other (their chains did not change); merged
         * again: mid (changed) and leaf (its chain holds mid) */
        int carried = strcmp(id, "base") == 0 || strcmp(id, "other") == 0;
        ck_assert_msg((p->meta == old->meta) == carried, "%s", id);
        ck_assert(json_equal(p->meta, f->meta));
        char *a = roster_profile_prompt(p), *b = roster_profile_prompt(f);
        ck_assert_str_eq(a, b);
        roster_free(a);
        roster_free(b);
        ck_assert_uint_eq(p->nsecs, f->nsecs);
        for (size_t k = 0; k < p->nsecs; k++)
            ck_assert_ptr_eq(p->secs[k].sec, f->secs[k].sec);
    }
    roster_resolution_free(r1);
    roster_index_free(v1);
    roster_resolution_free(fresh);
    roster_resolution_free(r2);
    roster_index_free(v2);
    remove_tree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, missing_directory_fails);
    tcase_add_test(tc, symlinks_hidden_and_other_files);
    tcase_add_test(tc, fifo_is_skipped);
    tcase_add_test(tc, unreadable_file);
    tcase_add_test(tc, too_large_file);
    tcase_add_test(tc, nul_file);
    tcase_add_test(tc, duplicate_ids_first_path_wins);
    tcase_add_test(tc, stem_ids_and_spaces);
    tcase_add_test(tc, broken_files_never_hide_good_ones);
    tcase_add_test(tc, file_level_refusals);
    tcase_add_test(tc, many_files);
    tcase_add_test(tc, threads_give_the_same_index);
    tcase_add_test(tc, rescan_reuses_unchanged_files);
    tcase_add_test(tc, resolve_from_previous_takes_unchanged_merges);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
