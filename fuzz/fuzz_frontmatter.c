/* Front matter: normalization, splitting and YAML conversion. */
#include <jansson.h>
#include <stdint.h>

#include "roster_base.h"
#include "roster_frontmatter.h"
#include "roster_text.h"

/* libFuzzer declares no prototype; this one is for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    if (roster_text_normalize((const char *)data, size, &text, &len) < 0)
        return 0;
    struct roster_fm_split sp;
    struct roster_error err;
    json_t *v = NULL;
    if (roster_frontmatter_split(text, len, &sp, &err) == 0 && sp.present &&
        roster_frontmatter_parse(&v, text + sp.fm_off, sp.fm_len, sp.fm_line, &err) == 0) {
        char *s = json_dumps(v, JSON_COMPACT);
        free(s);
        json_decref(v);
    }
    /* the YAML parser on the raw input too (no splitting) */
    v = NULL;
    if (size <= ROSTER_FM_MAX_BYTES && roster_frontmatter_parse(&v, text, len, 1, &err) == 0)
        json_decref(v);
    roster_free(text);
    return 0;
}
