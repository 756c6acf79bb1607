/* The `check` and `render` subcommands. */
#include "roster_cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_scan.h"
#include "roster_render.h"
#include "roster_resolve.h"
#include "roster_snapshot.h"

static int write_all(FILE *f, const char *s, size_t n)
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

int roster_cli_check(int argc, char **argv)
{
    const char *dir = roster_cli_default_profiles(), *format = "text";
    int strict = 0;
    const struct roster_cli_opt opts[] = {{"--profiles", &dir, NULL},
                                          {"--format", &format, NULL},
                                          {"--strict-markdown", NULL, &strict},
                                          {NULL, NULL, NULL}};
    if (roster_cli_parse("check", argc, argv, opts, NULL))
        return 2;
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "github"))
        return roster_cli_usage("check", "--format must be text, json or github");
    struct roster_index *ix = NULL;
    struct roster_resolution *res = NULL;
    if (load(dir, strict, &ix, &res))
        return 1;
    const struct roster_diags *d = ix->diags;
    size_t errors = roster_diags_count_severity(d, ROSTER_SEV_ERROR);
    size_t served = 0;
    for (size_t i = 0; i < res->n; i++)
        served += res->profiles[i].ok;
    struct roster_buf out;
    roster_buf_init(&out, (size_t)1 << 30);
    int r = 0;
    if (strcmp(format, "json") == 0) {
        json_t *o = json_object(), *items = json_array();
        for (size_t i = 0; o && items && i < roster_diags_count(d); i++)
            json_array_append_new(items, roster_diag_to_json(roster_diags_get(d, i)));
        json_object_set_new(o, "profiles", json_integer((json_int_t)ix->ndocs));
        json_object_set_new(o, "valid", json_integer((json_int_t)served));
        json_object_set_new(o, "errors", json_integer((json_int_t)errors));
        json_object_set_new(
            o, "warnings",
            json_integer((json_int_t)roster_diags_count_severity(d, ROSTER_SEV_WARNING)));
        json_object_set_new(o, "diagnostics", items);
        size_t n = 0;
        char *s = roster_render_dump(o, &n);
        json_decref(o);
        r = s ? roster_buf_append(&out, s, n) : ROSTER_ENOMEM;
        roster_free(s);
    } else {
        int gh = strcmp(format, "github") == 0;
        for (size_t i = 0; r == 0 && i < roster_diags_count(d); i++)
            r = gh ? roster_diag_format_github(roster_diags_get(d, i), &out)
                   : roster_diag_format_text(roster_diags_get(d, i), &out);
        if (r == 0 && !gh)
            r = roster_buf_printf(&out, "%zu profiles, %zu valid, %zu errors, %zu warnings\n",
                                  ix->ndocs, served, errors,
                                  roster_diags_count_severity(d, ROSTER_SEV_WARNING));
    }
    if (r == 0 && out.len)
        r = write_all(stdout, out.data, out.len);
    roster_buf_release(&out);
    roster_resolution_free(res);
    roster_index_free(ix);
    if (r < 0) {
        fprintf(stderr, "rosterd check: cannot write the report\n");
        return 1;
    }
    return errors ? 1 : 0;
}

/* A profile's error diagnostics (from the snapshot), as `check` prints them. */
static void print_profile_errors(const struct roster_sprofile *sp)
{
    size_t i;
    const json_t *g;
    json_array_foreach(sp->diagnostics, i, g)
    {
        const char *sev = json_string_value(json_object_get(g, "severity"));
        if (!sev || strcmp(sev, "error") != 0)
            continue;
        const char *file = json_string_value(json_object_get(g, "file"));
        const char *msg = json_string_value(json_object_get(g, "message"));
        const char *code = json_string_value(json_object_get(g, "code"));
        fprintf(stderr, "%s:%lld:%lld: error: %s [%s]\n", file ? file : "-",
                (long long)json_integer_value(json_object_get(g, "line")),
                (long long)json_integer_value(json_object_get(g, "column")), msg ? msg : "",
                code ? code : "");
    }
}

int roster_cli_render(int argc, char **argv)
{
    const char *dir = roster_cli_default_profiles(), *id = NULL, *view = "profile";
    int strict = 0;
    const struct roster_cli_opt opts[] = {{"--profiles", &dir, NULL},
                                          {"--view", &view, NULL},
                                          {"--strict-markdown", NULL, &strict},
                                          {NULL, NULL, NULL}};
    if (roster_cli_parse("render", argc, argv, opts, &id))
        return 2;
    enum roster_view v;
    if (!id)
        return roster_cli_usage("render", "missing profile ID");
    if (roster_view_parse(view, strlen(view), &v) < 0 || v == ROSTER_VIEW_SOURCE) {
        char names[256], msg[300];
        roster_view_names(names, sizeof(names), 1u << ROSTER_VIEW_SOURCE);
        snprintf(msg, sizeof(msg), "--view must be one of %s", names);
        return roster_cli_usage("render", msg);
    }
    /* the snapshot the server would build: render prints exactly its bytes */
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot *snap = NULL;
    struct roster_snapshot_opts so = {.dir = dir, .strict_markdown = strict, .generation = 1};
    if (roster_snapshot_build(&snap, &so, &err) < 0) {
        fprintf(stderr, "rosterd: %s\n", err.msg);
        return 1;
    }
    int rc = 1;
    const struct roster_sprofile *sp = roster_snapshot_find(snap, id, strlen(id));
    const struct roster_rep *rep = NULL;
    if (!sp) {
        fprintf(stderr, "rosterd render: no profile with id \"%s\" in %s\n", id, dir);
    } else if (!sp->ok) {
        fprintf(stderr, "rosterd render: profile \"%s\" (%s) has errors:\n", id, sp->file);
        print_profile_errors(sp);
    } else if (roster_snapshot_rep(snap, sp, (int)v, &rep) < 0) {
        fprintf(stderr, "rosterd render: out of memory while rendering\n");
    } else if (write_all(stdout, rep->body, rep->len) < 0) {
        fprintf(stderr, "rosterd render: cannot write output\n");
    } else {
        rc = 0;
    }
    roster_snapshot_unref(snap);
    return rc;
}
