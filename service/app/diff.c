/* `rosterd diff OLD NEW`: what changes between two profiles directories,
 * profile by profile, after inheritance (so an edit to a shared parent
 * shows in every descendant). Each side is built as the server builds it
 * (roster_snapshot_build), each resolved profile compared with
 * roster_compare_profiles; the result is one JSON document that the other
 * formats are made from (app/diff_format.c). Exit codes as diff(1): 0 no
 * change, 1 changes (or profiles with errors), 2 trouble with the inputs
 * as a whole. docs/versions.md. */
#include "roster_cli.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diff.h"
#include "roster_base.h"
#include "roster_compare.h"
#include "roster_json.h"
#include "roster_render.h"
#include "roster_snapshot.h"
#include "roster_textdiff.h"

/* Ids in a lineage walk (extends is at most 10 hops; several parents). */
#define LINEAGE_MAX 64
/* The largest output (the JSON form carries every prompt diff). */
#define OUTPUT_MAX ((size_t)1 << 30)

struct side {
    const char *dir;
    const char *name; /* "old" or "new" */
    char prefix[PATH_MAX]; /* dir as seen from here: "" or ending in '/' */
    struct roster_snapshot *snap;
};

/* ---- arguments ------------------------------------------------------------ */

/* Moves the bare words out of argv (the two directories) into pos; what
 * is left goes to roster_cli_parse, which knows the options. */
static int diff_args(int argc, char **argv, const char **format, int *strict, const char **pos)
{
    const struct roster_cli_opt opts[] = {{.name = "--format", .value = format},
                                          {.name = "--strict-markdown", .flag = strict},
                                          {.name = NULL}};
    char **rest = roster_calloc((size_t)argc + 1, sizeof(char *));
    if (!rest) {
        fprintf(stderr, "rosterd diff: out of memory\n");
        return 2;
    }
    int nrest = 0, npos = 0, rc = 0;
    for (int i = 0; rc == 0 && i < argc; i++) {
        if (i > 0 && argv[i][0] != '-' && npos == 2) {
            rc = roster_cli_usage("diff", "more than two directories: OLD NEW");
        } else if (i > 0 && argv[i][0] != '-') {
            pos[npos++] = argv[i];
        } else {
            rest[nrest++] = argv[i];
            if (i > 0 && strcmp(argv[i], "--format") == 0 && i + 1 < argc)
                rest[nrest++] = argv[++i];
        }
    }
    if (rc == 0 && roster_cli_parse("diff", nrest, rest, opts, NULL))
        rc = 2;
    else if (rc == 0 && npos < 2)
        rc = roster_cli_usage("diff", "two profiles directories needed: OLD NEW");
    else if (rc == 0 && strcmp(*format, "text") && strcmp(*format, "json") &&
             strcmp(*format, "markdown") && strcmp(*format, "github"))
        rc = roster_cli_usage("diff", "--format must be text, json, markdown or github");
    roster_free(rest);
    return rc;
}

/* Builds the snapshot of one side; 2 after printing why it cannot. */
static int open_side(struct side *s, int strict)
{
    struct stat st;
    if (stat(s->dir, &st) < 0) {
        fprintf(stderr, "rosterd diff: %s: %s\n", s->dir, strerror(errno));
        return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "rosterd diff: %s: not a directory\n", s->dir);
        return 2;
    }
    roster_cli_dir_prefix(s->dir, ".", s->prefix, sizeof(s->prefix));
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot_opts so = {.dir = s->dir, .strict_markdown = strict, .generation = 1};
    if (roster_snapshot_build(&s->snap, &so, &err) < 0) {
        fprintf(stderr, "rosterd diff: %s: %s\n", s->dir, err.msg);
        return 2;
    }
    return 0;
}

/* ---- one profile ---------------------------------------------------------- */

static json_t *path_of(const struct side *s, const char *file)
{
    char path[PATH_MAX * 2];
    int n = snprintf(path, sizeof(path), "%s%s", s->prefix, file ? file : "");
    return n > 0 && (size_t)n < sizeof(path) ? json_string(path) : json_string(file ? file : "");
}

