#include "util.h"

#include <jansson.h>

#include "roster_snapshot.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_resolve.h"
#include "roster_scan.h"

const char *fixture(const char *rel)
{
    static char path[PATH_MAX];
    const char *root = getenv("ROSTER_FIXTURES");
    snprintf(path, sizeof(path), "%s/%s", root ? root : FIXTURES_DIR, rel);
    return path;
}

char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = roster_malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        roster_free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

char *temp_dir(void)
{
    char tmpl[] = "/tmp/roster-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

void put_file(const char *dir, const char *rel, const char *content)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

void copy_fixture(const char *dir, const char *fixture_rel, const char *name)
{
    size_t n;
    char *data = read_all(fixture(fixture_rel), &n);
    ck_assert_ptr_nonnull(data);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(data, 1, n, f);
    fclose(f);
    roster_free(data);
}

void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        unlink(dir);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(p, 0755);
            remove_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

int has_diag(const struct roster_diags *d, const char *code, unsigned line)
{
    for (size_t i = 0; i < roster_diags_count(d); i++) {
        const struct roster_diag *g = roster_diags_get(d, i);
        if (strcmp(g->code, code) == 0 && (!line || g->line == line))
            return 1;
    }
    return 0;
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

const struct roster_rep *rep_of(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                                int which)
{
    const struct roster_rep *r = NULL;
    ck_assert_int_eq(roster_snapshot_rep(s, sp, which, &r), 0);
    ck_assert_ptr_nonnull(r);
    return r;
}

json_t *profile_of(const struct roster_snapshot *s, const struct roster_sprofile *sp)
{
    const struct roster_rep *r = rep_of(s, sp, ROSTER_VIEW_PROFILE);
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

struct tree tree_load(const char *dir)
{
    struct tree t = {0};
    struct roster_error err;
    ck_assert_int_eq(roster_scan_dir(&t.ix, dir, NULL, &err), 0);
    ck_assert_int_eq(roster_resolve(&t.res, t.ix), 0);
    return t;
}

struct tree tree_load_memory(const char *const *names, const char *const *texts, size_t n)
{
    struct tree t = {0};
    size_t lens[8];
    ck_assert_uint_le(n, 8);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(texts[i]);
    ck_assert_int_eq(roster_index_load_memory(&t.ix, names, texts, lens, n, NULL), 0);
    ck_assert_int_eq(roster_resolve(&t.res, t.ix), 0);
    return t;
}

void tree_drop(struct tree *t)
{
    roster_resolution_free(t->res);
    roster_index_free(t->ix);
}

const struct roster_profile *tree_profile(const struct tree *t, const char *id)
{
    struct roster_doc *d = roster_index_find(t->ix, id);
    ck_assert_ptr_nonnull(d);
    return &t->res->profiles[d->pos];
}

struct roster_snapshot *snapshot_build(const char *dir, unsigned long long gen,
                                       const struct roster_snapshot *prev)
{
    struct roster_snapshot *s = NULL;
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot_opts o = {.dir = dir, .generation = gen, .previous = prev};
    ck_assert_int_eq(roster_snapshot_build(&s, &o, &err), 0);
    return s;
}
