/* Reading the profiles directory into an index (engine/index.c): the walk,
 * the file reads and their refusals. Hidden entries (".git", Kubernetes'
 * "..data") are skipped; symbolic links are followed only when they
 * resolve inside the directory. */
#include "roster_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_map.h"

/* A candidate file and its identity when the walk saw it. */
struct entry {
    char *rel;
    unsigned long long dev, ino, size, mtime_ns, ctime_ns;
};

struct walk {
    char real_root[PATH_MAX];
    size_t real_root_len;
    struct entry *paths; /* candidate files */
    size_t n, cap;
    struct roster_diags *diags;
    dev_t dir_dev[ROSTER_INDEX_MAX_DEPTH + 1];
    ino_t dir_ino[ROSTER_INDEX_MAX_DEPTH + 1];
};

static int warn(struct walk *w, const char *code, const char *rel, const char *msg)
{
    return roster_diags_add(w->diags, ROSTER_SEV_WARNING, code, rel, 0, 0, NULL, "%s", msg);
}

static void identity(struct entry *e, const struct stat *st)
{
    e->dev = (unsigned long long)st->st_dev;
    e->ino = (unsigned long long)st->st_ino;
    e->size = (unsigned long long)st->st_size;
    e->mtime_ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                  (unsigned long long)st->st_mtim.tv_nsec;
    e->ctime_ns = (unsigned long long)st->st_ctim.tv_sec * 1000000000ull +
                  (unsigned long long)st->st_ctim.tv_nsec;
}

static int add_path(struct walk *w, const char *rel, const struct stat *st)
{
    if (w->n >= ROSTER_INDEX_MAX_FILES)
        return ROSTER_E2BIG;
    struct entry *paths = roster_grow(w->paths, &w->cap, w->n, sizeof(*paths), 64);
    if (!paths)
        return ROSTER_ENOMEM;
    w->paths = paths;
    struct entry *e = &w->paths[w->n];
    memset(e, 0, sizeof(*e));
    e->rel = roster_strndup(rel, strlen(rel));
    if (!e->rel)
        return ROSTER_ENOMEM;
    identity(e, st);
    w->n++;
    return 0;
}

static int ends_with_md(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".md") == 0;
}

static int walk_dir(struct walk *w, const char *abs, const char *rel, int depth);

/* One directory entry: decide whether it is a profile, a directory to
 * enter, or something to skip (with a diagnostic). */
static int walk_entry(struct walk *w, int dfd, const char *name, const char *abs, const char *rel,
                      int depth)
{
    struct stat st;
    /* relative to the open directory: no walk of the whole path per file */
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return warn(w, "file.unreadable", rel, "cannot stat this entry; skipped");
    if (S_ISLNK(st.st_mode)) {
        char real[PATH_MAX];
        if (!realpath(abs, real))
            return warn(w, errno == ELOOP ? "file.symlink_loop" : "file.symlink_broken", rel,
                        errno == ELOOP ? "symbolic link loop; skipped"
                                       : "symbolic link points nowhere; skipped");
        size_t n = strlen(real);
        if (n < w->real_root_len || memcmp(real, w->real_root, w->real_root_len) != 0 ||
            (n > w->real_root_len && real[w->real_root_len] != '/'))
            return warn(w, "file.symlink_outside", rel,
                        "symbolic link points outside the profiles directory; not followed");
        if (stat(abs, &st) < 0)
            return warn(w, "file.unreadable", rel, "cannot stat the link target; skipped");
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth >= ROSTER_INDEX_MAX_DEPTH)
            return warn(w, "file.too_deep", rel, "directory nesting too deep; skipped");
        for (int i = 0; i <= depth; i++)
            if (w->dir_dev[i] == st.st_dev && w->dir_ino[i] == st.st_ino)
                return warn(w, "file.symlink_loop", rel, "directory loop; skipped");
        w->dir_dev[depth + 1] = st.st_dev;
        w->dir_ino[depth + 1] = st.st_ino;
        return walk_dir(w, abs, rel, depth + 1);
    }
    if (!ends_with_md(rel))
        return 0;
    if (!S_ISREG(st.st_mode))
        return warn(w, "file.not_regular", rel,
                    "not a regular file (FIFO, socket or device); skipped");
    return add_path(w, rel, &st);
}

static int join(char *out, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 2 > cap)
        return ROSTER_E2BIG;
    memcpy(out, a, la);
    size_t k = la;
    if (la)
        out[k++] = '/';
    memcpy(out + k, b, lb + 1);
    return 0;
}