/* The error diagnostics of sp on side s into arr, their files as seen
 * from here. */
static int push_errors(const struct side *s, const struct roster_sprofile *sp, json_t *arr)
{
    size_t i;
    const json_t *g;
    int bad = 0;
    json_array_foreach(sp->diagnostics, i, g)
    {
        const char *sev = json_string_value(json_object_get(g, "severity"));
        if (bad || !sev || strcmp(sev, "error") != 0)
            continue;
        const char *file = json_string_value(json_object_get(g, "file"));
        json_t *o = json_deep_copy(g);
        bad = !o || roster_json_set(o, "side", json_string(s->name)) ||
              (file && roster_json_set(o, "file", path_of(s, file)));
        bad = roster_json_push(arr, roster_json_unless(bad, o)) || bad;
    }
    return bad ? ROSTER_ENOMEM : 0;
}

/* The ids of id's lineage on side s (itself first, then its ancestors,
 * breadth first), appended to ids[*n] when not there yet. */
static void lineage(const struct side *s, const char *id, const char **ids, size_t *n)
{
    size_t start = *n;
    const struct roster_sprofile *sp = roster_snapshot_find(s->snap, id, strlen(id));
    if (!sp)
        return;
    for (size_t k = 0; k < *n; k++)
        if (strcmp(ids[k], sp->id) == 0)
            return;
    if (*n < LINEAGE_MAX)
        ids[(*n)++] = sp->id;
    for (size_t q = start; q < *n; q++) {
        const struct roster_sprofile *p = roster_snapshot_find(s->snap, ids[q], strlen(ids[q]));
        for (size_t j = 0; p && j < p->nparents && *n < LINEAGE_MAX; j++) {
            const struct roster_sprofile *parent =
                roster_snapshot_find(s->snap, p->parents[j], strlen(p->parents[j]));
            int seen = !parent;
            for (size_t k = 0; !seen && k < *n; k++)
                seen = strcmp(ids[k], parent->id) == 0;
            if (!seen)
                ids[(*n)++] = parent->id;
        }
    }
}

/* The profiles of id's lineage (new side first) whose own file was added,
 * removed or modified: why id changed. */
static json_t *edited(const struct side *o, const struct side *n, const char *id)
{
    const char *ids[LINEAGE_MAX];
    size_t count = 0;
    lineage(n, id, ids, &count);
    lineage(o, id, ids, &count);
    json_t *arr = json_array();
    int bad = !arr;
    for (size_t k = 0; !bad && k < count; k++) {
        const struct roster_sprofile *a = roster_snapshot_find(o->snap, ids[k], strlen(ids[k]));
        const struct roster_sprofile *b = roster_snapshot_find(n->snap, ids[k], strlen(ids[k]));
        if (!a || !b || strcmp(a->source_sha256, b->source_sha256) != 0)
            bad = roster_json_push(arr, json_string(ids[k]));
    }
    return roster_json_unless(bad, arr);
}

static int prompt_of(const struct side *s, const struct roster_sprofile *sp,
                     const struct roster_rep **rep)
{
    return roster_snapshot_rep(s->snap, sp, ROSTER_VIEW_PROMPT, rep);
}

/* The comparison of a profile served on both sides. */
static int compare(const struct side *o, const struct side *n, const struct roster_sprofile *a,
                   const struct roster_sprofile *b, json_t **out, struct roster_error *err)
{
    char la[320], lb[320]; /* ids are at most 128 bytes */
    const struct roster_rep *pa = NULL, *pb = NULL;
    json_t *ja = roster_snapshot_profile(o->snap, a), *jb = roster_snapshot_profile(n->snap, b);
    int r = ja && jb && prompt_of(o, a, &pa) == 0 && prompt_of(n, b, &pb) == 0 ? 0 : ROSTER_ENOMEM;
    snprintf(la, sizeof(la), "old/%s/prompt.md", a->id);
    snprintf(lb, sizeof(lb), "new/%s/prompt.md", b->id);
    if (r == 0) {
        struct roster_compare_side sa = {ja, pa->body, pa->len, la},
                                   sb = {jb, pb->body, pb->len, lb};
        r = roster_compare_profiles(&sa, &sb, out, err);
    } else {
        roster_error_set(err, r, NULL, 0, 0, "out of memory rendering %s", a->id);
    }
    json_decref(jb);
    json_decref(ja);
    return r;
}

