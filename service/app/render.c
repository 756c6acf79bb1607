/* `rosterd render`: one profile's representation, the bytes the server
 * sends (the same snapshot functions), a scope, or the prompt rendered
 * with template variables (--var, --vars-file). */
#include "roster_cli.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "roster_base.h"
#include "roster_json.h"
#include "roster_render.h"
#include "roster_snapshot.h"
#include "roster_template.h"

/* A profile's error diagnostics (from the snapshot), as `check` prints
 * them: file names relative to here. */
static void print_profile_errors(const struct roster_sprofile *sp, const char *dir)
{
    char prefix[PATH_MAX];
    roster_cli_dir_prefix(dir, ".", prefix, sizeof(prefix));
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
        fprintf(stderr, "%s%s:%lld:%lld: error: %s [%s]\n", file ? prefix : "", file ? file : "-",
                (long long)json_integer_value(json_object_get(g, "line")),
                (long long)json_integer_value(json_object_get(g, "column")), msg ? msg : "",
                code ? code : "");
    }
}

/* The bytes the server sends for ?scope=own|inherited. */
static int print_scoped(const struct roster_snapshot *snap, const struct roster_sprofile *sp,
                        enum roster_view v, enum roster_scope scope)
{
    size_t len = 0;
    json_t *o = roster_snapshot_scoped(snap, sp, v, scope);
    char *body = o ? roster_render_dump(o, &len) : NULL;
    json_decref(o);
    int bad = !body || roster_cli_write(stdout, body, len) < 0;
    roster_free(body);
    if (bad)
        fprintf(stderr, "rosterd render: out of memory or cannot write output\n");
    return bad;
}

#define MAX_VARS 64
#define VARS_FILE_MAX (1024 * 1024)

/* The values of --vars-file (an object of name -> value, or the REST body
 * {"variables": {...}}) and then --var name=value (later ones win), into
 * *out; 1 after printing why it cannot. */
static int collect_vars(const char *file, const char *const *vars, size_t nvars, json_t **out)
{
    json_error_t e;
    struct stat st;
    if (file && stat(file, &st) == 0 && st.st_size > VARS_FILE_MAX) {
        fprintf(stderr, "rosterd render: %s: larger than %d bytes\n", file, VARS_FILE_MAX);
        return 1;
    }
    json_t *all = file ? json_load_file(file, JSON_REJECT_DUPLICATES, &e) : json_object();
    if (!all) {
        fprintf(stderr, "rosterd render: %s:%d: %s\n", file ? file : "-", e.line, e.text);
        return 1;
    }
    json_t *inner = json_object_get(all, "variables");
    if (json_is_object(inner) && json_object_size(all) == 1) {
        json_incref(inner);
        json_decref(all);
        all = inner;
    }
    if (!json_is_object(all)) {
        fprintf(stderr, "rosterd render: %s: not a JSON object of variables\n", file);
        json_decref(all);
        return 1;
    }
    for (size_t k = 0; k < nvars; k++) {
        const char *eq = strchr(vars[k], '=');
        if (!eq || eq == vars[k]) {
            fprintf(stderr, "rosterd render: --var %s: write --var name=value\n", vars[k]);
            json_decref(all);
            return 1;
        }
        char name[80];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - vars[k] > 64 ? 64 : eq - vars[k]), vars[k]);
        if (roster_json_set(all, name, json_string(eq + 1))) {
            fprintf(stderr, "rosterd render: --var %s: not UTF-8, or out of memory\n", vars[k]);
            json_decref(all);
            return 1;
        }
    }
    *out = all;
    return 0;
}

