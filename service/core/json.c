/* Checked jansson setters (roster_json.h). */
#include "roster_json.h"

#include <jansson.h>

int roster_json_set(json_t *o, const char *key, json_t *value)
{
    if (!value)
        return -1;
    return json_object_set_new(o, key, value) ? -1 : 0;
}

int roster_json_push(json_t *a, json_t *value)
{
    if (!value)
        return -1;
    return json_array_append_new(a, value) ? -1 : 0;
}

json_t *roster_json_unless(int bad, json_t *value)
{
    if (!bad)
        return value;
    json_decref(value);
    return NULL;
}
