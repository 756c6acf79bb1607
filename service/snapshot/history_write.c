/* Writing version files (roster_history.h): temporary file, fsync,
 * rename, fsync of the directory; then the directory's stale temporary
 * files and the versions beyond --history-keep go. No locks: every writer
 * of a version writes an equivalent file under the same name, rename is
 * atomic, and a file another writer removes first is simply gone
 * (ENOENT is never an error here). */
#include "history_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_doc.h"
#include "roster_json.h"
#include "roster_render.h"
#include "roster_text.h"

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The header line: compact JSON and a newline; the caller frees it. */
static char *header_of(const struct roster_history_record *rec, size_t *len)
{
    char d[80], hex[65];
    snprintf(d, sizeof(d), "sha256:%s", rec->digest);
    json_t *o = json_object(), *parts = json_object();
    int bad = !o || !parts;
    bad = bad || roster_json_set(o, "digest", json_string(d));
    bad = bad || roster_json_set(o, "id", json_string(rec->id));
    bad = bad || roster_json_set(o, "first_seen", json_real(rec->first_seen));
    bad = bad || roster_json_set(o, "renderer", json_string(rec->renderer));
    bad = bad || roster_json_set(o, "strict", json_integer(rec->strict ? 1 : 0));
    bad = bad || roster_json_set(o, "lineage", json_deep_copy(rec->lineage));
    for (int k = 0; !bad && k < ROSTER_HISTORY_NPARTS; k++) {
        roster_sha256_hex(rec->part[k], rec->part_len[k], hex);
        bad = roster_json_set(
            parts, roster_history_part_name((enum roster_history_part)k),
            json_pack("{s:I,s:s}", "length", (json_int_t)rec->part_len[k], "sha256", hex));
    }
    bad = bad || roster_json_set(o, "parts", json_incref(parts));
    char *s = bad ? NULL : roster_render_dump(o, len);
    json_decref(parts);
    json_decref(o);
    return s;
}

/* ".tmp-<pid>-<16 hex>": unique among writers sharing the directory. */
static void temp_name(char *out, size_t cap)
{
    static _Atomic unsigned long long seq;
    unsigned long long rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rnd = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec;
    }
    rnd ^= atomic_fetch_add(&seq, 1) * 0x9E3779B97F4A7C15ULL;
    snprintf(out, cap, HISTORY_TEMP_PREFIX "%ld-%016llx", (long)getpid(), rnd);
}

/* Writes the file's bytes to a new temporary file in dir (fsynced,
 * closed); its path goes to tmp. */
static int write_temp(const char *dir, const char *target, const struct roster_history_record *rec,
                      const char *header, size_t hlen, char *tmp, size_t cap,
                      struct roster_error *err)
{
    char name[64], hex[65], trailer[HISTORY_TRAILER_LEN + 1];
    temp_name(name, sizeof(name));
    if (snprintf(tmp, cap, "%s/%s", dir, name) >= (int)cap)
        return roster_error_set(err, ROSTER_EIO, dir, 0, 0, "path too long");
    struct roster_sha256 sh;
    roster_sha256_begin(&sh);
    roster_sha256_add(&sh, HISTORY_MAGIC, HISTORY_MAGIC_LEN);
    roster_sha256_add(&sh, header, hlen);
    for (int k = 0; k < ROSTER_HISTORY_NPARTS; k++)
        roster_sha256_add(&sh, rec->part[k], rec->part_len[k]);
    roster_sha256_end(&sh, hex);
    snprintf(trailer, sizeof(trailer), "sha256:%s\n", hex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return roster_error_set(err, ROSTER_EIO, target, 0, 0, "cannot create %s: %s", tmp,
                                strerror(errno));
    int ok =
        write_all(fd, HISTORY_MAGIC, HISTORY_MAGIC_LEN) == 0 && write_all(fd, header, hlen) == 0;
    for (int k = 0; ok && k < ROSTER_HISTORY_NPARTS; k++)
        ok = write_all(fd, rec->part[k], rec->part_len[k]) == 0;
    ok = ok && write_all(fd, trailer, HISTORY_TRAILER_LEN) == 0;
    ok = ok && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        if (e == 0)
            e = errno;
        unlink(tmp);
        return roster_error_set(err, ROSTER_EIO, target, 0, 0, "cannot write %s: %s", tmp,
                                strerror(e));
    }
    return 0;
}

/* 1 when path holds a copy of the version that verifies; a copy that
 * does not is reported in replaced. */
static int have_good_copy(const char *path, const struct roster_history_record *rec,
                          struct roster_history_skips *replaced)
{
    char *data = NULL, why[300], rel[300];
    size_t len = 0;
    struct stat st;
    struct roster_history_header hd;
    int r = roster_history_read_file(path, ROSTER_HISTORY_FILE_MAX, &data, &len, &st);
    if (r == ROSTER_ENOENT || r == ROSTER_ENOMEM || r == ROSTER_EIO)
        return 0; /* none, or writing it is the way forward (and reports why not) */
    if (r == 0)
        r = roster_history_verify(data, len, rec->id, rec->digest, 0, &hd, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "length: larger than %zu bytes",
                 (size_t)ROSTER_HISTORY_FILE_MAX);
    roster_free(data);
    if (r == 0)
        return 1;
    if (r != ROSTER_ENOMEM) {
        snprintf(rel, sizeof(rel), "profiles/%s/%.64s" HISTORY_SUFFIX, rec->id, rec->digest);
        (void)roster_history_skip_add(replaced, rel, why);
    }
    return 0;
}

struct aged {
    char hex[65];
    double first_seen;
};

