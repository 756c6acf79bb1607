/* The whole pipeline on a small directory built from the input: the input
 * is split into up to 6 files at "\n@@@\n"; inheritance between them is
 * driven by the front matter the fuzzer writes. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_files.h"
#include "roster_base.h"
#include "roster_index.h"
#include "roster_render.h"
#include "roster_resolve.h"

#define MAX_FILES 6

/* libFuzzer declares no prototype; this one is for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[MAX_FILES] = {"a.md",      "b.md",      "c.md",
                                                 "d/base.md", "e/base.md", "f.md"};
    const char *bufs[MAX_FILES];
    size_t lens[MAX_FILES];
    const char *p = (const char *)data, *end = p + size;
    size_t n = fuzz_split_files(p, end, MAX_FILES, bufs, lens);
    struct roster_index *ix = NULL;
    struct roster_resolution *res = NULL;
    if (roster_index_load_memory(&ix, names, bufs, lens, n, NULL) < 0)
        return 0;
    if (roster_resolve(&res, ix) == 0) {
        for (size_t i = 0; i < res->n; i++) {
            if (!res->profiles[i].ok)
                continue;
            json_t *prof = roster_render_profile(&res->profiles[i], ix->diags);
            for (int v = ROSTER_VIEW_ROLE; prof && v <= ROSTER_VIEW_LINEAGE; v++) {
                json_t *j = roster_render_view(prof, (enum roster_view)v);
                size_t len;
                char *s = j ? roster_render_dump(j, &len) : NULL;
                roster_free(s);
                json_decref(j);
            }
            json_t *pr = roster_render_prompt(&res->profiles[i]);
            json_decref(pr);
            json_decref(prof);
        }
    }
    roster_resolution_free(res);
    roster_index_free(ix);
    return 0;
}
