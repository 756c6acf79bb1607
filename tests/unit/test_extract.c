/* Extraction from the seed profile: the reference for every view. */
#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_extract.h"
#include "roster_index.h"
#include "roster_scan.h"
#include "roster_resolve.h"
#include "util.h"

static struct roster_index *ix;
static struct roster_resolution *res;
static const struct roster_profile *seed;
static struct roster_expanded expanded; /* the index keeps no block trees */

static void setup(void)
{
    struct roster_error err;
    ck_assert_int_eq(roster_scan_dir(&ix, fixture("../../profiles"), NULL, &err), 0);
    ck_assert_int_eq(roster_resolve(&res, ix), 0);
    const struct roster_profile *lean = &res->profiles[roster_index_find(ix, "worker-devops")->pos];
    ck_assert(lean->ok);
    ck_assert(!lean->doc->has_blocks);
    ck_assert_ptr_null(lean->secs[0].sec->blocks);
    ck_assert_int_eq(roster_profile_expand(lean, &expanded), 0);
    seed = &expanded.profile;
    ck_assert_ptr_nonnull(seed->secs[0].sec->blocks);
    ck_assert_str_eq(seed->secs[0].sec->title, lean->secs[0].sec->title);
}

static void teardown(void)
{
    roster_expanded_release(&expanded);
    roster_resolution_free(res);
    roster_index_free(ix);
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

START_TEST(role)
{
    json_t *r = roster_extract_role(seed);
    ck_assert_str_eq(str(r, "name"), "devops");
    ck_assert_str_eq(str(r, "title"), "DevOps Worker");
    ck_assert_str_eq(str(r, "statement"),
                     "You are a DevOps engineer with deep expertise in CI/CD, infrastructure "
                     "automation, and operational excellence. Your role is to build reliable, "
                     "secure, and efficient deployment pipelines while ensuring systems are "
                     "observable, recoverable, and maintainable.");
    json_decref(r);
}
END_TEST

START_TEST(competencies)
{
    json_t *a = roster_extract_competencies(seed);
    ck_assert_uint_eq(json_array_size(a), 8);
    ck_assert_str_eq(str(json_array_get(a, 0), "name"), "CI/CD Pipelines");
    ck_assert_str_eq(str(json_array_get(a, 0), "description"),
                     "Design and maintain automated build, test, and deploy workflows");
    ck_assert_str_eq(str(json_array_get(a, 4), "name"), "Monitoring & Alerting");
    ck_assert_str_eq(str(json_array_get(a, 7), "name"), "Performance Optimization");
    ck_assert_str_eq(str(json_array_get(a, 7), "description"),
                     "Tune builds, deployments, and runtime performance");
    ck_assert_str_eq(str(json_array_get(a, 7), "from"), "worker-devops");
    ck_assert_str_eq(str(json_array_get(a, 0), "section"), "DevOps Worker/Core Competencies");
    json_decref(a);
}
END_TEST

START_TEST(work_patterns)
{
    json_t *a = roster_extract_work_patterns(seed);
    const char *names[] = {"Pipeline Optimization", "Rollback Planning", "Monitoring Setup"};
    const char *langs[] = {"yaml", NULL, NULL};
    ck_assert_uint_eq(json_array_size(a), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *w = json_array_get(a, i);
        ck_assert_str_eq(str(w, "name"), names[i]);
        ck_assert_str_eq(str(w, "from"), "worker-devops");
        ck_assert_int_eq(strncmp(str(w, "section"), "DevOps Worker/Work Patterns/", 28), 0);
        ck_assert_str_eq(str(w, "section") + strlen("DevOps Worker/Work Patterns/"), names[i]);
        json_t *steps = json_object_get(w, "steps");
        ck_assert_uint_eq(json_array_size(steps), 4);
        json_t *ex = json_object_get(w, "examples");
        ck_assert_uint_eq(json_array_size(ex), 1);
        ck_assert_pstr_eq(str(json_array_get(ex, 0), "language"), langs[i]);
    }
    json_t *po = json_array_get(a, 0);
    ck_assert_str_eq(str(po, "summary"), "When designing or improving CI/CD pipelines:");
    json_t *step = json_array_get(json_object_get(po, "steps"), 0);
    ck_assert_str_eq(str(step, "name"), "Analyze Current State");
    json_t *items = json_object_get(step, "items");
    ck_assert_uint_eq(json_array_size(items), 4);
    ck_assert_str_eq(json_string_value(json_array_get(items, 3)), "Check for flaky or slow tests");
    const char *code = str(json_array_get(json_object_get(po, "examples"), 0), "code");
    ck_assert(strncmp(code, "# CI Pipeline Best Practices\nname: CI\n", 38) == 0);
    ck_assert_ptr_null(strstr(code, "```"));
    json_t *rb = json_array_get(json_object_get(json_array_get(a, 1), "steps"), 2);
    ck_assert_str_eq(str(rb, "name"), "Automate Recovery");
    ck_assert_uint_eq(json_array_size(json_object_get(rb, "items")), 3);
    const char *matrix =
        str(json_array_get(json_object_get(json_array_get(a, 1), "examples"), 0), "code");
    ck_assert(strstr(matrix, "kubectl rollout undo deployment/app --to-revision=N\n") != NULL);
    json_decref(a);
}
END_TEST

START_TEST(tool_priorities)
{
    json_t *a = roster_extract_tool_priorities(seed);
    const char *names[] = {"Shell Tools", "Read Tools", "Edit Tools", "Search Tools"};
    const char *quals[] = {"Primary", "Secondary", "Tertiary", "Discovery"};
    const char *descs[] = {"Execute and automate", "Understand configs", "Modify configurations",
                           "Find patterns"};
    ck_assert_uint_eq(json_array_size(a), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *t = json_array_get(a, i);
        ck_assert_int_eq(json_integer_value(json_object_get(t, "rank")), (int)i + 1);
        ck_assert_str_eq(str(t, "name"), names[i]);
        ck_assert_str_eq(str(t, "qualifier"), quals[i]);
        ck_assert_str_eq(str(t, "description"), descs[i]);
        ck_assert_uint_eq(json_array_size(json_object_get(t, "uses")), 3);
        ck_assert_str_eq(str(t, "from"), "worker-devops");
        ck_assert_str_eq(str(t, "section"), "DevOps Worker/Tool Priorities");
    }
    ck_assert_str_eq(
        json_string_value(json_array_get(json_object_get(json_array_get(a, 3), "uses"), 2)),
        "Locate existing automation");
    json_decref(a);
}
END_TEST

START_TEST(output_standards)
{
    json_t *a = roster_extract_output_standards(seed);
    ck_assert_uint_eq(json_array_size(a), 3);
    ck_assert_str_eq(str(json_array_get(a, 0), "name"), "Infrastructure as Code");
    ck_assert_str_eq(str(json_array_get(a, 1), "name"), "Security Hardening");
    ck_assert_str_eq(str(json_array_get(a, 2), "name"), "Disaster Recovery");
    ck_assert_str_eq(str(json_array_get(a, 2), "section"),
                     "DevOps Worker/Output Standards/Disaster Recovery");
    ck_assert_str_eq(str(json_array_get(a, 0), "from"), "worker-devops");
    json_t *iac = json_array_get(json_object_get(json_array_get(a, 0), "examples"), 0);
    ck_assert_str_eq(str(iac, "language"), "yaml");
    json_t *tables = json_object_get(json_array_get(a, 1), "tables");
    ck_assert_uint_eq(json_array_size(tables), 1);
    json_t *t = json_array_get(tables, 0);
    json_t *header = json_object_get(t, "header");
    ck_assert_str_eq(json_string_value(json_array_get(header, 0)), "Layer");
    ck_assert_str_eq(json_string_value(json_array_get(header, 1)), "Practice");
    json_t *rows = json_object_get(t, "rows");
    ck_assert_uint_eq(json_array_size(rows), 5);
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(rows, 4), 1)),
                     "Read-only filesystems, non-root users, resource limits");
    json_t *dr = json_array_get(json_object_get(json_array_get(a, 2), "examples"), 0);
    ck_assert_str_eq(str(dr, "language"), "markdown");
    ck_assert(strncmp(str(dr, "code"), "## Disaster Recovery Runbook\n", 29) == 0);
    ck_assert(strstr(str(json_array_get(a, 1), "markdown"), "| Layer | Practice |") != NULL);
    json_decref(a);
}
END_TEST

