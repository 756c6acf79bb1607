/* The `check` and `render` subcommands. */
#include "roster_cli.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_ignore.h"
#include "roster_index.h"
#include "roster_json.h"
#include "roster_scan.h"
#include "roster_render.h"
#include "roster_resolve.h"
#include "roster_snapshot.h"
#include "roster_text.h"

int roster_cli_write(FILE *f, const char *s, size_t n)
{
    return fwrite(s, 1, n, f) == n && fflush(f) == 0 ? 0 : -1;
}

/* Loads and resolves a profiles directory; prints why on failure. */
static int load(const char *dir, int strict, struct roster_index **ix,
                struct roster_resolution **res)
{
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_scan_opts opts = {.strict_markdown = strict}; /* a thread per core */
    if (roster_scan(ix, dir, &opts, &err) < 0) {
        fprintf(stderr, "rosterd: %s\n", err.msg);
        return 1;
    }
    if (roster_resolve(res, *ix) < 0) {
        fprintf(stderr, "rosterd: out of memory while resolving profiles\n");
        *ix = roster_index_free(*ix);
        return 1;
    }
    return 0;
}

/* ---- check --------------------------------------------------------------- */

#define IGNORE_MAX 64
#define IGNORE_BYTES 4096

/* The codes of every --ignore, validated. */
struct ignores {
    const char *codes[IGNORE_MAX];
    size_t n;
    char store[IGNORE_BYTES];
    size_t used;
};

/* Adds the comma-separated codes of one --ignore value; 2 after printing
 * the usage error when one cannot be ignored. */
static int add_ignores(struct ignores *ig, const char *value)
{
    char msg[600];
    for (const char *p = value;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len > 120)
            return roster_cli_usage("check", "--ignore takes diagnostic codes: CODE[,CODE]");
        if (roster_ignore_why("--ignore", p, len, msg, sizeof(msg)))
            return roster_cli_usage("check", msg);
        if (ig->n == IGNORE_MAX || ig->used + len + 1 > IGNORE_BYTES)
            return roster_cli_usage("check", "--ignore: too many codes");
        memcpy(ig->store + ig->used, p, len);
        ig->store[ig->used + len] = '\0';
        ig->codes[ig->n++] = ig->store + ig->used;
        ig->used += len + 1;
        p += len;
        if (!*p)
            return 0;
    }
}

/* Moves every `--ignore VALUE` (repeatable) out of argv into ig; the other
 * arguments go to rest, rest[0] = argv[0]. 2 on a usage error. */
static int take_ignores(int argc, char **argv, char **rest, int *nrest, struct ignores *ig)
{
    *nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        if (i > 0 && strcmp(argv[i], "--ignore") == 0) {
            if (i + 1 == argc)
                return roster_cli_usage("check", "incomplete option '--ignore'");
            v = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--ignore=", 9) == 0) {
            v = argv[i] + 9;
        }
        if (!v)
            rest[(*nrest)++] = argv[i];
        else if (add_ignores(ig, v))
            return 2;
    }
    return 0;
}

/* 1 when g is in the report: errors always are. */
static int shown(const struct ignores *ig, const struct roster_diag *g)
{
    for (size_t i = 0; g->severity != ROSTER_SEV_ERROR && g->code && i < ig->n; i++)
        if (strcmp(g->code, ig->codes[i]) == 0)
            return 0;
    return 1;
}

static size_t count_shown(const struct ignores *ig, const struct roster_diags *d,
                          enum roster_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; i < roster_diags_count(d); i++) {
        const struct roster_diag *g = roster_diags_get(d, i);
        n += g->severity == sev && shown(ig, g);
    }
    return n;
}

/* The directory dir as a prefix for the names of its files, relative to
 * base: "" when it is base, "sub/dir/" below it, else its absolute path. */
void roster_cli_dir_prefix(const char *dir, const char *base, char *out, size_t cap)
{
    char rd[PATH_MAX], rb[PATH_MAX];
    int n;
    if (!realpath(dir, rd) || !realpath(base, rb))
        n = snprintf(out, cap, "%s/", dir);
    else if (strcmp(rd, rb) == 0)
        n = snprintf(out, cap, "%s", "");
    else if (strcmp(rb, "/") == 0)
        n = snprintf(out, cap, "%s/", rd + 1);
    else if (strncmp(rd, rb, strlen(rb)) == 0 && rd[strlen(rb)] == '/')
        n = snprintf(out, cap, "%s/", rd + strlen(rb) + 1);
    else
        n = snprintf(out, cap, "%s/", rd);
    if (n < 0 || (size_t)n >= cap)
        out[0] = '\0'; /* too long: the names as the index has them */
}

/* Where GitHub annotation paths start: $GITHUB_WORKSPACE, else the
 * nearest directory from the profiles up that has a .git, else here. */
static void repo_root(const char *dir, char *out, size_t cap)
{
    const char *ws = getenv("GITHUB_WORKSPACE");
    char p[PATH_MAX], git[PATH_MAX + 8];
    struct stat st;
    if (ws && *ws) {
        snprintf(out, cap, "%s", ws);
        return;
    }
    for (int ok = realpath(dir, p) != NULL; ok;) {
        int root = strcmp(p, "/") == 0;
        int n = snprintf(git, sizeof(git), "%s/.git", root ? "" : p);
        if (n > 0 && (size_t)n < sizeof(git) && stat(git, &st) == 0) {
            snprintf(out, cap, "%s", p);
            return;
        }
        char *slash = strrchr(p, '/');
        ok = !root && slash;
        if (ok)
            slash[slash == p] = '\0'; /* "/a" -> "/" */
    }
    snprintf(out, cap, ".");
}

