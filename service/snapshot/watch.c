/* inotify watches over the profiles tree. */
#include "roster_watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roster_base.h"

#define MASK                                                                                       \
    (IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |            \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY)

struct wdir {
    int wd;
    char *path;
};

struct roster_watch {
    int fd;
    int parent_wd;
    char *root;
    char base[NAME_MAX + 1]; /* the root's name in its parent */
    struct wdir dirs[ROSTER_WATCH_MAX_DIRS];
    size_t ndirs;
};

static void add_tree(struct roster_watch *w, const char *path, int depth)
{
    if (w->ndirs >= ROSTER_WATCH_MAX_DIRS || depth > 16)
        return;
    int wd = inotify_add_watch(w->fd, path, MASK);
    if (wd < 0)
        return;
    for (size_t i = 0; i < w->ndirs; i++)
        if (w->dirs[i].wd == wd)
            goto children; /* already watched (a re-add after a swap) */
    w->dirs[w->ndirs].wd = wd;
    w->dirs[w->ndirs].path = roster_strndup(path, strlen(path));
    if (!w->dirs[w->ndirs].path) {
        inotify_rm_watch(w->fd, wd);
        return;
    }
    w->ndirs++;
children:;
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        struct stat st;
        if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
            continue;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            add_tree(w, sub, depth + 1);
    }
    closedir(d);
}

int roster_watch_new(struct roster_watch **out, const char *dir, char *why, size_t why_cap)
{
    struct roster_watch *w = roster_calloc(1, sizeof(*w));
    if (!w) {
        snprintf(why, why_cap, "out of memory");
        return ROSTER_ENOMEM;
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->root = roster_strndup(dir, strlen(dir));
    if (w->fd < 0 || !w->root) {
        snprintf(why, why_cap, "cannot watch %s: %s (use --watch 0 and --rescan-interval)", dir,
                 strerror(errno));
        roster_watch_free(w);
        return ROSTER_EIO;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : parent;
    size_t blen = strlen(base) < sizeof(w->base) - 1 ? strlen(base) : sizeof(w->base) - 1;
    memcpy(w->base, base, blen);
    w->base[blen] = '\0';
    if (slash == parent)
        parent[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(parent, sizeof(parent), ".");
    w->parent_wd = inotify_add_watch(w->fd, parent, IN_CREATE | IN_MOVED_TO | IN_DELETE);
    add_tree(w, dir, 0);
    if (w->ndirs == 0) {
        snprintf(why, why_cap, "cannot watch %s: %s", dir, strerror(errno));
        roster_watch_free(w);
        return ROSTER_EIO;
    }
    *out = w;
    return 0;
}

/* The kernel removed watch wd (its directory is gone): forget it. */
static void forget(struct roster_watch *w, int wd)
{
    for (size_t i = 0; i < w->ndirs; i++) {
        if (w->dirs[i].wd != wd)
            continue;
        roster_free(w->dirs[i].path);
        w->dirs[i] = w->dirs[--w->ndirs];
        return;
    }
}

/* Hidden names are never indexed, so their events do not matter, except
 * "..data": its rename is how Kubernetes swaps a ConfigMap's files. */
static int matters(const struct inotify_event *ev)
{
    return !ev->len || ev->name[0] != '.' || strcmp(ev->name, "..data") == 0;
}

static const char *path_of(const struct roster_watch *w, int wd)
{
    for (size_t i = 0; i < w->ndirs; i++)
        if (w->dirs[i].wd == wd)
            return w->dirs[i].path;
    return NULL;
}

int roster_watch_read(struct roster_watch *w)
{
    _Alignas(struct inotify_event) char buf[16384];
    int relevant = 0;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                relevant++;
                continue;
            }
            if (ev->mask & IN_IGNORED) {
                forget(w, ev->wd);
                continue;
            }
            if (ev->wd == w->parent_wd) {
                /* only the profiles path itself matters in the parent */
                if (ev->len && strcmp(ev->name, w->base) == 0) {
                    relevant++;
                    add_tree(w, w->root, 0);
                }
                continue;
            }
            if (!matters(ev))
                continue;
            relevant++;
            const char *dir = path_of(w, ev->wd);
            if (dir && ev->len && ev->name[0] != '.' && (ev->mask & IN_ISDIR) &&
                (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
                char sub[PATH_MAX];
                if (snprintf(sub, sizeof(sub), "%s/%s", dir, ev->name) < (int)sizeof(sub))
                    add_tree(w, sub, 1);
            }
        }
    }
    return relevant;
}

int roster_watch_fd(const struct roster_watch *w)
{
    return w->fd;
}

int roster_watch_pending(struct roster_watch *w)
{
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

void roster_watch_drain(struct roster_watch *w)
{
    roster_watch_read(w);
}

void roster_watch_free(struct roster_watch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    for (size_t i = 0; i < w->ndirs; i++)
        roster_free(w->dirs[i].path);
    roster_free(w->root);
    roster_free(w);
}
