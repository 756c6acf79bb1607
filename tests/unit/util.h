/* Helpers for the unit suites: fixture paths, file reading, temporary
 * profile trees, and a main() that runs one suite. */
#ifndef ROSTER_TEST_UTIL_H
#define ROSTER_TEST_UTIL_H

#include <check.h>
#include <stddef.h>

struct roster_diags;

/* Path of a file under tests/fixtures (static buffer). */
const char *fixture(const char *rel);
/* Whole file, NUL-terminated, malloc'd (roster_malloc). */
char *read_all(const char *path, size_t *len);
/* A fresh temporary directory; files written into it with put_file. */
char *temp_dir(void);
void put_file(const char *dir, const char *rel, const char *content);
void remove_tree(const char *dir);
/* 1 when diags contain `code` (at line when line != 0). */
int has_diag(const struct roster_diags *d, const char *code, unsigned line);
/* Copies a fixture file into dir under name. */
void copy_fixture(const char *dir, const char *fixture_rel, const char *name);

struct roster_snapshot;
struct roster_sprofile;
struct roster_rep;
typedef struct json_t json_t;
/* Representation `which` of sp, rendered through the snapshot (asserted). */
const struct roster_rep *rep_of(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                                int which);
/* The full profile object of sp as the snapshot renders it (new reference). */
json_t *profile_of(const struct roster_snapshot *s, const struct roster_sprofile *sp);

/* A resolved index, for the suites that check inheritance. */
struct roster_index;
struct roster_resolution;
struct roster_profile;
struct tree {
    struct roster_index *ix;
    struct roster_resolution *res;
};
/* The profiles of a directory, or of n files in memory, resolved (asserted). */
struct tree tree_load(const char *dir);
struct tree tree_load_memory(const char *const *names, const char *const *texts, size_t n);
void tree_drop(struct tree *t);
/* The resolved profile with this id (asserted to exist). */
const struct roster_profile *tree_profile(const struct tree *t, const char *id);

/* A snapshot of dir (generation gen, after prev or NULL), asserted. */
struct roster_snapshot *snapshot_build(const char *dir, unsigned long long gen,
                                       const struct roster_snapshot *prev);

int run_suite(Suite *s);

#endif