/* One diagnostic as text or a GitHub annotation, its file named from prefix. */
static int format_one(const struct roster_diag *g, const char *prefix, int gh, struct roster_buf *b)
{
    char path[PATH_MAX + 256];
    struct roster_diag named = *g;
    int n = g->file ? snprintf(path, sizeof(path), "%s%s", prefix, g->file) : -1;
    if (n > 0 && (size_t)n < sizeof(path))
        named.file = path;
    return gh ? roster_diag_format_github(&named, b) : roster_diag_format_text(&named, b);
}

static int report_json(const struct roster_index *ix, size_t served, const struct ignores *ig,
                       struct roster_buf *out)
{
    const struct roster_diags *d = ix->diags;
    json_t *o = json_object(), *items = json_array();
    int bad = !o || !items;
    for (size_t i = 0; !bad && i < roster_diags_count(d); i++)
        if (shown(ig, roster_diags_get(d, i)))
            bad = roster_json_push(items, roster_diag_to_json(roster_diags_get(d, i)));
    bad = bad || roster_json_set(o, "profiles", json_integer((json_int_t)ix->ndocs)) ||
          roster_json_set(o, "valid", json_integer((json_int_t)served)) ||
          roster_json_set(o, "errors",
                          json_integer((json_int_t)count_shown(ig, d, ROSTER_SEV_ERROR))) ||
          roster_json_set(o, "warnings",
                          json_integer((json_int_t)count_shown(ig, d, ROSTER_SEV_WARNING)));
    if (!bad) {
        bad = roster_json_set(o, "diagnostics", items);
        items = NULL;
    }
    size_t n = 0;
    char *s = bad ? NULL : roster_render_dump(o, &n);
    json_decref(items);
    json_decref(o);
    int r = s ? roster_buf_append(out, s, n) : ROSTER_ENOMEM;
    roster_free(s);
    return r;
}

/* The text or GitHub report; file names relative to here (text) or to the
 * repository (GitHub), so that editors and annotations find the files. */
static int report_lines(const struct roster_index *ix, const char *dir, size_t served, int gh,
                        const struct ignores *ig, struct roster_buf *out)
{
    const struct roster_diags *d = ix->diags;
    char base[PATH_MAX], prefix[PATH_MAX];
    if (gh)
        repo_root(dir, base, sizeof(base));
    else
        snprintf(base, sizeof(base), ".");
    roster_cli_dir_prefix(dir, base, prefix, sizeof(prefix));
    int r = 0;
    for (size_t i = 0; r == 0 && i < roster_diags_count(d); i++)
        if (shown(ig, roster_diags_get(d, i)))
            r = format_one(roster_diags_get(d, i), prefix, gh, out);
    if (r == 0 && !gh)
        r = roster_buf_printf(out, "%zu profiles, %zu valid, %zu errors, %zu warnings\n", ix->ndocs,
                              served, count_shown(ig, d, ROSTER_SEV_ERROR),
                              count_shown(ig, d, ROSTER_SEV_WARNING));
    return r;
}

static int check_args(int argc, char **argv, const char **dir, const char **format, int *strict,
                      struct ignores *ig)
{
    char **rest = roster_calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0;
    if (!rest) {
        fprintf(stderr, "rosterd check: out of memory\n");
        return 1;
    }
    const struct roster_cli_opt opts[] = {{.name = "--profiles", .value = dir},
                                          {.name = "--format", .value = format},
                                          {.name = "--strict-markdown", .flag = strict},
                                          {.name = NULL}};
    int rc = take_ignores(argc, argv, rest, &nrest, ig);
    if (rc == 0 && roster_cli_parse("check", nrest, rest, opts, NULL))
        rc = 2;
    roster_free(rest);
    if (rc == 0 && strcmp(*format, "text") && strcmp(*format, "json") && strcmp(*format, "github"))
        rc = roster_cli_usage("check", "--format must be text, json or github");
    return rc;
}

int roster_cli_check(int argc, char **argv)
{
    const char *dir = roster_cli_default_profiles(), *format = "text";
    int strict = 0;
    struct ignores ig = {.n = 0};
    int rc = check_args(argc, argv, &dir, &format, &strict, &ig);
    if (rc)
        return rc;
    struct roster_index *ix = NULL;
    struct roster_resolution *res = NULL;
    if (load(dir, strict, &ix, &res))
        return 1;
    size_t served = 0;
    for (size_t i = 0; i < res->n; i++)
        served += res->profiles[i].ok;
    struct roster_buf out;
    roster_buf_init(&out, (size_t)1 << 30);
    int r = strcmp(format, "json") == 0
                ? report_json(ix, served, &ig, &out)
                : report_lines(ix, dir, served, strcmp(format, "github") == 0, &ig, &out);
    if (r == 0 && out.len)
        r = roster_cli_write(stdout, out.data, out.len);
    size_t errors = roster_diags_count_severity(ix->diags, ROSTER_SEV_ERROR);
    roster_buf_release(&out);
    roster_resolution_free(res);
    roster_index_free(ix);
    if (r < 0) {
        fprintf(stderr, "rosterd check: cannot write the report\n");
        return 1;
    }
    return errors ? 1 : 0;
}
