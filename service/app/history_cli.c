/* `rosterd history ID`: the versions of a profile in a history store
 * (--history-dir of `rosterd serve`), read without a server, newest
 * first. Every listed version is verified completely; a file that fails
 * is reported on stderr as `FILE: history.corrupt: REASON` and not
 * listed. Exit 0 with versions, 1 without, 2 on usage errors. */
#include "roster_cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roster_base.h"
#include "roster_doc.h"
#include "roster_history.h"
#include "roster_json.h"
#include "roster_render.h"

/* "2026-01-31T12:00:00.125Z" */
static void iso_time(double t, char *out, size_t cap)
{
    time_t s = (time_t)t;
    struct tm tm;
    char day[32];
    if (!gmtime_r(&s, &tm) || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(out, cap, "%.3f", t);
        return;
    }
    snprintf(out, cap, "%s.%03dZ", day, (int)((t - (double)s) * 1000.0 + 0.5) % 1000);
}

/* A corrupt file: on stderr, and in `skipped`; 0 or -1 without memory. */
static int corrupt(const char *dir, json_t *skipped, const char *file, const char *reason)
{
    fprintf(stderr, "%s/%s: history.corrupt: %s\n", dir, file, reason);
    return roster_json_push(skipped, json_pack("{s:s,s:s,s:s}", "file", file, "code",
                                               "history.corrupt", "reason", reason));
}

/* One verified version as a JSON item; NULL when it is not listed (a
 * corrupt one goes to skipped; *oom set when memory ran out). */
static json_t *item_of(struct roster_history *h, const char *id,
                       const struct roster_history_entry *e, json_t *skipped, int *oom)
{
    struct roster_history_version v;
    struct roster_error err;
    roster_error_clear(&err);
    int r = roster_history_load(h, id, e->digest, &v, &err);
    *oom = r == ROSTER_ENOMEM ||
           (r == ROSTER_EIO && corrupt(roster_history_dir(h), skipped, err.file, err.msg) < 0);
    if (r < 0)
        return NULL; /* corrupt, or removed since it was listed */
    char digest[80];
    snprintf(digest, sizeof(digest), "sha256:%s", v.digest);
    json_t *item = json_pack("{s:s,s:f,s:f,s:O,s:s,s:s,s:b}", "digest", digest, "first_seen",
                             v.first_seen, "last_seen", v.last_seen, "lineage", v.lineage, "file",
                             v.file, "renderer", v.renderer, "strict", v.strict);
    *oom = item == NULL;
    roster_history_version_release(&v);
    return item;
}

static int print_text(const json_t *items)
{
    size_t i, k;
    const json_t *it, *f;
    json_array_foreach(items, i, it)
    {
        char first[40], last[40];
        iso_time(json_real_value(json_object_get(it, "first_seen")), first, sizeof(first));
        iso_time(json_real_value(json_object_get(it, "last_seen")), last, sizeof(last));
        printf("%s  first_seen %s  last_seen %s  ",
               json_string_value(json_object_get(it, "digest")), first, last);
        json_array_foreach(json_object_get(it, "lineage"), k, f)
        {
            printf("%s%s", k ? " > " : "", json_string_value(json_object_get(f, "path")));
        }
        putchar('\n');
    }
    return fflush(stdout) == 0 ? 0 : -1;
}

static int print_json(const char *id, const char *dir, json_t *items, json_t *skipped)
{
    json_t *doc = json_pack("{s:s,s:s,s:O,s:O}", "id", id, "history_dir", dir, "items", items,
                            "skipped", skipped);
    size_t len = 0;
    char *s = doc ? roster_render_dump(doc, &len) : NULL;
    json_decref(doc);
    int r = s ? roster_cli_write(stdout, s, len) : -1;
    roster_free(s);
    return r;
}

int roster_cli_history(int argc, char **argv)
{
    const char *env = getenv("ROSTER_HISTORY_DIR");
    const char *dir = env && *env ? env : NULL, *id = NULL, *format = "text";
    const struct roster_cli_opt opts[] = {{.name = "--history-dir", .value = &dir},
                                          {.name = "--format", .value = &format},
                                          {.name = NULL}};
    if (roster_cli_parse("history", argc, argv, opts, &id))
        return 2;
    if (!id)
        return roster_cli_usage("history", "missing profile ID");
    if (!roster_id_valid(id, strlen(id)))
        return roster_cli_usage("history", "profile ids match " ROSTER_ID_PATTERN);
    if (!dir)
        return roster_cli_usage("history", "missing --history-dir DIR (or ROSTER_HISTORY_DIR)");
    int json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "text") != 0)
        return roster_cli_usage("history", "--format takes text or json");
    struct roster_history *h = NULL;
    struct roster_error err;
    roster_error_clear(&err);
    if (roster_history_open_existing(&h, dir, &err) < 0)
        return roster_cli_usage("history", err.msg);
    struct roster_history_entry *v = NULL;
    struct roster_history_skips sk = {0};
    size_t n = 0;
    int rc = 1, oom = 0;
    json_t *items = json_array(), *skipped = json_array();
    int r = roster_history_list(h, id, &v, &n, &sk, &err);
    if (r == ROSTER_EIO || r == ROSTER_ENOMEM || !items || !skipped) {
        fprintf(stderr, "rosterd history: %s\n", r == ROSTER_EIO ? err.msg : "out of memory");
        goto out;
    }
    for (size_t i = 0; i < sk.n && !oom; i++)
        oom = corrupt(dir, skipped, sk.v[i].file, sk.v[i].reason) < 0;
    for (size_t i = 0; i < n && !oom; i++) {
        json_t *item = item_of(h, id, &v[i], skipped, &oom);
        if (item)
            oom = roster_json_push(items, item) < 0;
    }
    if (oom) {
        fprintf(stderr, "rosterd history: out of memory\n");
        goto out;
    }
    if (json_array_size(items) == 0 && !json)
        fprintf(stderr, "rosterd history: no versions of '%s' in %s\n", id, dir);
    if ((json ? print_json(id, dir, items, skipped) : print_text(items)) < 0) {
        fprintf(stderr, "rosterd history: cannot write the output\n");
        goto out;
    }
    rc = json_array_size(items) ? 0 : 1;
out:
    json_decref(items);
    json_decref(skipped);
    roster_history_skips_release(&sk);
    roster_free(v);
    roster_history_free(h);
    return rc;
}
