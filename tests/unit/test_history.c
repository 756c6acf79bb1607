/* The history store (roster_history.h): a version written and read back
 * byte for byte; every kind of damage (truncation, a byte flipped in the
 * magic line, the header, a part, the trailer) found and reported, never
 * served; temporary files of crashed writers removed; retention by
 * first_seen that never drops the current version; two writers of one
 * version; and the recorder over real snapshots (every served profile
 * stored with the bytes the snapshot serves, versions that stop being
 * current touched). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "history_internal.h"
#include "roster_base.h"
#include "roster_history.h"
#include "roster_snapshot.h"
#include "roster_text.h"
#include "util.h"

static char *root; /* the store's directory (a fresh one per test) */
static char *profiles; /* a profiles directory for the recorder tests */

static void setup(void)
{
    root = temp_dir();
    profiles = temp_dir();
}

static void teardown(void)
{
    remove_tree(root);
    remove_tree(profiles);
    free(root);
    free(profiles);
}

static struct roster_history *open_store(unsigned keep)
{
    struct roster_history *h = NULL;
    struct roster_error err;
    roster_error_clear(&err);
    ck_assert_msg(roster_history_open(&h, root, keep, &err) == 0, "%s", err.msg);
    return h;
}

/* A digest made from a seed: 64 hex. */
static void digest_of(int seed, char hex[65])
{
    char in[32];
    snprintf(in, sizeof(in), "seed-%d", seed);
    roster_sha256_hex(in, strlen(in), hex);
}

struct fake {
    char digest[65];
    char profile[128], prompt[128], prompt_json[128];
    json_t *lineage;
    struct roster_history_record rec;
};

static void fake_init(struct fake *f, const char *id, int seed, double first_seen)
{
    memset(f, 0, sizeof(*f));
    digest_of(seed, f->digest);
    snprintf(f->profile, sizeof(f->profile), "{\"id\":\"%s\",\"seed\":%d}\n", id, seed);
    snprintf(f->prompt, sizeof(f->prompt), "# %s\n\nYou are version %d.\n", id, seed);
    snprintf(f->prompt_json, sizeof(f->prompt_json), "{\"prompt\":\"v%d\"}\n", seed);
    f->lineage = json_pack("[{s:s,s:s},{s:s,s:s}]", "path", "base.md", "sha256", f->digest, "path",
                           "x/child.md", "sha256", f->digest);
    ck_assert_ptr_nonnull(f->lineage);
    f->rec = (struct roster_history_record){
        .id = id,
        .digest = f->digest,
        .first_seen = first_seen,
        .renderer = "roster-render/2",
        .strict = 0,
        .lineage = f->lineage,
        .part = {f->profile, f->prompt, f->prompt_json},
        .part_len = {strlen(f->profile), strlen(f->prompt), strlen(f->prompt_json)}};
}

static int write_fake(struct roster_history *h, struct fake *f)
{
    struct roster_error err;
    roster_error_clear(&err);
    int r = roster_history_write(h, &f->rec, NULL, &err);
    ck_assert_msg(r >= 0, "write: %s", err.msg);
    return r;
}

static void file_of(const char *id, const char *hex, char *out, size_t cap)
{
    snprintf(out, cap, "%s/profiles/%s/%s.v1", root, id, hex);
}

static size_t count_files(const char *id, const char *prefix)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/profiles/%s", root, id);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0 && strcmp(de->d_name, ".") != 0 &&
             strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

