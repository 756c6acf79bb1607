/* The history store: opening it, listing and loading versions, marking
 * them seen (roster_history.h). Verifying a file is history_verify.c,
 * writing history_write.c, recording history_record.c. */
#include "history_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_text.h"

static const char *const PART_NAMES[ROSTER_HISTORY_NPARTS] = {"profile", "prompt", "prompt_json"};

const char *roster_history_part_name(enum roster_history_part p)
{
    return p < ROSTER_HISTORY_NPARTS ? PART_NAMES[p] : "?";
}

double roster_history_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

static int make_dir(const char *path, struct roster_error *err)
{
    struct stat st;
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return roster_error_set(err, ROSTER_EIO, path, 0, 0, "cannot create %s: %s", path,
                                strerror(errno));
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return roster_error_set(err, ROSTER_EIO, path, 0, 0, "%s is not a directory", path);
    return 0;
}

static int open_store(struct roster_history **out, const char *dir, unsigned keep, int create,
                      struct roster_error *err)
{
    char path[HISTORY_PATH_MAX];
    struct stat st;
    if (keep < 1 || keep > ROSTER_HISTORY_KEEP_MAX)
        return roster_error_set(err, ROSTER_EINVAL, NULL, 0, 0, "keep must be 1 to %d",
                                ROSTER_HISTORY_KEEP_MAX);
    struct roster_history *h = roster_calloc(1, sizeof(*h));
    if (!h)
        return roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
    int r = 0;
    h->keep = keep;
    h->dir = roster_strndup(dir, strlen(dir));
    if (!h->dir) {
        r = roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
        goto out_free;
    }
    if (roster_history_path(h, path, sizeof(path), NULL, NULL) < 0) {
        r = roster_error_set(err, ROSTER_EINVAL, dir, 0, 0, "history directory path too long");
        goto out_free;
    }
    if (create) {
        r = make_dir(dir, err);
        r = r < 0 ? r : make_dir(path, err);
    } else if (stat(dir, &st) < 0) {
        r = roster_error_set(err, ROSTER_ENOENT, dir, 0, 0, "%s: %s", dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        r = roster_error_set(err, ROSTER_ENOENT, dir, 0, 0, "%s: not a directory", dir);
    }
    if (r < 0)
        goto out_free;
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        r = roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of resources");
        goto out_free;
    }
    *out = h;
    return 0;
out_free:
    roster_free(h->dir);
    roster_free(h);
    return r;
}

int roster_history_open(struct roster_history **out, const char *dir, unsigned keep,
                        struct roster_error *err)
{
    return open_store(out, dir, keep, 1, err);
}

int roster_history_open_existing(struct roster_history **out, const char *dir,
                                 struct roster_error *err)
{
    return open_store(out, dir, ROSTER_HISTORY_KEEP_MAX, 0, err);
}

void roster_history_free(struct roster_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nreported; i++)
        roster_free(h->reported[i]);
    pthread_mutex_destroy(&h->lock);
    roster_free(h->dir);
    roster_free(h);
}

const char *roster_history_dir(const struct roster_history *h)
{
    return h->dir;
}

int roster_history_first_report(struct roster_history *h, const char *file)
{
    int first = 0;
    pthread_mutex_lock(&h->lock);
    size_t i = 0;
    while (i < h->nreported && strcmp(h->reported[i], file) != 0)
        i++;
    if (i == h->nreported && h->nreported < HISTORY_REPORTED_MAX) {
        h->reported[h->nreported] = roster_strndup(file, strlen(file));
        first = h->reported[h->nreported] != NULL;
        h->nreported += first;
    }
    pthread_mutex_unlock(&h->lock);
    return first;
}