/* The prompt rendered with values: what POST .../prompt answers. */
static int print_rendered(const struct roster_snapshot *snap, const struct roster_sprofile *sp,
                          const json_t *values)
{
    const struct roster_template *t = NULL;
    json_t *resolved = NULL, *problems = NULL;
    int r = roster_snapshot_template(snap, sp, &t);
    if (r == 0)
        r = roster_template_bind(t, values, &resolved, &problems);
    if (r == ROSTER_EINVAL && problems) {
        size_t i;
        json_t *pb;
        json_array_foreach(problems, i, pb)
        {
            fprintf(stderr, "rosterd render: variable %s: %s: %s\n",
                    json_string_value(json_object_get(pb, "name")),
                    json_string_value(json_object_get(pb, "reason")),
                    json_string_value(json_object_get(pb, "detail")));
        }
        json_decref(problems);
        return 1;
    }
    size_t len = 0;
    char *out = r == 0 ? roster_template_render(t, resolved, &len) : NULL;
    json_decref(resolved);
    int bad = !out || roster_cli_write(stdout, out, len) < 0;
    if (bad)
        fprintf(stderr, "rosterd render: %s\n",
                r == ROSTER_EINVAL ? "the profile's variable declarations do not hold"
                                   : "out of memory or cannot write output");
    roster_free(out);
    return bad;
}

int roster_cli_render(int argc, char **argv)
{
    const char *dir = roster_cli_default_profiles(), *id = NULL, *view = "profile",
               *scope_s = "all", *vars_file = NULL, *vars[MAX_VARS];
    size_t nvars = 0;
    int strict = 0;
    const struct roster_cli_opt opts[] = {
        {.name = "--profiles", .value = &dir},
        {.name = "--view", .value = &view},
        {.name = "--scope", .value = &scope_s},
        {.name = "--strict-markdown", .flag = &strict},
        {.name = "--var", .list = vars, .count = &nvars, .max = MAX_VARS},
        {.name = "--vars-file", .value = &vars_file},
        {.name = NULL}};
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
    enum roster_scope scope;
    if (roster_scope_parse(scope_s, &scope) < 0)
        return roster_cli_usage("render", "--scope must be own, inherited or all");
    if (scope != ROSTER_SCOPE_ALL && !roster_scope_applies(v))
        return roster_cli_usage("render", "--scope applies to the profile and the views with "
                                          "items, not to this view");
    int templating = nvars || vars_file;
    if (templating && v != ROSTER_VIEW_PROMPT)
        return roster_cli_usage("render", "--var and --vars-file go with --view prompt");
    json_t *values = NULL;
    if (templating && collect_vars(vars_file, vars, nvars, &values))
        return 1;
    /* the snapshot the server would build: render prints exactly its bytes */
    struct roster_error err;
    roster_error_clear(&err);
    struct roster_snapshot *snap = NULL;
    struct roster_snapshot_opts so = {.dir = dir, .strict_markdown = strict, .generation = 1};
    if (roster_snapshot_build(&snap, &so, &err) < 0) {
        fprintf(stderr, "rosterd: %s\n", err.msg);
        json_decref(values);
        return 1;
    }
    int rc = 1;
    const struct roster_sprofile *sp = roster_snapshot_find(snap, id, strlen(id));
    const struct roster_rep *rep = NULL;
    if (!sp) {
        fprintf(stderr, "rosterd render: no profile with id \"%s\" in %s\n", id, dir);
    } else if (!sp->ok) {
        fprintf(stderr, "rosterd render: profile \"%s\" (%s) has errors:\n", id, sp->file);
        print_profile_errors(sp, dir);
    } else if (templating) {
        rc = print_rendered(snap, sp, values);
    } else if (scope != ROSTER_SCOPE_ALL) {
        rc = print_scoped(snap, sp, v, scope);
    } else if (roster_snapshot_rep(snap, sp, (int)v, &rep) < 0) {
        fprintf(stderr, "rosterd render: out of memory while rendering\n");
    } else if (roster_cli_write(stdout, rep->body, rep->len) < 0) {
        fprintf(stderr, "rosterd render: cannot write output\n");
    } else {
        rc = 0;
    }
    json_decref(values);
    roster_snapshot_unref(snap);
    return rc;
}