/* The empty parts of an entry that has no comparison: added (lines of its
 * prompt added), removed (removed), error (neither). */
static json_t *no_comparison(size_t added, size_t removed)
{
    return json_pack("{s:b, s:o, s:o, s:n, s:{s:I, s:I}, s:b}", "changed", 1, "views",
                     json_object(), "fields", json_object(), "prompt_diff", "prompt_lines", "added",
                     (json_int_t)added, "removed", (json_int_t)removed, "prompt_replaced", 0);
}

static size_t prompt_lines(const struct side *s, const struct roster_sprofile *sp, int *bad)
{
    const struct roster_rep *rep = NULL;
    if (prompt_of(s, sp, &rep) < 0) {
        *bad = 1;
        return 0;
    }
    return roster_textdiff_count_lines(rep->body, rep->len);
}

/* One entry of "profiles" (a and b: the profile on each side, or NULL). */
static json_t *entry(const struct side *o, const struct side *n, const char *id,
                     const struct roster_sprofile *a, const struct roster_sprofile *b,
                     struct roster_error *err)
{
    const char *status;
    json_t *cmp = NULL, *errors = json_array();
    int bad = !errors;
    if ((a && !a->ok) || (b && !b->ok)) {
        status = "error";
        bad = bad || (a && !a->ok && push_errors(o, a, errors)) ||
              (b && !b->ok && push_errors(n, b, errors));
        cmp = no_comparison(0, 0);
    } else if (!a) {
        status = "added";
        cmp = no_comparison(prompt_lines(n, b, &bad), 0);
    } else if (!b) {
        status = "removed";
        cmp = no_comparison(0, prompt_lines(o, a, &bad));
    } else {
        bad = bad || compare(o, n, a, b, &cmp, err) < 0;
        status = json_is_true(json_object_get(cmp, "changed")) ? "changed" : "unchanged";
    }
    json_t *e = json_object();
    bad = bad || !cmp || !e || roster_json_set(e, "id", json_string(id)) ||
          roster_json_set(e, "status", json_string(status)) ||
          roster_json_set(e, "file", b ? path_of(n, b->file) : path_of(o, a->file)) ||
          roster_json_set(e, "edited", edited(o, n, id));
    static const char *const keys[] = {"views",           "fields",      "prompt_lines",
                                       "prompt_replaced", "prompt_diff", NULL};
    for (const char *const *k = keys; !bad && *k; k++)
        bad = roster_json_set(e, *k, json_incref(json_object_get(cmp, *k)));
    bad = bad || roster_json_set(e, "errors", json_incref(errors));
    json_decref(errors);
    json_decref(cmp);
    if (bad && err && err->code == 0)
        roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory comparing %s", id);
    return roster_json_unless(bad, e);
}

/* ---- both directories ------------------------------------------------------ */