int roster_history_path(const struct roster_history *h, char *out, size_t cap, const char *id,
                        const char *file)
{
    int n = snprintf(out, cap, "%s/profiles%s%s%s%s", h->dir, id ? "/" : "", id ? id : "",
                     file ? "/" : "", file ? file : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int roster_history_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int roster_history_version_name(const char *name, char hex[65])
{
    if (strlen(name) != 64 + sizeof(HISTORY_SUFFIX) - 1 || !roster_history_hex(name, 64) ||
        strcmp(name + 64, HISTORY_SUFFIX) != 0)
        return 0;
    if (hex) {
        memcpy(hex, name, 64);
        hex[64] = '\0';
    }
    return 1;
}

int roster_history_digest_parse(const char *s, size_t len, char hex[65])
{
    if (len == 71 && memcmp(s, "sha256:", 7) == 0) {
        s += 7;
        len -= 7;
    }
    if (len != 64)
        return -1;
    for (size_t i = 0; i < 64; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        hex[i] = c;
    }
    hex[64] = '\0';
    return 0;
}

int roster_history_skip_add(struct roster_history_skips *s, const char *file, const char *why)
{
    if (!s)
        return 0;
    if (s->n == ROSTER_HISTORY_SKIPS_MAX) {
        s->dropped++;
        return 0;
    }
    if (!s->v) {
        s->v = roster_calloc(ROSTER_HISTORY_SKIPS_MAX, sizeof(*s->v));
        if (!s->v)
            return ROSTER_ENOMEM;
    }
    char *f = roster_strndup(file, strlen(file));
    char *w = roster_strndup(why, strlen(why));
    if (!f || !w) {
        roster_free(f);
        roster_free(w);
        return ROSTER_ENOMEM;
    }
    s->v[s->n].file = f;
    s->v[s->n].reason = w;
    s->n++;
    return 0;
}

void roster_history_skips_release(struct roster_history_skips *s)
{
    for (size_t i = 0; s && i < s->n; i++) {
        roster_free(s->v[i].file);
        roster_free(s->v[i].reason);
    }
    if (s) {
        roster_free(s->v);
        memset(s, 0, sizeof(*s));
    }
}

static double mtime_of(const struct stat *st)
{
    return (double)st->st_mtim.tv_sec + (double)(st->st_mtim.tv_nsec / 1000000) / 1000.0;
}

/* The file's mtime (set when the version stopped being current), never
 * before first_seen (a file system's clock is coarser than ours). */
static double last_seen_of(const struct stat *st, double first_seen)
{
    double m = mtime_of(st);
    return m < first_seen ? first_seen : m;
}

/* Newest first: first_seen, then digest, descending. */
static int cmp_newest(const void *a, const void *b)
{
    const struct roster_history_entry *x = a, *y = b;
    if (x->first_seen != y->first_seen)
        return x->first_seen < y->first_seen ? 1 : -1;
    return -strcmp(x->digest, y->digest);
}

int roster_history_list(struct roster_history *h, const char *id, struct roster_history_entry **out,
                        size_t *n, struct roster_history_skips *skips, struct roster_error *err)
{
    char dir[HISTORY_PATH_MAX], path[HISTORY_PATH_MAX], rel[HISTORY_PATH_MAX], why[300];
    if (roster_history_path(h, dir, sizeof(dir), id, NULL) < 0)
        return roster_error_set(err, ROSTER_EIO, NULL, 0, 0, "path too long");
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR
                   ? ROSTER_ENOENT
                   : roster_error_set(err, ROSTER_EIO, dir, 0, 0, "cannot read %s: %s", dir,
                                      strerror(errno));
    struct roster_history_entry *v = NULL;
    size_t len = 0, cap = 0, seen = 0;
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d)) != NULL) {
        char hex[65];
        if (!roster_history_version_name(de->d_name, hex))
            continue;
        if (++seen > ROSTER_HISTORY_SCAN_MAX) {
            snprintf(rel, sizeof(rel), "profiles/%s", id);
            r = roster_history_skip_add(skips, rel,
                                        "more version files than are read; the "
                                        "rest are not listed");
            break;
        }
        struct roster_history_header hd;
        struct stat st;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
            continue;
        int pr = roster_history_peek(path, id, hex, &hd, &st, why, sizeof(why));
        if (pr == ROSTER_ENOENT)
            continue; /* removed meanwhile (retention elsewhere) */
        if (pr == ROSTER_ENOMEM) {
            r = pr;
            break;
        }
        if (pr < 0) {
            snprintf(rel, sizeof(rel), "profiles/%s/%s", id, de->d_name);
            r = roster_history_skip_add(skips, rel, why);
            continue;
        }
        struct roster_history_entry *grown = roster_grow(v, &cap, len, sizeof(*v), 16);
        if (!grown) {
            r = ROSTER_ENOMEM;
            break;
        }
        v = grown;
        memcpy(v[len].digest, hex, 65);
        v[len].first_seen = hd.first_seen;
        v[len].last_seen = last_seen_of(&st, hd.first_seen);
        len++;
    }
    closedir(d);
    if (r < 0) {
        roster_free(v);
        return roster_error_set(err, r, dir, 0, 0, "out of memory");
    }
    if (len)
        qsort(v, len, sizeof(*v), cmp_newest);
    *out = v;
    *n = len;
    return 0;
}

