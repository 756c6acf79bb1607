/* One profile file: encoding checks, front matter, fence repair, md4c,
 * the section tree; then resolution and every view of it. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "roster_base.h"
#include "roster_index.h"
#include "roster_render.h"
#include "roster_resolve.h"

/* libFuzzer declares no prototype; this one is for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *names[] = {"fuzz.md"};
    const char *bufs[] = {(const char *)data};
    size_t lens[] = {size};
    for (int strict = 0; strict < 2; strict++) {
        struct roster_index *ix = NULL;
        struct roster_resolution *res = NULL;
        struct roster_index_opts o = {.strict_markdown = strict};
        if (roster_index_load_memory(&ix, names, bufs, lens, 1, &o) < 0)
            return 0;
        if (roster_resolve(&res, ix) == 0 && res->profiles[0].ok) {
            json_t *p = roster_render_profile(&res->profiles[0], ix->diags);
            size_t n;
            char *s = p ? roster_render_dump(p, &n) : NULL;
            roster_free(s);
            json_decref(p);
        }
        roster_resolution_free(res);
        roster_index_free(ix);
    }
    return 0;
}