START_TEST(round_trip)
{
    struct roster_history *h = open_store(100);
    struct fake f;
    fake_init(&f, "worker-a", 1, 1712345678.125);
    ck_assert_int_eq(roster_history_present(h, "worker-a", f.digest), 0);
    ck_assert_int_eq(write_fake(h, &f), 1);
    ck_assert_int_eq(roster_history_present(h, "worker-a", f.digest), 1);
    /* the layout: magic, header, parts, trailer */
    char path[4096];
    file_of("worker-a", f.digest, path, sizeof(path));
    size_t len = 0;
    char *raw = read_all(path, &len);
    const char *head = "roster-history 1\n{\"digest\":\"sha256:";
    ck_assert(strncmp(raw, head, strlen(head)) == 0);
    char want_trailer[80], hex[65];
    roster_sha256_hex(raw, len - 72, hex);
    snprintf(want_trailer, sizeof(want_trailer), "sha256:%s\n", hex);
    ck_assert_str_eq(raw + len - 72, want_trailer);
    ck_assert_ptr_nonnull(strstr(raw, "\"first_seen\":1712345678.125,"));
    roster_free(raw);
    /* read back: the same bytes, the header's values */
    struct roster_history_version v;
    struct roster_error err;
    roster_error_clear(&err);
    ck_assert_int_eq(roster_history_load(h, "worker-a", f.digest, &v, &err), 0);
    ck_assert_str_eq(v.digest, f.digest);
    ck_assert(v.first_seen == 1712345678.125);
    ck_assert(v.last_seen > 1e9);
    ck_assert_str_eq(v.renderer, "roster-render/2");
    ck_assert_int_eq(v.strict, 0);
    ck_assert(json_equal(v.lineage, f.lineage));
    const char *parts[] = {f.profile, f.prompt, f.prompt_json};
    for (int k = 0; k < ROSTER_HISTORY_NPARTS; k++) {
        ck_assert_uint_eq(v.plen[k], strlen(parts[k]));
        ck_assert(memcmp(v.data + v.off[k], parts[k], v.plen[k]) == 0);
    }
    size_t n = 0;
    char *p = roster_history_version_take(&v, ROSTER_HISTORY_PROMPT, &n);
    ck_assert_uint_eq(n, strlen(f.prompt));
    ck_assert_str_eq(p, f.prompt);
    roster_free(p);
    ck_assert(strncmp(v.file, "profiles/worker-a/", 18) == 0);
    roster_history_version_release(&v);
    /* listed; a second write of the same version writes nothing */
    ck_assert_int_eq(write_fake(h, &f), 0);
    struct roster_history_entry *e = NULL;
    struct roster_history_skips sk = {0};
    ck_assert_int_eq(roster_history_list(h, "worker-a", &e, &n, &sk, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(sk.n, 0);
    ck_assert_str_eq(e[0].digest, f.digest);
    roster_free(e);
    /* unknown id, unknown digest */
    ck_assert_int_eq(roster_history_list(h, "nobody", &e, &n, &sk, &err), ROSTER_ENOENT);
    char other[65];
    digest_of(99, other);
    ck_assert_int_eq(roster_history_load(h, "worker-a", other, &v, &err), ROSTER_ENOENT);
    ck_assert_int_eq(roster_history_touch(h, "worker-a", other, &err), ROSTER_ENOENT);
    json_decref(f.lineage);
    roster_history_free(h);
}
END_TEST

START_TEST(file_name_is_checked)
{
    /* v.file is "profiles/<id>/<hex>.v1": checked separately from the
     * prefix above so that the digest shows in a failure */
    struct roster_history *h = open_store(100);
    struct fake f;
    fake_init(&f, "a", 2, 10.0);
    write_fake(h, &f);
    struct roster_history_version v;
    struct roster_error err;
    ck_assert_int_eq(roster_history_load(h, "a", f.digest, &v, &err), 0);
    char want[300];
    snprintf(want, sizeof(want), "profiles/a/%s.v1", f.digest);
    ck_assert_str_eq(v.file, want);
    roster_history_version_release(&v);
    /* a file copied under another version's name fails: the digest is the name */
    char from[4096], to[4096], other[65];
    digest_of(3, other);
    file_of("a", f.digest, from, sizeof(from));
    file_of("a", other, to, sizeof(to));
    size_t len = 0;
    char *raw = read_all(from, &len);
    FILE *o = fopen(to, "wb");
    ck_assert_uint_eq(fwrite(raw, 1, len, o), len);
    fclose(o);
    roster_free(raw);
    ck_assert_int_eq(roster_history_load(h, "a", other, &v, &err), ROSTER_EIO);
    ck_assert_msg(strstr(err.msg, "is not the file name") != NULL, "%s", err.msg);
    /* and one under another profile's directory fails on the id */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/profiles/b", root);
    mkdir(dir, 0755);
    file_of("b", f.digest, to, sizeof(to));
    raw = read_all(from, &len);
    o = fopen(to, "wb");
    ck_assert_uint_eq(fwrite(raw, 1, len, o), len);
    fclose(o);
    roster_free(raw);
    ck_assert_int_eq(roster_history_load(h, "b", f.digest, &v, &err), ROSTER_EIO);
    ck_assert_msg(strstr(err.msg, "id is not the directory's") != NULL, "%s", err.msg);
    json_decref(f.lineage);
    roster_history_free(h);
}
END_TEST

/* Damages the stored file of f: flips the byte at `at` (from the start,
 * or from the end when negative), optionally fixing the trailer so that
 * the check behind it is reached; or truncates it to `truncate` bytes. */
static void damage(const char *path, long at, int fix_trailer, long truncate)
{
    size_t len = 0;
    char *raw = read_all(path, &len);
    if (truncate >= 0) {
        len = (size_t)truncate;
    } else {
        size_t i = at >= 0 ? (size_t)at : len - (size_t)(-at);
        raw[i] ^= 0x01;
        if (fix_trailer) {
            char hex[65];
            roster_sha256_hex(raw, len - 72, hex);
            memcpy(raw + len - 65, hex, 64);
        }
    }
    FILE *o = fopen(path, "wb");
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(fwrite(raw, 1, len, o), len);
    fclose(o);
    roster_free(raw);
}

/* After damage: load fails with a reason starting with `load_why`; the
 * listing skips it (with a reason starting with list_why) or, when
 * list_why is NULL, still lists it (its header is intact). */
static void expect_damage(struct roster_history *h, struct fake *f, const char *load_why,
                          const char *list_why)
{
    struct roster_history_version v;
    struct roster_error err;
    roster_error_clear(&err);
    ck_assert_int_eq(roster_history_load(h, "dmg", f->digest, &v, &err), ROSTER_EIO);
    ck_assert_msg(strncmp(err.msg, load_why, strlen(load_why)) == 0, "load: %s (want %s)", err.msg,
                  load_why);
    ck_assert_ptr_nonnull(strstr(err.file, f->digest));
    struct roster_history_entry *e = NULL;
    struct roster_history_skips sk = {0};
    size_t n = 0;
    ck_assert_int_eq(roster_history_list(h, "dmg", &e, &n, &sk, &err), 0);
    if (list_why) {
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(sk.n, 1);
        ck_assert_msg(strncmp(sk.v[0].reason, list_why, strlen(list_why)) == 0,
                      "list: %s (want %s)", sk.v[0].reason, list_why);
        ck_assert_ptr_nonnull(strstr(sk.v[0].file, f->digest));
        ck_assert_int_eq(roster_history_present(h, "dmg", f->digest), 0);
    } else {
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(sk.n, 0);
    }
    roster_free(e);
    roster_history_skips_release(&sk);
    /* a writer of the version replaces the damaged copy, and says so */
    struct roster_history_skips replaced = {0};
    ck_assert_int_eq(roster_history_write(h, &f->rec, &replaced, &err), 1);
    ck_assert_uint_eq(replaced.n, 1);
    roster_history_skips_release(&replaced);
    ck_assert_int_eq(roster_history_load(h, "dmg", f->digest, &v, &err), 0);
    roster_history_version_release(&v);
}

START_TEST(damage_is_found)
{
    struct roster_history *h = open_store(100);
    struct fake f;
    fake_init(&f, "dmg", 4, 100.5);
    write_fake(h, &f);
    char path[4096];
    file_of("dmg", f.digest, path, sizeof(path));
    size_t len = 0;
    char *raw = read_all(path, &len);
    long header_at = (long)strlen("roster-history 1\n") + 5;
    long prompt_at = (long)(strstr(raw, "You are version") - raw);
    roster_free(raw);
    /* the magic line */
    damage(path, 3, 0, -1);
    expect_damage(h, &f, "magic", "magic");
    /* the header: the trailer hash says so first (a listing reads only
     * the header)... */
    damage(path, header_at, 0, -1);
    expect_damage(h, &f, "trailer", "header");
    /* ...and with the trailer rewritten to match, the header check does */
    damage(path, header_at, 1, -1);
    expect_damage(h, &f, "header", "header");
    /* a part: the trailer, then the part's own sha256 */
    damage(path, prompt_at, 0, -1);
    expect_damage(h, &f, "trailer", NULL);
    damage(path, prompt_at, 1, -1);
    expect_damage(h, &f, "part prompt", NULL);
    /* the trailer itself */
    damage(path, -10, 0, -1);
    expect_damage(h, &f, "trailer", NULL);
    /* truncated: in the trailer, in a part, in the header, empty */
    damage(path, 0, 0, (long)len - 1);
    expect_damage(h, &f, "trailer", "length");
    damage(path, 0, 0, prompt_at);
    expect_damage(h, &f, "trailer", "length");
    damage(path, 0, 0, header_at);
    expect_damage(h, &f, "trailer", "header");
    damage(path, 0, 0, 0);
    expect_damage(h, &f, "magic", "magic");
    json_decref(f.lineage);
    roster_history_free(h);
}
END_TEST

START_TEST(stale_temp_files_go)
{
    struct roster_history *h = open_store(100);
    struct fake a, b;
    fake_init(&a, "t", 5, 1.0);
    fake_init(&b, "t", 6, 2.0);
    write_fake(h, &a);
    char old[4096], fresh[4096];
    snprintf(old, sizeof(old), "%s/profiles/t/.tmp-1-00000000deadbeef", root);
    snprintf(fresh, sizeof(fresh), "%s/profiles/t/.tmp-2-00000000cafef00d", root);
    put_file(root, "profiles/t/.tmp-1-00000000deadbeef", "half a version");
    put_file(root, "profiles/t/.tmp-2-00000000cafef00d", "a writer at work");
    struct timespec times[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
    ck_assert_int_eq(utimensat(AT_FDCWD, old, times, 0), 0);
    times[0].tv_sec = times[1].tv_sec = time(NULL) - 60;
    ck_assert_int_eq(utimensat(AT_FDCWD, fresh, times, 0), 0);
    ck_assert_uint_eq(count_files("t", ".tmp-"), 2);
    /* temp files are never listed */
    struct roster_history_entry *e = NULL;
    struct roster_history_skips sk = {0};
    struct roster_error err;
    size_t n = 0;
    ck_assert_int_eq(roster_history_list(h, "t", &e, &n, &sk, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(sk.n, 0);
    roster_free(e);
    /* the next write into the directory removes the old one only */
    write_fake(h, &b);
    ck_assert_int_eq(access(old, F_OK), -1);
    ck_assert_int_eq(access(fresh, F_OK), 0);
    ck_assert_uint_eq(count_files("t", ".tmp-"), 1);
    json_decref(a.lineage);
    json_decref(b.lineage);
    roster_history_free(h);
}
END_TEST

START_TEST(retention_keeps_the_newest)
{
    struct roster_history *h = open_store(2);
    struct fake f[4];
    /* written out of order: first_seen decides, not the order of writing */
    fake_init(&f[0], "r", 10, 300.0);
    fake_init(&f[1], "r", 11, 100.0);
    fake_init(&f[2], "r", 12, 200.0);
    for (int i = 0; i < 3; i++)
        write_fake(h, &f[i]);
    struct roster_history_entry *e = NULL;
    struct roster_history_skips sk = {0};
    struct roster_error err;
    size_t n = 0;
    ck_assert_int_eq(roster_history_list(h, "r", &e, &n, &sk, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(e[0].digest, f[0].digest); /* newest first */
    ck_assert_str_eq(e[1].digest, f[2].digest);
    roster_free(e);
    /* the version just written is current: never dropped, even when oldest */
    fake_init(&f[3], "r", 13, 50.0);
    write_fake(h, &f[3]);
    ck_assert_int_eq(roster_history_list(h, "r", &e, &n, &sk, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(e[0].digest, f[0].digest);
    ck_assert_str_eq(e[1].digest, f[3].digest);
    roster_free(e);
    /* a corrupt file is neither counted nor removed */
    char bad[4096], hex[65];
    digest_of(77, hex);
    char rel[300];
    snprintf(rel, sizeof(rel), "profiles/r/%s.v1", hex);
    put_file(root, rel, "not a version\n");
    file_of("r", hex, bad, sizeof(bad));
    struct fake g;
    fake_init(&g, "r", 14, 400.0);
    write_fake(h, &g);
    ck_assert_int_eq(access(bad, F_OK), 0);
    ck_assert_int_eq(roster_history_list(h, "r", &e, &n, &sk, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(e[0].digest, g.digest);
    ck_assert_str_eq(e[1].digest, f[0].digest);
    ck_assert_uint_eq(sk.n, 1);
    ck_assert_ptr_nonnull(strstr(sk.v[0].file, hex));
    roster_free(e);
    roster_history_skips_release(&sk);
    for (int i = 0; i < 4; i++)
        json_decref(f[i].lineage);
    json_decref(g.lineage);
    roster_history_free(h);
}
END_TEST

struct writer {
    struct roster_history *h;
    struct fake *f;
    int written;
};

static void *write_many(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < 50; i++) {
        char path[4096];
        file_of(w->f->rec.id, w->f->digest, path, sizeof(path));
        unlink(path); /* both race to write it again */
        struct roster_error err;
        int r = roster_history_write(w->h, &w->f->rec, NULL, &err);
        if (r < 0)
            return (void *)1;
        w->written += r;
    }
    return NULL;
}

START_TEST(two_writers_one_version)
{
    /* two processes' stores on one directory, writing the same version with
     * their own first_seen: equivalent files; the second finds the first's */
    struct roster_history *h1 = open_store(100), *h2 = open_store(100);
    struct fake a, b;
    fake_init(&a, "w", 20, 1000.0);
    fake_init(&b, "w", 20, 1000.5);
    ck_assert_int_eq(write_fake(h1, &a), 1);
    ck_assert_int_eq(write_fake(h2, &b), 0);
    /* at the same moment, over and over: every rename is atomic */
    pthread_t t1, t2;
    struct writer w1 = {h1, &a, 0}, w2 = {h2, &b, 0};
    pthread_create(&t1, NULL, write_many, &w1);
    pthread_create(&t2, NULL, write_many, &w2);
    void *r1, *r2;
    pthread_join(t1, &r1);
    pthread_join(t2, &r2);
    ck_assert_ptr_null(r1);
    ck_assert_ptr_null(r2);
    ck_assert_int_gt(w1.written + w2.written, 0);
    ck_assert_uint_eq(count_files("w", ".tmp-"), 0);
    struct roster_history_version v;
    struct roster_error err;
    ck_assert_int_eq(roster_history_load(h2, "w", a.digest, &v, &err), 0);
    ck_assert(v.first_seen == 1000.0 || v.first_seen == 1000.5);
    ck_assert(memcmp(v.data + v.off[0], a.profile, strlen(a.profile)) == 0);
    roster_history_version_release(&v);
    json_decref(a.lineage);
    json_decref(b.lineage);
    roster_history_free(h1);
    roster_history_free(h2);
}
END_TEST

START_TEST(digests_and_bad_input)
{
    char hex[65], want[65];
    digest_of(1, want);
    char s[80];
    snprintf(s, sizeof(s), "sha256:%s", want);
    ck_assert_int_eq(roster_history_digest_parse(s, strlen(s), hex), 0);
    ck_assert_str_eq(hex, want);
    ck_assert_int_eq(roster_history_digest_parse(want, 64, hex), 0);
    ck_assert_str_eq(hex, want);
    for (char *c = s; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    ck_assert_int_eq(roster_history_digest_parse(s + 7, 64, hex), 0); /* upper case hex */
    ck_assert_str_eq(hex, want);
    ck_assert_int_eq(roster_history_digest_parse(s, strlen(s), hex), -1); /* "SHA256:" */
    ck_assert_int_eq(roster_history_digest_parse(want, 63, hex), -1);
    ck_assert_int_eq(roster_history_digest_parse("sha256:", 7, hex), -1);
    ck_assert_int_eq(roster_history_digest_parse("md5:abc", 7, hex), -1);
    char g[65];
    memcpy(g, want, 65);
    g[10] = 'g';
    ck_assert_int_eq(roster_history_digest_parse(g, 64, hex), -1);
    /* a record that is not one is refused before anything is written */
    struct roster_history *h = open_store(1);
    struct fake f;
    fake_init(&f, "ok", 1, 1.0);
    struct roster_error err;
    f.rec.id = "../escape";
    ck_assert_int_eq(roster_history_write(h, &f.rec, NULL, &err), ROSTER_EINVAL);
    f.rec.id = "ok";
    f.rec.digest = "ABC";
    ck_assert_int_eq(roster_history_write(h, &f.rec, NULL, &err), ROSTER_EINVAL);
    json_decref(f.lineage);
    roster_history_free(h);
    /* keep is checked; a file where the directory should be fails */
    ck_assert_int_eq(roster_history_open(&h, root, 0, &err), ROSTER_EINVAL);
    char file[4096];
    snprintf(file, sizeof(file), "%s/plain", root);
    put_file(root, "plain", "x");
    ck_assert_int_lt(roster_history_open(&h, file, 5, &err), 0);
}
END_TEST

START_TEST(touch_sets_last_seen)
{
    struct roster_history *h = open_store(10);
    struct fake f;
    fake_init(&f, "tt", 30, 5.0);
    write_fake(h, &f);
    char path[4096];
    file_of("tt", f.digest, path, sizeof(path));
    struct timespec times[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
    struct roster_history_entry *e = NULL;
    size_t n = 0;
    struct roster_error err;
    ck_assert_int_eq(roster_history_list(h, "tt", &e, &n, NULL, &err), 0);
    ck_assert(e[0].last_seen == 1000000.0);
    roster_free(e);
    ck_assert_int_eq(roster_history_touch(h, "tt", f.digest, &err), 0);
    ck_assert_int_eq(roster_history_list(h, "tt", &e, &n, NULL, &err), 0);
    ck_assert(e[0].last_seen > (double)time(NULL) - 60);
    roster_free(e);
    json_decref(f.lineage);
    roster_history_free(h);
}
END_TEST

/* ---- the recorder, over real snapshots -------------------------------- */

struct seen {
    int written, failed, corrupt, passes;
    size_t retired;
};

static void on_write(void *ctx, const char *id, const char *digest, int rc,
                     const struct roster_error *err)
{
    (void)id, (void)digest, (void)err;
    struct seen *s = ctx;
    s->written += rc > 0;
    s->failed += rc < 0;
}

static void on_corrupt(void *ctx, const char *file, const char *reason)
{
    (void)file, (void)reason;
    ((struct seen *)ctx)->corrupt++;
}

static void on_pass(void *ctx, unsigned long long gen, size_t written, size_t present,
                    size_t failed, size_t retired, double seconds, int cancelled)
{
    (void)gen, (void)written, (void)present, (void)failed, (void)seconds, (void)cancelled;
    struct seen *s = ctx;
    s->passes++;
    s->retired += retired;
}

static void write_profiles(const char *child_body)
{
    put_file(profiles, "base.md",
             "---\nid: base\nname: Base\n---\n# Base\n\n## Role\n\nYou are careful.\n");
    char text[512];
    snprintf(text, sizeof(text),
             "---\nid: child\nname: Child\nextends: base\n---\n# Child\n\n## Role\n\n%s\n",
             child_body);
    put_file(profiles, "child.md", text);
    put_file(profiles, "broken.md", "---\nid: broken\nextends: nowhere\n---\n# Broken\n");
}

/* Every served profile of s is stored with the bytes s serves. */
static void expect_recorded(struct roster_history *h, const struct roster_snapshot *s)
{
    static const int which[] = {ROSTER_VIEW_PROFILE, ROSTER_VIEW_PROMPT, ROSTER_REP_PROMPT_JSON};
    for (size_t i = 0; i < s->n; i++) {
        const struct roster_sprofile *sp = &s->profiles[i];
        if (!sp->ok)
            continue;
        struct roster_history_version v;
        struct roster_error err;
        roster_error_clear(&err);
        ck_assert_msg(roster_history_load(h, sp->id, sp->good_key, &v, &err) == 0, "%s: %s", sp->id,
                      err.msg);
        ck_assert(json_equal(v.lineage, sp->lineage_files));
        for (int k = 0; k < 3; k++) {
            const struct roster_rep *r = rep_of(s, sp, which[k]);
            ck_assert_uint_eq(v.plen[k], r->len);
            ck_assert(memcmp(v.data + v.off[k], r->body, r->len) == 0);
        }
        roster_history_version_release(&v);
    }
}

START_TEST(render_bypasses_the_cache)
{
    write_profiles("You are the child.");
    struct roster_snapshot *s = snapshot_build(profiles, 1, NULL);
    const struct roster_sprofile *sp = roster_snapshot_find(s, "child", 5);
    ck_assert_ptr_nonnull(sp);
    unsigned long long before = roster_snapshot_renders();
    struct roster_rep out;
    ck_assert_int_eq(roster_snapshot_render(s, sp, ROSTER_VIEW_PROFILE, &out), 0);
    ck_assert(roster_snapshot_renders() == before); /* nothing cached */
    const struct roster_rep *cached = rep_of(s, sp, ROSTER_VIEW_PROFILE);
    ck_assert(roster_snapshot_renders() == before + 1);
    ck_assert_uint_eq(out.len, cached->len);
    ck_assert(memcmp(out.body, cached->body, out.len) == 0);
    ck_assert_str_eq(out.etag, cached->etag);
    roster_rep_release(&out);
    /* the tag of a version is known without a snapshot */
    char hex[65];
    roster_rep_tag(sp->good_key, ROSTER_VIEW_PROFILE, hex);
    ck_assert(strncmp(cached->etag + 1, hex, 32) == 0);
    /* a profile that is not served has nothing to render */
    const struct roster_sprofile *broken = roster_snapshot_find(s, "broken", 6);
    ck_assert_int_eq(roster_snapshot_render(s, broken, ROSTER_VIEW_PROFILE, &out), ROSTER_EINVAL);
    roster_snapshot_unref(s);
}
END_TEST

START_TEST(recorder_records_snapshots)
{
    struct roster_history *h = open_store(100);
    struct seen seen = {0};
    struct roster_history_hooks hooks = {
        .ctx = &seen, .write = on_write, .corrupt = on_corrupt, .pass = on_pass};
    struct roster_history_recorder *rc = NULL;
    struct roster_error err;
    ck_assert_int_eq(roster_history_recorder_new(&rc, h, &hooks, &err), 0);
    write_profiles("You are the child.");
    struct roster_snapshot *s1 = snapshot_build(profiles, 1, NULL);
    roster_history_recorder_submit(rc, s1);
    ck_assert_int_eq(roster_history_recorder_wait(rc, 30), 0);
    ck_assert_int_eq(seen.written, 2); /* base and child; broken is not served */
    ck_assert_int_eq(seen.failed, 0);
    expect_recorded(h, s1);
    const struct roster_sprofile *c1 = roster_snapshot_find(s1, "child", 5);
    char old_child[65];
    memcpy(old_child, c1->good_key, 65);
    char path[4096];
    file_of("child", old_child, path, sizeof(path));
    struct timespec times[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
    /* an edit: only the child's version is new; its old one is retired */
    write_profiles("You are the edited child.");
    struct roster_snapshot *s2 = snapshot_build(profiles, 2, s1);
    roster_history_recorder_submit(rc, s2);
    ck_assert_int_eq(roster_history_recorder_wait(rc, 30), 0);
    ck_assert_int_eq(seen.written, 3);
    ck_assert_uint_eq(seen.retired, 1);
    expect_recorded(h, s2);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(st.st_mtime > time(NULL) - 60); /* last_seen: now */
    struct roster_history_entry *e = NULL;
    size_t n = 0;
    ck_assert_int_eq(roster_history_list(h, "child", &e, &n, NULL, &err), 0);
    ck_assert_uint_eq(n, 2);
    roster_free(e);
    /* a new recorder (a restart) over a store that has them: nothing written */
    roster_history_recorder_free(rc);
    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(roster_history_recorder_new(&rc, h, &hooks, &err), 0);
    roster_history_recorder_submit(rc, s2);
    ck_assert_int_eq(roster_history_recorder_wait(rc, 30), 0);
    ck_assert_int_eq(seen.written, 0);
    ck_assert_int_eq(seen.passes, 1);
    /* a truncated current version is written again at the next start */
    const struct roster_sprofile *c2 = roster_snapshot_find(s2, "child", 5);
    file_of("child", c2->good_key, path, sizeof(path));
    ck_assert_int_eq(truncate(path, 100), 0);
    roster_history_recorder_free(rc);
    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(roster_history_recorder_new(&rc, h, &hooks, &err), 0);
    roster_history_recorder_submit(rc, s2);
    ck_assert_int_eq(roster_history_recorder_wait(rc, 30), 0);
    ck_assert_int_eq(seen.written, 1);
    ck_assert_int_eq(seen.corrupt, 1);
    expect_recorded(h, s2);
    /* stopping with snapshots queued drops them cleanly */
    roster_history_recorder_submit(rc, s1);
    roster_history_recorder_submit(rc, s2);
    roster_history_recorder_free(rc);
    roster_snapshot_unref(s1);
    roster_snapshot_unref(s2);
    roster_history_free(h);
}
END_TEST

START_TEST(write_errors_are_reported)
{
    /* a file where a profile's directory should be: every write into it
     * fails (as root too, unlike a read-only directory) */
    struct roster_history *h = open_store(100);
    put_file(root, "profiles/base", "in the way");
    put_file(root, "profiles/child", "in the way");
    struct seen seen = {0};
    struct roster_history_hooks hooks = {.ctx = &seen, .write = on_write, .pass = on_pass};
    struct roster_history_recorder *rc = NULL;
    struct roster_error err;
    ck_assert_int_eq(roster_history_recorder_new(&rc, h, &hooks, &err), 0);
    write_profiles("You are the child.");
    struct roster_snapshot *s = snapshot_build(profiles, 1, NULL);
    roster_history_recorder_submit(rc, s);
    ck_assert_int_eq(roster_history_recorder_wait(rc, 30), 0);
    ck_assert_int_eq(seen.failed, 2);
    ck_assert_int_eq(seen.written, 0);
    /* the next pass tries them all again, though nothing changed */
    char path[4096];
    snprintf(path, sizeof(path), "%s/profiles/base", root);
    ck_assert_int_eq(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/profiles/child", root);
    ck_assert_int_eq(unlink(path), 0);
    roster_history_recorder_submit(rc, s);
    ck_assert_int_eq(roster_history_recorder_wait(rc, 30), 0);
    ck_assert_int_eq(seen.written, 2);
    expect_recorded(h, s);
    roster_history_recorder_free(rc);
    roster_snapshot_unref(s);
    roster_history_free(h);
}
END_TEST

int main(void)
{
    json_set_alloc_funcs(roster_malloc, roster_free);
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, file_name_is_checked);
    tcase_add_test(tc, damage_is_found);
    tcase_add_test(tc, stale_temp_files_go);
    tcase_add_test(tc, retention_keeps_the_newest);
    tcase_add_test(tc, two_writers_one_version);
    tcase_add_test(tc, digests_and_bad_input);
    tcase_add_test(tc, touch_sets_last_seen);
    tcase_add_test(tc, render_bypasses_the_cache);
    tcase_add_test(tc, recorder_records_snapshots);
    tcase_add_test(tc, write_errors_are_reported);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
