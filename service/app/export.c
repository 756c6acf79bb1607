/* `rosterd export OUTDIR`: every representation the server would send, as
 * files a static server or CDN can serve (with .gz siblings for gzip_static):
 *   v1/profiles.json, v1/facets.json, v1/diagnostics.json, openapi.yaml,
 *   v1/profiles/ID.json, v1/profiles/ID/VIEW.json, v1/profiles/ID/prompt.md,
 *   v1/profiles/ID/prompt.json, v1/profiles/ID/source.md */
#include "roster_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_admin.h"
#include "roster_base.h"
#include "roster_snapshot.h"

static int mkdirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

/* Writes rep at dir/name, and dir/name.gz when it has a gzip variant. */
static int put(const char *dir, const char *name, const struct roster_rep *rep)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
        write_file(path, rep->body, rep->len) < 0) {
        fprintf(stderr, "rosterd export: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    const struct roster_gz *z = NULL;
    if (roster_rep_gzip(rep, &z) < 0) {
        fprintf(stderr, "rosterd export: out of memory compressing %s\n", name);
        return -1;
    }
    if (z) {
        if (snprintf(path, sizeof(path), "%s/%s.gz", dir, name) >= (int)sizeof(path) ||
            write_file(path, z->data, z->len) < 0) {
            fprintf(stderr, "rosterd export: cannot write %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Representation `which` of sp, rendered as the server renders it. */
static int put_rep(const char *dir, const char *name, const struct roster_snapshot *s,
                   const struct roster_sprofile *sp, int which)
{
    const struct roster_rep *rep = NULL;
    if (roster_snapshot_rep(s, sp, which, &rep) < 0) {
        fprintf(stderr, "rosterd export: out of memory while rendering %s\n", sp->id);
        return -1;
    }
    return put(dir, name, rep);
}

static int export_profile(const char *out, const struct roster_snapshot *s,
                          const struct roster_sprofile *sp)
{
    char v1[4096], dir[4096], name[300];
    snprintf(v1, sizeof(v1), "%s/v1/profiles", out);
    if (snprintf(dir, sizeof(dir), "%s/%s", v1, sp->id) >= (int)sizeof(dir) || mkdirs(dir) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s.json", sp->id);
    if (put_rep(v1, name, s, sp, ROSTER_VIEW_PROFILE) < 0)
        return -1;
    for (int v = ROSTER_VIEW_ROLE; v < ROSTER_VIEW_COUNT; v++) {
        const char *ext = v == ROSTER_VIEW_PROMPT || v == ROSTER_VIEW_SOURCE ? "md" : "json";
        snprintf(name, sizeof(name), "%s.%s", roster_view_name((enum roster_view)v), ext);
        if (put_rep(dir, name, s, sp, v) < 0)
            return -1;
    }
    return put_rep(dir, "prompt.json", s, sp, ROSTER_REP_PROMPT_JSON);
}

int roster_cli_export(int argc, char **argv)
{
    const char *dir = roster_cli_default_profiles(), *out = NULL;
    const struct roster_cli_opt opts[] = {{.name = "--profiles", .value = &dir}, {.name = NULL}};
    if (roster_cli_parse("export", argc, argv, opts, &out))
        return 2;
    if (!out)
        return roster_cli_usage("export", "missing OUTDIR");
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot *s = NULL;
    struct roster_snapshot_opts so = {.dir = dir, .generation = 1};
    if (roster_snapshot_build(&s, &so, &err) < 0) {
        fprintf(stderr, "rosterd export: %s\n", err.msg);
        return 1;
    }
    char v1[4096];
    snprintf(v1, sizeof(v1), "%s/v1", out);
    int rc = mkdirs(v1) < 0 ? -1 : 0;
    if (rc == 0)
        rc = put(v1, "profiles.json", &s->list_default);
    if (rc == 0)
        rc = put(v1, "facets.json", &s->facets);
    if (rc == 0)
        rc = put(v1, "diagnostics.json", &s->diagnostics);
    if (rc == 0)
        rc = put(out, "openapi.yaml", roster_openapi_rep());
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        if (!s->profiles[i].ok)
            continue;
        rc = export_profile(out, s, &s->profiles[i]);
        n++;
    }
    roster_snapshot_unref(s);
    if (rc < 0) {
        fprintf(stderr, "rosterd export: failed writing to %s\n", out);
        return 1;
    }
    printf("exported %zu profiles to %s\n", n, out);
    return 0;
}