static int walk_dir(struct walk *w, const char *abs, const char *rel, int depth)
{
    DIR *dir = opendir(abs);
    if (!dir)
        return depth == 0 ? ROSTER_EIO
                          : warn(w, "file.unreadable", rel, "cannot read directory; skipped");
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char a[PATH_MAX], rl[PATH_MAX];
        if (join(a, sizeof(a), abs, de->d_name) < 0 || join(rl, sizeof(rl), rel, de->d_name) < 0) {
            r = warn(w, "file.path_too_long", rel, "path too long; skipped");
            continue;
        }
        r = walk_entry(w, dirfd(dir), de->d_name, a, rl, depth);
    }
    closedir(dir);
    return r;
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

/* 1 when the open file fd is inside root: the walk checked the path, but a
 * link could have been swapped since, so check what was actually opened. */
static int opened_inside(int fd, const char *root)
{
    char proc[64], real[PATH_MAX];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, real, sizeof(real) - 1);
    if (n < 0)
        return 1; /* no /proc: the walk's check stands */
    real[n] = '\0';
    size_t rl = strlen(root);
    return strncmp(real, root, rl) == 0 && (real[rl] == '/' || real[rl] == '\0');
}

/* Reads a whole regular file of at most max bytes (+1 to detect more). */
static int read_file(const char *path, const char *root, char **out, size_t *len, size_t max,
                     int *err_no)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *err_no = errno;
        return ROSTER_EIO;
    }
    struct stat st;
    int r = 0;
    char *buf = NULL;
    if (root && !opened_inside(fd, root)) {
        *err_no = EXDEV;
        r = ROSTER_EIO;
        goto out_fd;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *err_no = EINVAL;
        r = ROSTER_EIO;
        goto out_fd;
    }
    size_t want = (size_t)st.st_size > max ? max + 1 : (size_t)st.st_size;
    buf = roster_malloc(want + 1);
    if (!buf) {
        r = ROSTER_ENOMEM;
        goto out_fd;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t k = read(fd, buf + got, want - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            *err_no = errno;
            r = ROSTER_EIO;
            goto out_buf;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    *out = buf;
    *len = (size_t)st.st_size > max ? (size_t)st.st_size : got;
    buf = NULL;
out_buf:
    roster_free(buf);
out_fd:
    close(fd);
    return r;
}

/* Reads and parses one file into a doc that keeps its own diagnostics
 * (so a later scan can reuse it whole). Thread-safe: touches nothing
 * shared. */
static int load_one(const char *root, const char *real_root, const struct entry *e, int strict,
                    struct roster_doc **out)
{
    char abs[PATH_MAX];
    if (join(abs, sizeof(abs), root, e->rel) < 0)
        return ROSTER_E2BIG;
    struct roster_diags *dg = roster_diags_new();
    if (!dg)
        return ROSTER_ENOMEM;
    char *raw = NULL;
    size_t len = 0;
    int err_no = 0;
    int r = read_file(abs, real_root, &raw, &len, ROSTER_DOC_MAX_BYTES, &err_no);
    if (r == ROSTER_ENOMEM)
        goto fail;
    if (r < 0 || len > ROSTER_DOC_MAX_BYTES) {
        roster_free(raw);
        r = roster_doc_new_failed(out, e->rel);
        if (r < 0)
            goto fail;
        (*out)->diags = dg;
        if (len > ROSTER_DOC_MAX_BYTES)
            return roster_diags_add(dg, ROSTER_SEV_ERROR, "file.too_large", e->rel, 0, 0, NULL,
                                    "the file is %zu bytes, over the limit of %d", len,
                                    ROSTER_DOC_MAX_BYTES);
        if (err_no == EXDEV)
            return roster_diags_add(dg, ROSTER_SEV_ERROR, "file.symlink_outside", e->rel, 0, 0,
                                    NULL,
                                    "the file opened is outside the profiles directory "
                                    "(a link changed while indexing); not read");
        return roster_diags_add(dg, ROSTER_SEV_ERROR, "file.unreadable", e->rel, 0, 0, NULL,
                                "cannot read the file: %s", strerror(err_no));
    }
    struct roster_doc_opts dopts = {.strict_markdown = strict};
    r = roster_doc_parse(out, e->rel, raw, len, &dopts, dg);
    if (r < 0)
        goto fail;
    (*out)->diags = dg;
    (*out)->stat.dev = e->dev;
    (*out)->stat.ino = e->ino;
    (*out)->stat.size = e->size;
    (*out)->stat.mtime_ns = e->mtime_ns;
    (*out)->stat.ctime_ns = e->ctime_ns;
    return 0;
fail:
    roster_diags_free(dg);
    return r;
}

/* How long before a scan a file's change is too recent to trust its
 * timestamps: file systems that keep whole seconds (ext3, FAT, some NFS)
 * show it in the value, the others tick in milliseconds at most. */
#define NS_PER_S 1000000000ull
#define RACY_COARSE_NS (2ull * NS_PER_S)
#define RACY_FINE_NS (100ull * 1000000ull)

static unsigned long long racy_window(unsigned long long mtime_ns, unsigned long long ctime_ns)
{
    return mtime_ns % NS_PER_S == 0 && ctime_ns % NS_PER_S == 0 ? RACY_COARSE_NS : RACY_FINE_NS;
}

/* The previous scan's doc for e when the file is unchanged (same device,
 * inode, size, modification and change times) and parsed the same way;
 * a duplicate's state depends on other files, so it is never reused. */
static struct roster_doc *reusable(const struct roster_index *prev, const struct entry *e,
                                   int strict)
{
    size_t lo = 0, hi = prev ? prev->ndocs : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(prev->docs[mid]->relpath, e->rel);
        if (c == 0) {
            struct roster_doc *d = prev->docs[mid];
            /* "racily clean", as git calls it: a file changed again within
             * the file system's timestamp granularity of the read that the
             * previous scan made can look unchanged; any file modified
             * shortly before that scan began (2 s with whole-second
             * timestamps, else 100 ms) is read again */
            unsigned long long racy = racy_window(d->stat.mtime_ns, d->stat.ctime_ns);
            int settled = d->stat.mtime_ns + racy < prev->scanned_at_ns &&
                          d->stat.ctime_ns + racy < prev->scanned_at_ns;
            int same = settled && d->diags && !d->duplicate && d->strict == strict && d->stat.ino &&
                       d->stat.dev == e->dev && d->stat.ino == e->ino && d->stat.size == e->size &&
                       d->stat.mtime_ns == e->mtime_ns && d->stat.ctime_ns == e->ctime_ns;
            return same ? d : NULL;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

struct loader {
    const struct roster_index *ix;
    const struct roster_scan_opts *opts;
    const struct entry *files;
    struct roster_doc **docs;
    size_t n;
    _Atomic size_t next;
    _Atomic int failed; /* the first error, 0 while none */
};

static void *load_some(void *arg)
{
    struct loader *l = arg;
    int strict = l->opts->strict_markdown;
    for (;;) {
        size_t i = atomic_fetch_add(&l->next, 1);
        if (i >= l->n || atomic_load(&l->failed))
            break;
        if (l->opts->cancel && atomic_load(l->opts->cancel)) {
            int none = 0;
            atomic_compare_exchange_strong(&l->failed, &none, ROSTER_ECANCELED);
            break;
        }
        struct roster_doc *d = reusable(l->opts->previous, &l->files[i], strict);
        int r = 0;
        if (d)
            l->docs[i] = roster_doc_ref(d);
        else
            r = load_one(l->ix->root, l->ix->real_root, &l->files[i], strict, &l->docs[i]);
        if (r < 0) {
            int none = 0;
            atomic_compare_exchange_strong(&l->failed, &none, r);
            break;
        }
        if (l->opts->progress) {
            atomic_fetch_add(&l->opts->progress->indexed, 1);
            if (d)
                atomic_fetch_add(&l->opts->progress->reused, 1);
        }
    }
    return NULL;
}

static unsigned thread_count(const struct roster_scan_opts *o, size_t n)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned t = o->threads ? o->threads : (unsigned)(cores > 0 ? cores : 1);
    if (t > ROSTER_SCAN_MAX_THREADS)
        t = ROSTER_SCAN_MAX_THREADS;
    if (n < 64 * (size_t)t) /* a small directory is not worth a thread */
        t = n / 64 ? (unsigned)(n / 64) : 1;
    return t;
}

/* Parses every file, on several threads when it pays. */
static int load_all(struct roster_index *ix, const struct entry *files, size_t n,
                    const struct roster_scan_opts *o)
{
    struct loader l = {.ix = ix, .opts = o, .files = files, .docs = ix->docs, .n = n};
    atomic_init(&l.next, 0);
    atomic_init(&l.failed, 0);
    pthread_t tid[ROSTER_SCAN_MAX_THREADS];
    unsigned t = thread_count(o, n), started = 0;
    for (unsigned k = 1; k < t; k++)
        started += pthread_create(&tid[started], NULL, load_some, &l) == 0;
    load_some(&l);
    for (unsigned k = 0; k < started; k++)
        pthread_join(tid[k], NULL);
    int r = atomic_load(&l.failed);
    for (size_t i = 0; i < n; i++) {
        if (ix->docs[i])
            roster_index_add(ix, ix->docs[i]); /* in path order: sets pos */
        else if (r == 0)
            r = ROSTER_ENOMEM; /* cannot happen: every slot was filled or failed */
    }
    return r;
}

/* A reused doc must never be marked a duplicate in the new index (it is
 * shared with the previous one): when a new file with an earlier path
 * takes its id, parse it afresh instead. */
static int unshare_duplicates(struct roster_index *ix, const struct entry *files,
                              const struct roster_scan_opts *o)
{
    struct roster_map *seen = roster_map_new(ix->ndocs);
    int r = seen ? 0 : ROSTER_ENOMEM;
    for (size_t i = 0; r == 0 && i < ix->ndocs; i++) {
        struct roster_doc *d = ix->docs[i];
        if (!roster_map_get(seen, d->id, strlen(d->id))) {
            r = roster_map_put(seen, d->id, strlen(d->id), d);
            continue;
        }
        if (atomic_load(&d->refs) == 1)
            continue;
        struct roster_doc *fresh = NULL;
        r = load_one(ix->root, ix->real_root, &files[i], o->strict_markdown, &fresh);
        if (r == 0) {
            roster_doc_free(d);
            fresh->pos = i;
            ix->docs[i] = fresh;
        }
    }
    roster_map_free(seen);
    return r;
}

int roster_scan_dir(struct roster_index **out, const char *dir,
                    const struct roster_index_opts *opts, struct roster_error *err)
{
    struct roster_scan_opts o = {.strict_markdown = opts && opts->strict_markdown, .threads = 1};
    return roster_scan(out, dir, &o, err);
}

int roster_scan(struct roster_index **out, const char *dir, const struct roster_scan_opts *opts,
                struct roster_error *err)
{
    struct walk w = {0};
    struct roster_index *ix = roster_index_new(dir);
    int r = ROSTER_ENOMEM;
    if (!ix)
        goto out;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ix->scanned_at_ns =
        (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec;
    struct stat st;
    errno = 0;
    if (!realpath(dir, w.real_root) || stat(w.real_root, &st) < 0 || !S_ISDIR(st.st_mode)) {
        r = roster_error_set(err, ROSTER_ENOENT, dir, 0, 0, "profiles directory %s: %s", dir,
                             errno ? strerror(errno) : "not a directory");
        goto out;
    }
    w.real_root_len = strlen(w.real_root);
    ix->real_root = roster_strndup(w.real_root, w.real_root_len);
    if (!ix->real_root) {
        r = ROSTER_ENOMEM;
        goto out;
    }
    w.diags = ix->diags;
    w.dir_dev[0] = st.st_dev;
    w.dir_ino[0] = st.st_ino;
    r = walk_dir(&w, dir, "", 0);
    if (r == ROSTER_EIO) {
        r = roster_error_set(err, ROSTER_EIO, dir, 0, 0, "profiles directory %s: %s", dir,
                             strerror(errno ? errno : EIO));
        goto out;
    }
    if (r == ROSTER_E2BIG)
        r = roster_diags_add(ix->diags, ROSTER_SEV_ERROR, "index.too_many_files", NULL, 0, 0, NULL,
                             "more than %d profile files; the rest are ignored",
                             ROSTER_INDEX_MAX_FILES);
    if (r < 0)
        goto out;
    if (w.n) /* an empty directory: no array at all */
        qsort(w.paths, w.n, sizeof(*w.paths), cmp_paths);
    if (opts->progress)
        atomic_store(&opts->progress->total, w.n);
    r = roster_index_reserve(ix, w.n);
    if (r == 0)
        r = load_all(ix, w.paths, w.n, opts);
    if (r == 0 && opts->previous)
        r = unshare_duplicates(ix, w.paths, opts);
    if (r < 0)
        goto out;
    r = roster_index_finish(ix);
    if (r < 0)
        goto out;
    *out = ix;
    ix = NULL;
out:
    if (r == ROSTER_ENOMEM)
        roster_error_set(err, r, dir, 0, 0, "out of memory while indexing %s", dir);
    for (size_t i = 0; i < w.n; i++)
        roster_free(w.paths[i].rel);
    roster_free(w.paths);
    roster_index_free(ix);
    return r;
}
