/* Core JSON and text helpers: the shortest printing of reals in dumped
 * JSON, and the bounded edit distance behind every "did you mean". */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_json.h"
#include "roster_text.h"
#include "util.h"

/* roster_json_shorten_reals over a copy of text; the result (static). */
static const char *shorten(const char *text)
{
    static char out[4096];
    struct roster_buf b;
    roster_buf_init(&b, sizeof(out));
    ck_assert_int_eq(roster_buf_puts(&b, text), 0);
    ck_assert_int_ge(roster_json_shorten_reals(&b), 0);
    ck_assert_uint_eq(strlen(b.data), b.len);
    memcpy(out, b.data, b.len + 1);
    roster_buf_release(&b);
    return out;
}

/* What jansson prints for one real, then shortened. */
static const char *dump_real(double d)
{
    json_t *v = json_real(d);
    char *s = json_dumps(v, JSON_ENCODE_ANY);
    ck_assert_ptr_nonnull(s);
    const char *r = shorten(s);
    free(s);
    json_decref(v);
    return r;
}

START_TEST(reals_print_shortest)
{
    ck_assert_str_eq(dump_real(0.1), "0.1");
    ck_assert_str_eq(dump_real(0.7), "0.7");
    ck_assert_str_eq(dump_real(1.1), "1.1");
    ck_assert_str_eq(dump_real(0.3), "0.3");
    ck_assert_str_eq(dump_real(1.0), "1.0");
    ck_assert_str_eq(dump_real(-2.0), "-2.0");
    ck_assert_str_eq(dump_real(100.0), "100.0");
    ck_assert_str_eq(dump_real(0.0), "0.0");
    ck_assert_str_eq(dump_real(-0.0), "-0.0");
    ck_assert_str_eq(dump_real(0.0001), "0.0001");
    ck_assert_str_eq(dump_real(1.5e-7), "1.5e-7");
    ck_assert_str_eq(dump_real(1e100), "1e100");
    ck_assert_str_eq(dump_real(-1.25e-300), "-1.25e-300");
    ck_assert_str_eq(dump_real(1e16), "10000000000000000.0"); /* %.17g's notation */
    ck_assert_str_eq(dump_real(1e17), "1e17");
    ck_assert_str_eq(dump_real(123456.789), "123456.789");
    ck_assert_str_eq(dump_real(5e-324), "5e-324");
    ck_assert_str_eq(dump_real(1.7976931348623157e308), "1.7976931348623157e308");
    /* needs all 17 digits: unchanged */
    ck_assert_str_eq(dump_real(0.1 + 0.2), "0.30000000000000004");
}
END_TEST

START_TEST(only_numbers_outside_strings)
{
    ck_assert_str_eq(shorten("{\"t\":0.69999999999999996,\"x\":[0.10000000000000001,2,-3]}"),
                     "{\"t\":0.7,\"x\":[0.1,2,-3]}");
    /* strings (escaped quotes included) and keys are text, integers stay */
    ck_assert_str_eq(shorten("{\"0.10000000000000001\":\"a\\\"0.10000000000000001\\\\\","
                             "\"n\":12345678901234567890,\"e\":1.5000000000000000E+100}"),
                     "{\"0.10000000000000001\":\"a\\\"0.10000000000000001\\\\\","
                     "\"n\":12345678901234567890,\"e\":1.5e100}");
    /* a shortest form that would be longer (100.0 for 1E+2) is not used */
    ck_assert_str_eq(shorten("[1E+2]"), "[1E+2]");
    ck_assert_str_eq(shorten("1.1000000000000001"), "1.1");
    ck_assert_str_eq(shorten(""), "");
    ck_assert_str_eq(shorten("[true,null,\"\"]"), "[true,null,\"\"]");
    /* not a number strtod reads whole: left alone */
    ck_assert_str_eq(shorten("[1.2.3]"), "[1.2.3]");
}
END_TEST

START_TEST(reals_round_trip_and_never_grow)
{
    srand(13);
    for (int i = 0; i < 20000; i++) {
        double m = (double)rand() / RAND_MAX - 0.5;
        double d = ldexp(m, rand() % 2000 - 1000);
        if (i % 3 == 0)
            d = (double)(rand() % 100000) / 1000.0; /* short decimals */
        json_t *v = json_real(d);
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        ck_assert_ptr_nonnull(s);
        const char *r = shorten(s);
        ck_assert_msg(strtod(r, NULL) == d, "%s -> %s", s, r);
        ck_assert_msg(strlen(r) <= strlen(s), "%s -> %s", s, r);
        ck_assert_msg(strpbrk(r, ".e") != NULL, "%s -> %s is no longer a real", s, r);
        free(s);
        json_decref(v);
    }
}
END_TEST

START_TEST(distance_is_bounded)
{
    ck_assert_uint_eq(roster_text_distance("devops", 6, "devopps", 7, 3), 1);
    ck_assert_uint_eq(roster_text_distance("abc", 3, "abc", 3, 0), 0);
    ck_assert_uint_eq(roster_text_distance("kitten", 6, "sitting", 7, 3), 3);
    ck_assert_uint_eq(roster_text_distance("kitten", 6, "sitting", 7, 2), 3); /* limit + 1 */
    ck_assert_uint_eq(roster_text_distance("a", 1, "abcdef", 6, 3), 4);
    ck_assert_uint_eq(roster_text_distance("", 0, "ab", 2, 3), 2);
    char longer[300];
    memset(longer, 'a', sizeof(longer));
    ck_assert_uint_eq(roster_text_distance(longer, 300, longer, 300, 3), 4);
    ck_assert_uint_eq(roster_text_distance(longer, 255, longer, 255, 3), 0);
}
END_TEST

START_TEST(nearest_keeps_the_closest)
{
    struct roster_nearest nr;
    roster_text_nearest_init(&nr, "worker-devopps", 14, 3);
    const char *cands[] = {"base",       "worker-devops",  "worker-sre",    "worker-devops",
                           "worker-dev", "worker-devops2", "worker-devopsx"};
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
        roster_text_nearest_offer(&nr, cands[i]);
    ck_assert_uint_eq(nr.n, 3);
    ck_assert_str_eq(nr.best[0], "worker-devops");
    ck_assert_uint_eq(nr.dist[0], 1);
    struct roster_buf b;
    roster_buf_init(&b, 1000);
    ck_assert_int_eq(roster_text_nearest_format(&nr, &b), 0);
    ck_assert_str_eq(b.data, "\"worker-devops\", \"worker-devops2\" or \"worker-devopsx\"");
    roster_buf_release(&b);
    roster_text_nearest_init(&nr, "zzz", 3, 1);
    roster_text_nearest_offer(&nr, "base");
    ck_assert_uint_eq(nr.n, 0);
    roster_buf_init(&b, 1000);
    ck_assert_int_eq(roster_text_nearest_format(&nr, &b), 0);
    ck_assert_uint_eq(b.len, 0);
    roster_buf_release(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, reals_print_shortest);
    tcase_add_test(tc, only_numbers_outside_strings);
    tcase_add_test(tc, reals_round_trip_and_never_grow);
    tcase_add_test(tc, distance_is_bounded);
    tcase_add_test(tc, nearest_keeps_the_closest);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