static int by_id(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Every id of either side, sorted, each once: into a new array. */
static const char **union_ids(const struct side *o, const struct side *n, size_t *count)
{
    size_t total = o->snap->n + n->snap->n, k = 0;
    const char **ids = roster_calloc(total ? total : 1, sizeof(char *));
    if (!ids)
        return NULL;
    for (size_t i = 0; i < o->snap->n; i++)
        ids[k++] = o->snap->profiles[i].id;
    for (size_t i = 0; i < n->snap->n; i++)
        ids[k++] = n->snap->profiles[i].id;
    qsort(ids, total, sizeof(char *), by_id);
    *count = 0;
    for (size_t i = 0; i < total; i++)
        if (*count == 0 || strcmp(ids[*count - 1], ids[i]) != 0)
            ids[(*count)++] = ids[i];
    return ids;
}

static json_t *collect(const struct side *o, const struct side *n, struct roster_error *err)
{
    size_t count = 0;
    const char **ids = union_ids(o, n, &count);
    json_t *res = json_object(), *profiles = json_array();
    json_int_t tally[5] = {0}; /* added, removed, changed, unchanged, errors */
    static const char *const names[] = {"added", "removed", "changed", "unchanged", "error"};
    int bad = !ids || !res || !profiles;
    for (size_t i = 0; !bad && i < count; i++) {
        const struct roster_sprofile *a = roster_snapshot_find(o->snap, ids[i], strlen(ids[i]));
        const struct roster_sprofile *b = roster_snapshot_find(n->snap, ids[i], strlen(ids[i]));
        json_t *e = entry(o, n, ids[i], a, b, err);
        const char *status = json_string_value(json_object_get(e, "status"));
        for (size_t k = 0; status && k < 5; k++)
            tally[k] += strcmp(status, names[k]) == 0;
        bad = roster_json_push(profiles, e);
    }
    bad = bad ||
          roster_json_set(res, "summary",
                          json_pack("{s:I, s:I, s:I, s:I, s:I}", "added", tally[0], "removed",
                                    tally[1], "changed", tally[2], "unchanged", tally[3], "errors",
                                    tally[4])) ||
          roster_json_set(res, "old", json_string(o->dir)) ||
          roster_json_set(res, "new", json_string(n->dir)) ||
          roster_json_set(res, "profiles", json_incref(profiles));
    json_decref(profiles);
    roster_free(ids);
    if (bad && err && err->code == 0)
        roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
    return roster_json_unless(bad, res);
}

/* 1 when anything differs: anything but "unchanged" counted. */
static int any_change(const json_t *res)
{
    const json_t *s = json_object_get(res, "summary");
    return json_integer_value(json_object_get(s, "added")) +
               json_integer_value(json_object_get(s, "removed")) +
               json_integer_value(json_object_get(s, "changed")) +
               json_integer_value(json_object_get(s, "errors")) >
           0;
}

static int format(const json_t *res, const char *fmt, struct roster_buf *out)
{
    if (strcmp(fmt, "text") == 0)
        return roster_diff_format_text(res, out);
    if (strcmp(fmt, "markdown") == 0)
        return roster_diff_format_markdown(res, out);
    if (strcmp(fmt, "github") == 0)
        return roster_diff_format_github(res, out);
    size_t len = 0;
    char *s = roster_render_dump(res, &len);
    int r = s ? roster_buf_append(out, s, len) : ROSTER_ENOMEM;
    roster_free(s);
    return r;
}

int roster_cli_diff(int argc, char **argv)
{
    const char *fmt = "text", *pos[2] = {NULL, NULL};
    int strict = 0;
    int rc = diff_args(argc, argv, &fmt, &strict, pos);
    if (rc)
        return rc;
    struct side o = {.dir = pos[0], .name = "old"}, n = {.dir = pos[1], .name = "new"};
    rc = open_side(&o, strict);
    if (rc == 0)
        rc = open_side(&n, strict);
    struct roster_error err;
    roster_error_clear(&err);
    json_t *res = rc ? NULL : collect(&o, &n, &err);
    struct roster_buf out;
    roster_buf_init(&out, OUTPUT_MAX);
    if (rc == 0 && !res) {
        fprintf(stderr, "rosterd diff: %s\n", err.msg);
        rc = 2;
    } else if (rc == 0 && (format(res, fmt, &out) < 0 ||
                           (out.len && roster_cli_write(stdout, out.data, out.len) < 0))) {
        fprintf(stderr, "rosterd diff: out of memory or cannot write the report\n");
        rc = 2;
    } else if (rc == 0) {
        rc = any_change(res);
    }
    roster_buf_release(&out);
    json_decref(res);
    roster_snapshot_unref(n.snap);
    roster_snapshot_unref(o.snap);
    return rc;
}