START_TEST(anti_patterns)
{
    json_t *o = roster_extract_anti_patterns(seed);
    json_t *avoid = json_object_get(o, "avoid"), *always = json_object_get(o, "always");
    ck_assert_uint_eq(json_array_size(avoid), 8);
    ck_assert_uint_eq(json_array_size(always), 8);
    ck_assert_str_eq(str(json_array_get(avoid, 0), "text"),
                     "Include manual steps in automated pipelines");
    ck_assert_str_eq(str(json_array_get(avoid, 5), "text"),
                     "Use `latest` tags for container images");
    ck_assert_str_eq(str(json_array_get(always, 7), "text"), "Document runbooks for operations");
    /* provenance: every item names the profile and section it came from */
    for (size_t i = 0; i < 8; i++) {
        ck_assert_str_eq(str(json_array_get(avoid, i), "from"), "worker-devops");
        ck_assert_str_eq(str(json_array_get(always, i), "section"), "DevOps Worker/Anti-Patterns");
        ck_assert_uint_eq(json_object_size(json_array_get(avoid, i)), 3);
    }
    json_decref(o);
}
END_TEST

START_TEST(sections_have_provenance)
{
    json_t *a = roster_extract_sections(seed);
    ck_assert_uint_eq(json_array_size(a), 17); /* base has "Your Task" (its template) */
    json_t *first = json_array_get(a, 0);
    ck_assert_str_eq(str(first, "from"), "base");
    json_t *rb = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(a, i, s)
    {
        ck_assert_str_ne(str(s, "title"), "Disaster Recovery Runbook");
        if (strcmp(str(s, "title"), "Rollback Planning") == 0)
            rb = s;
    }
    ck_assert_ptr_nonnull(rb);
    ck_assert_str_eq(str(rb, "path"), "DevOps Worker/Work Patterns/Rollback Planning");
    ck_assert_str_eq(str(rb, "slug"), "rollback-planning");
    ck_assert_str_eq(str(rb, "parent"), "DevOps Worker/Work Patterns");
    ck_assert_str_eq(str(rb, "from"), "worker-devops");
    ck_assert_int_eq(json_integer_value(json_object_get(rb, "line")), 113);
    ck_assert_int_eq(json_integer_value(json_object_get(rb, "level")), 3);
    json_decref(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("extract");
    TCase *tc = tcase_create("seed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, role);
    tcase_add_test(tc, competencies);
    tcase_add_test(tc, work_patterns);
    tcase_add_test(tc, tool_priorities);
    tcase_add_test(tc, output_standards);
    tcase_add_test(tc, anti_patterns);
    tcase_add_test(tc, sections_have_provenance);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
