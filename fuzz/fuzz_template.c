/* Prompt templates: declarations, placeholders, binding and rendering.
 * The input is profile files, then a NUL byte, then the values (JSON):
 *
 *   a.md [ "\n@@@\n" b.md [ "\n@@@\n" c.md ] ] [ "\0" {"name": "value", ...} ]
 *
 * The files give declarations (front matter `variables:`) and the body
 * with its placeholders; more than one lets a child extend a parent and
 * override its declarations. Every served profile gets a template, its
 * declarations, a bind of the values (an empty object when they are not a
 * JSON object) and a render of what was bound. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_files.h"
#include "roster_base.h"
#include "roster_index.h"
#include "roster_resolve.h"
#include "roster_template.h"

#define MAX_FILES 3
#define MAX_VALUES (256 * 1024) /* above the 64 KiB default max_length */

/* libFuzzer declares no prototype; this one is for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise of the API is a crash, so the fuzzer keeps it. */
static void expect(int ok)
{
    if (!ok)
        abort();
}

static void render(const struct roster_template *t, const json_t *resolved, size_t prompt_len,
                   int nothing_bound)
{
    size_t len = 0;
    char *out = roster_template_render(t, resolved, &len);
    if (out) {
        expect(out[len] == '\0');
        /* Without values only `{{{{` -> `{{` changes anything. */
        expect(!nothing_bound || len <= prompt_len);
    }
    roster_free(out);
}

static void run_template(const struct roster_profile *p, const json_t *values)
{
    struct roster_template *t = NULL;
    char why[300];
    if (roster_template_new(&t, p, why, sizeof(why)) < 0) {
        expect(t == NULL && why[0] != '\0');
        return;
    }
    roster_template_defaults_hold(t, why, sizeof(why));

    json_t *decls = roster_template_declarations(t);
    char *s = decls ? json_dumps(decls, JSON_COMPACT) : NULL;
    roster_free(s);
    json_decref(decls);

    json_t *resolved = NULL, *problems = NULL;
    int r = roster_template_bind(t, values, &resolved, &problems);
    if (r == 0) {
        expect(json_is_object(resolved) && problems == NULL);
        render(t, resolved, p->prompt_len, json_object_size(resolved) == 0);
    } else if (r == ROSTER_EINVAL) {
        expect(resolved == NULL && json_is_array(problems) && json_array_size(problems) > 0);
    }
    json_decref(resolved);
    json_decref(problems);

    json_t *none = json_object();
    if (none)
        render(t, none, p->prompt_len, 1);
    json_decref(none);

    roster_template_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *nul = memchr(p, '\0', size);
    const char *files_end = nul ? nul : end;
    json_t *values = NULL;
    if (nul && (size_t)(end - nul - 1) <= MAX_VALUES)
        values = json_loadb(nul + 1, (size_t)(end - nul - 1), JSON_ALLOW_NUL, NULL);
    if (!json_is_object(values)) {
        json_decref(values);
        values = json_object();
        if (!values)
            return 0;
    }

    static const char *const names[MAX_FILES] = {"a.md", "b.md", "c.md"};
    const char *bufs[MAX_FILES];
    size_t lens[MAX_FILES];
    size_t n = fuzz_split_files(p, files_end, MAX_FILES, bufs, lens);
    struct roster_index *ix = NULL;
    struct roster_resolution *res = NULL;
    if (roster_index_load_memory(&ix, names, bufs, lens, n, NULL) < 0)
        goto out_values;
    /* Resolution fails only without memory; a profile's problems are
     * diagnostics on it. */
    int r = roster_resolve(&res, ix);
    expect(r == 0 || r == ROSTER_ENOMEM);
    for (size_t i = 0; r == 0 && i < res->n; i++)
        if (res->profiles[i].ok)
            run_template(&res->profiles[i], values);
    roster_resolution_free(res);
    roster_index_free(ix);
out_values:
    json_decref(values);
    return 0;
}