int roster_history_load(struct roster_history *h, const char *id, const char *digest,
                        struct roster_history_version *out, struct roster_error *err)
{
    char path[HISTORY_PATH_MAX], name[80], rel[300], why[300];
    struct roster_history_header hd;
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    snprintf(name, sizeof(name), "%.64s" HISTORY_SUFFIX, digest);
    snprintf(rel, sizeof(rel), "profiles/%s/%s", id, name);
    if (strlen(digest) != 64 || !roster_history_hex(digest, 64) ||
        roster_history_path(h, path, sizeof(path), id, name) < 0)
        return ROSTER_ENOENT;
    int r = roster_history_read_file(path, ROSTER_HISTORY_FILE_MAX, &data, &len, &st);
    if (r == ROSTER_ENOENT || r == ROSTER_ENOMEM)
        return r == ROSTER_ENOMEM ? roster_error_set(err, r, rel, 0, 0, "out of memory") : r;
    if (r == ROSTER_E2BIG)
        return roster_error_set(err, ROSTER_EIO, rel, 0, 0, "larger than %zu bytes",
                                (size_t)ROSTER_HISTORY_FILE_MAX);
    if (r < 0)
        return roster_error_set(err, ROSTER_EIO, rel, 0, 0, "cannot read: %s", strerror(errno));
    r = roster_history_verify(data, len, id, digest, 1, &hd, why, sizeof(why));
    if (r < 0) {
        roster_free(data);
        return r == ROSTER_ENOMEM ? roster_error_set(err, r, rel, 0, 0, "out of memory")
                                  : roster_error_set(err, ROSTER_EIO, rel, 0, 0, "%s", why);
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->digest, digest, 65);
    out->first_seen = hd.first_seen;
    out->last_seen = last_seen_of(&st, hd.first_seen);
    out->strict = hd.strict;
    memcpy(out->renderer, hd.renderer, sizeof(out->renderer));
    out->lineage = hd.lineage;
    out->data = data;
    out->len = len;
    size_t off = hd.end;
    for (int k = 0; k < ROSTER_HISTORY_NPARTS; k++) {
        out->off[k] = off;
        out->plen[k] = hd.plen[k];
        off += hd.plen[k];
    }
    snprintf(out->file, sizeof(out->file), "%s", rel);
    return 0;
}

void roster_history_version_release(struct roster_history_version *v)
{
    if (!v)
        return;
    json_decref(v->lineage);
    roster_free(v->data);
    memset(v, 0, sizeof(*v));
}

char *roster_history_version_take(struct roster_history_version *v, enum roster_history_part p,
                                  size_t *len)
{
    char *b = roster_strndup(v->data + v->off[p], v->plen[p]);
    if (b)
        *len = v->plen[p];
    return b;
}

int roster_history_has_profile(struct roster_history *h, const char *id)
{
    char path[HISTORY_PATH_MAX];
    struct stat st;
    return roster_history_path(h, path, sizeof(path), id, NULL) == 0 && stat(path, &st) == 0 &&
           S_ISDIR(st.st_mode);
}

int roster_history_present(struct roster_history *h, const char *id, const char *digest)
{
    char path[HISTORY_PATH_MAX], name[80], why[300];
    struct roster_history_header hd;
    struct stat st;
    snprintf(name, sizeof(name), "%.64s" HISTORY_SUFFIX, digest);
    if (roster_history_path(h, path, sizeof(path), id, name) < 0)
        return 0;
    return roster_history_peek(path, id, digest, &hd, &st, why, sizeof(why)) == 0;
}

int roster_history_touch(struct roster_history *h, const char *id, const char *digest,
                         struct roster_error *err)
{
    char path[HISTORY_PATH_MAX], name[80];
    snprintf(name, sizeof(name), "%.64s" HISTORY_SUFFIX, digest);
    if (roster_history_path(h, path, sizeof(path), id, name) < 0)
        return ROSTER_ENOENT;
    const struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_NOW}};
    if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    if (errno == ENOENT)
        return ROSTER_ENOENT;
    return roster_error_set(err, ROSTER_EIO, path, 0, 0, "cannot set the time of %s: %s", path,
                            strerror(errno));
}