/* Oldest first: first_seen, then digest, ascending. */
static int cmp_oldest(const void *a, const void *b)
{
    const struct aged *x = a, *y = b;
    if (x->first_seen != y->first_seen)
        return x->first_seen < y->first_seen ? -1 : 1;
    return strcmp(x->hex, y->hex);
}

/* The versions of dir beyond keep, oldest first, except `current`. Files
 * whose header fails are neither counted nor removed (an operator may
 * want to look at them; listings report them). */
static void retain(const struct roster_history *h, const char *dir, const char *id, size_t count,
                   const char *current)
{
    DIR *d = opendir(dir);
    struct aged *v = roster_calloc(count ? count : 1, sizeof(*v));
    size_t n = 0;
    struct dirent *de;
    while (d && v && n < count && (de = readdir(d)) != NULL) {
        char path[HISTORY_PATH_MAX], why[300];
        struct roster_history_header hd;
        struct stat st;
        if (!roster_history_version_name(de->d_name, v[n].hex) ||
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
            roster_history_peek(path, id, v[n].hex, &hd, &st, why, sizeof(why)) < 0)
            continue;
        v[n++].first_seen = hd.first_seen;
    }
    if (d)
        closedir(d);
    if (v && n > h->keep) {
        qsort(v, n, sizeof(*v), cmp_oldest);
        size_t excess = n - h->keep;
        for (size_t i = 0; i < n && excess; i++) {
            char path[HISTORY_PATH_MAX];
            if (strcmp(v[i].hex, current) == 0 ||
                snprintf(path, sizeof(path), "%s/%s" HISTORY_SUFFIX, dir, v[i].hex) >=
                    (int)sizeof(path))
                continue;
            if (unlink(path) == 0 || errno == ENOENT)
                excess--; /* ENOENT: another writer removed it first */
        }
    }
    roster_free(v);
}

/* After a write into dir: temporary files of crashed writers go, and so
 * do the versions beyond keep. */
static void sweep(const struct roster_history *h, const char *dir, const char *id,
                  const char *current)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    size_t versions = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && versions <= ROSTER_HISTORY_SCAN_MAX) {
        if (roster_history_version_name(de->d_name, NULL)) {
            versions++;
            continue;
        }
        struct stat st;
        if (strncmp(de->d_name, HISTORY_TEMP_PREFIX, strlen(HISTORY_TEMP_PREFIX)) != 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (now - st.st_mtime > ROSTER_HISTORY_TEMP_AGE)
            (void)unlinkat(dirfd(d), de->d_name, 0); /* ENOENT: someone else's sweep */
    }
    closedir(d);
    if (versions > h->keep)
        retain(h, dir, id, versions, current);
}

static int valid_record(const struct roster_history_record *rec)
{
    char hex[65];
    if (!rec->id || !roster_id_valid(rec->id, strlen(rec->id)) || !rec->digest ||
        strlen(rec->digest) != 64 || roster_history_digest_parse(rec->digest, 64, hex) < 0 ||
        strcmp(hex, rec->digest) != 0 || !rec->renderer || !json_is_array(rec->lineage))
        return 0;
    for (int k = 0; k < ROSTER_HISTORY_NPARTS; k++)
        if (!rec->part[k] || rec->part_len[k] > ROSTER_RENDER_MAX_BYTES)
            return 0;
    return 1;
}

int roster_history_write(struct roster_history *h, const struct roster_history_record *rec,
                         struct roster_history_skips *replaced, struct roster_error *err)
{
    char top[HISTORY_PATH_MAX], dir[HISTORY_PATH_MAX], path[HISTORY_PATH_MAX];
    char name[80], tmp[HISTORY_PATH_MAX];
    if (!valid_record(rec))
        return roster_error_set(err, ROSTER_EINVAL, NULL, 0, 0, "not a version record");
    snprintf(name, sizeof(name), "%s" HISTORY_SUFFIX, rec->digest);
    if (roster_history_path(h, top, sizeof(top), NULL, NULL) < 0 ||
        roster_history_path(h, dir, sizeof(dir), rec->id, NULL) < 0 ||
        roster_history_path(h, path, sizeof(path), rec->id, name) < 0)
        return roster_error_set(err, ROSTER_EIO, NULL, 0, 0, "history path too long");
    if (mkdir(dir, 0755) == 0) {
        if (fsync_dir(top) < 0)
            return roster_error_set(err, ROSTER_EIO, top, 0, 0, "cannot sync %s: %s", top,
                                    strerror(errno));
    } else if (errno != EEXIST) {
        return roster_error_set(err, ROSTER_EIO, dir, 0, 0, "cannot create %s: %s", dir,
                                strerror(errno));
    }
    if (have_good_copy(path, rec, replaced))
        return 0;
    size_t hlen = 0;
    char *header = header_of(rec, &hlen);
    if (!header)
        return roster_error_set(err, ROSTER_ENOMEM, path, 0, 0, "out of memory");
    int r = hlen <= ROSTER_HISTORY_HEADER_MAX
                ? write_temp(dir, path, rec, header, hlen, tmp, sizeof(tmp), err)
                : roster_error_set(err, ROSTER_E2BIG, path, 0, 0, "header too large");
    roster_free(header);
    if (r < 0)
        return r;
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return roster_error_set(err, ROSTER_EIO, path, 0, 0, "cannot rename into %s: %s", path,
                                strerror(e));
    }
    if (fsync_dir(dir) < 0)
        return roster_error_set(err, ROSTER_EIO, dir, 0, 0, "cannot sync %s: %s", dir,
                                strerror(errno));
    sweep(h, dir, rec->id, rec->digest);
    return 1;
}
