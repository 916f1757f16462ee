/*
 * harness.h: weir's unit-test harness.
 *
 *   #include "harness.h"
 *   TEST(adds_two) { CHECK_INT(1 + 1, ==, 2); }
 *
 * Tests register themselves (a constructor per TEST) under the name
 * "<folder>.<file>.<test>", e.g. "core.buf.adds_two" for tests/core/test_buf.c.
 * The runner (build/weir-unit) runs every test, or those whose name contains
 * one of its arguments, each in a forked child so a crash fails one test and
 * not the run; `weir-unit -l` lists names. A failed CHECK ends the test.
 *
 * weir_test_tmpdir() gives a fresh folder removed after the test.
 */
#ifndef WEIR_TEST_HARNESS_H
#define WEIR_TEST_HARNESS_H

#include "core/compat.h"

#include "core/error.h"

typedef void (*weir_test_fn)(void);
void weir_test_register(const char *file, const char *name, weir_test_fn fn);
_Noreturn void weir_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A new empty folder for this test; removed when the test ends. */
const char *weir_test_tmpdir(void);
/* Path of a file under tests/data (the runner finds the source tree). */
const char *weir_test_data(const char *rel);

#define TEST(name)                                                        \
    static void test_##name(void);                                        \
    __attribute__((constructor)) static void register_##name(void)        \
    {                                                                     \
        weir_test_register(__FILE__, #name, test_##name);                 \
    }                                                                     \
    static void test_##name(void)

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond))                                                      \
            weir_test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
    } while (0)

#define CHECK_INT(a, op, b)                                               \
    do {                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);               \
        if (!(a_ op b_))                                                  \
            weir_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld",  \
                           #a, #op, #b, a_, b_);                          \
    } while (0)

#define CHECK_DBL(a, b, eps)                                              \
    do {                                                                  \
        double a_ = (a), b_ = (b);                                        \
        if (!(fabs(a_ - b_) <= (eps)))                                    \
            weir_test_fail(__FILE__, __LINE__, "%s ~= %s: %.17g vs %.17g",\
                           #a, #b, a_, b_);                               \
    } while (0)

#define CHECK_STR(a, b)                                                   \
    do {                                                                  \
        const char *a_ = (a), *b_ = (b);                                  \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                            \
            weir_test_fail(__FILE__, __LINE__, "%s == %s:\n  got:      \"%s\"\n  expected: \"%s\"", \
                           #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                       \
    do {                                                                  \
        const char *h_ = (hay), *n_ = (needle);                           \
        if (!h_ || !strstr(h_, n_))                                       \
            weir_test_fail(__FILE__, __LINE__, "%s does not contain \"%s\":\n  \"%s\"", \
                           #hay, n_, h_ ? h_ : "(null)");                 \
    } while (0)

/* Checks that a call returned 0, printing the weir_error if not. */
#define CHECK_OK(call, errp)                                              \
    do {                                                                  \
        int rc_ = (call);                                                 \
        if (rc_ != 0)                                                     \
            weir_test_fail(__FILE__, __LINE__, "%s returned %d: %s", #call, rc_, \
                           weir_error_str(errp));                         \
    } while (0)

#endif
