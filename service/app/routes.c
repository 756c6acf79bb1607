/* `rosterd routes`: the HTTP route table as the server uses it, one JSON
 * object per line, so that tests (and people) can compare it with the
 * contract: pattern, methods, query parameters, whether it answers from the
 * snapshot, its metrics label and, for {view}, the view names. */
#include "roster_cli.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_httpparse.h"
#include "roster_render.h"

static json_t *methods_of(const char *allow)
{
    json_t *a = json_array();
    for (const char *p = allow; a && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n && json_array_append_new(a, json_stringn(p, n)) < 0) {
            json_decref(a);
            return NULL;
        }
        p += n;
    }
    return a;
}

static json_t *strings(const char *const *p)
{
    json_t *a = json_array();
    for (; a && *p; p++)
        if (json_array_append_new(a, json_string(*p)) < 0)
            json_decref(a), a = NULL;
    return a;
}

/* 1 when another entry of the table is {view}'s pattern with view v
 * written out (/v1/profiles/{id}/prompt): that entry comes first in the
 * table and answers the path, so it is not one of {view}'s. */
static int shadowed(const struct roster_route *rt, const char *v)
{
    const char *at = strstr(rt->pattern, "{view}");
    size_t pre = (size_t)(at - rt->pattern), vlen = strlen(v);
    size_t n = 0;
    const struct roster_route *all = roster_routes(&n);
    for (size_t i = 0; i < n; i++) {
        const char *p = all[i].pattern;
        if (&all[i] != rt && strncmp(p, rt->pattern, pre) == 0 && strncmp(p + pre, v, vlen) == 0 &&
            strcmp(p + pre + vlen, at + 6) == 0)
            return 1;
    }
    return 0;
}

/* For {view}: each view's name and the query parameters it takes. */
static json_t *views_of(const struct roster_route *rt)
{
    json_t *views = json_object();
    for (int v = 0; views && v < ROSTER_VIEW_COUNT && strstr(rt->pattern, "{view}"); v++) {
        const char *name = roster_view_name((enum roster_view)v);
        if (v != ROSTER_VIEW_PROFILE && !shadowed(rt, name) &&
            json_object_set_new(views, name, strings(roster_route_params(rt, v))) < 0)
            json_decref(views), views = NULL;
    }
    return views;
}

static json_t *route_json(const struct roster_route *rt)
{
    return json_pack("{s:s,s:o?,s:o?,s:b,s:s,s:o?}", "pattern", rt->pattern, "methods",
                     methods_of(rt->allow), "params", strings(rt->params), "snapshot",
                     (rt->flags & ROSTER_ROUTE_SNAPSHOT) != 0, "metric", rt->metric, "views",
                     views_of(rt));
}

int roster_cli_routes(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "rosterd routes: takes no arguments\nTry 'rosterd --help'.\n");
        return 2;
    }
    (void)argv;
    size_t n = 0;
    const struct roster_route *rt = roster_routes(&n);
    for (size_t i = 0; i < n; i++) {
        json_t *o = route_json(&rt[i]);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s || printf("%s\n", s) < 0) {
            roster_free(s);
            fprintf(stderr, "rosterd routes: out of memory or cannot write\n");
            return 1;
        }
        roster_free(s);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
