/* Reading the profiles directory into an index (engine/index.c): the walk,
 * the file reads and their refusals. Hidden entries (".git", Kubernetes'
 * "..data") are skipped; symbolic links are followed only when they
 * resolve inside the directory. */
#include "roster_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

struct walk {
    char real_root[PATH_MAX];
    size_t real_root_len;
    char **paths; /* relative paths of candidate files */
    size_t n, cap;
    struct roster_diags *diags;
    dev_t dir_dev[ROSTER_INDEX_MAX_DEPTH + 1];
    ino_t dir_ino[ROSTER_INDEX_MAX_DEPTH + 1];
};

static int warn(struct walk *w, const char *code, const char *rel, const char *msg)
{
    return roster_diags_add(w->diags, ROSTER_SEV_WARNING, code, rel, 0, 0, NULL, "%s", msg);
}

static int add_path(struct walk *w, const char *rel)
{
    if (w->n >= ROSTER_INDEX_MAX_FILES)
        return ROSTER_E2BIG;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        char **p = roster_realloc(w->paths, cap * sizeof(*p));
        if (!p)
            return ROSTER_ENOMEM;
        w->paths = p;
        w->cap = cap;
    }
    w->paths[w->n] = roster_strndup(rel, strlen(rel));
    if (!w->paths[w->n])
        return ROSTER_ENOMEM;
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
static int walk_entry(struct walk *w, const char *abs, const char *rel, int depth)
{
    struct stat st;
    if (lstat(abs, &st) < 0)
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
    return add_path(w, rel);
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
        r = walk_entry(w, a, rl, depth);
    }
    closedir(dir);
    return r;
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
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

static int load_one(struct roster_index *ix, const char *rel, const struct roster_index_opts *opts,
                    struct roster_doc **out)
{
    char abs[PATH_MAX];
    if (join(abs, sizeof(abs), ix->root, rel) < 0)
        return ROSTER_E2BIG;
    char *raw = NULL;
    size_t len = 0;
    int err_no = 0;
    int r = read_file(abs, ix->real_root, &raw, &len, ROSTER_DOC_MAX_BYTES, &err_no);
    if (r == ROSTER_ENOMEM)
        return r;
    if (r < 0 || len > ROSTER_DOC_MAX_BYTES) {
        roster_free(raw);
        r = roster_doc_new_failed(out, rel);
        if (r < 0)
            return r;
        if (len > ROSTER_DOC_MAX_BYTES)
            return roster_diags_add(ix->diags, ROSTER_SEV_ERROR, "file.too_large", rel, 0, 0, NULL,
                                    "the file is %zu bytes, over the limit of %d", len,
                                    ROSTER_DOC_MAX_BYTES);
        if (err_no == EXDEV)
            return roster_diags_add(ix->diags, ROSTER_SEV_ERROR, "file.symlink_outside", rel, 0, 0,
                                    NULL,
                                    "the file opened is outside the profiles directory "
                                    "(a link changed while indexing); not read");
        return roster_diags_add(ix->diags, ROSTER_SEV_ERROR, "file.unreadable", rel, 0, 0, NULL,
                                "cannot read the file: %s", strerror(err_no));
    }
    struct roster_doc_opts dopts = {.strict_markdown = opts && opts->strict_markdown};
    return roster_doc_parse(out, rel, raw, len, &dopts, ix->diags);
}

int roster_scan_dir(struct roster_index **out, const char *dir,
                    const struct roster_index_opts *opts, struct roster_error *err)
{
    struct walk w = {0};
    struct roster_index *ix = roster_index_new(dir);
    int r = ROSTER_ENOMEM;
    if (!ix)
        goto out;
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
    qsort(w.paths, w.n, sizeof(*w.paths), cmp_paths);
    r = roster_index_reserve(ix, w.n);
    for (size_t i = 0; r == 0 && i < w.n; i++) {
        struct roster_doc *doc = NULL;
        r = load_one(ix, w.paths[i], opts, &doc);
        if (r == 0)
            roster_index_add(ix, doc);
    }
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
        roster_free(w.paths[i]);
    roster_free(w.paths);
    roster_index_free(ix);
    return r;
}
