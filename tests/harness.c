/*
 * harness.c: the unit-test runner behind harness.h.
 *
 * Collects the tests registered by constructors, runs the selected ones each
 * in a forked child (WEIR_TEST_NOFORK=1 runs them in-process, for gdb), and
 * prints one line per test and the summary "N passed, N failed" last.
 */
#include "core/compat.h"

#include <sys/wait.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fs.h"
#include "harness.h"

typedef struct {
    char *name;
    weir_test_fn fn;
} test_case;

static test_case *tests;
static size_t n_tests, cap_tests;
static char tmpdir[4096];
static char srcdir[4096];

void weir_test_register(const char *file, const char *name, weir_test_fn fn)
{
    /* tests/core/test_buf.c -> core.buf.name */
    const char *p = strstr(file, "tests/");
    weir_buf full = WEIR_BUF_INIT;
    p = p ? p + 6 : file;
    for (; *p && strcmp(p, ".c") != 0; p++) {
        if (*p == '/')
            weir_buf_addch(&full, '.');
        else
            weir_buf_addch(&full, *p);
    }
    /* drop the "test_" prefix of the file part */
    char *t = strstr(full.ptr, "test_");
    if (t)
        memmove(t, t + 5, strlen(t + 5) + 1), full.len -= 5;
    weir_buf_addf(&full, ".%s", name);
    if (n_tests == cap_tests) {
        cap_tests = cap_tests ? cap_tests * 2 : 64;
        tests = realloc(tests, cap_tests * sizeof(*tests));
        if (!tests)
            abort();
    }
    tests[n_tests].name = weir_buf_detach(&full, NULL);
    tests[n_tests].fn = fn;
    n_tests++;
}

void weir_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    exit(1);
}

const char *weir_test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/weir-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return tmpdir;
}

const char *weir_test_data(const char *rel)
{
    static char path[8192];
    snprintf(path, sizeof(path), "%s/tests/data/%s", srcdir, rel);
    return path;
}

static void cleanup_tmpdir(void)
{
    if (tmpdir[0]) {
        weir_fs_remove_tree(tmpdir, NULL);
        tmpdir[0] = 0;
    }
}

static int cmp_tests(const void *a, const void *b)
{
    return strcmp(((const test_case *)a)->name, ((const test_case *)b)->name);
}

static int selected(const char *name, int argc, char **argv)
{
    if (argc == 0)
        return 1;
    for (int i = 0; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

static int run_one(const test_case *t, int nofork)
{
    if (nofork) {
        t->fn();
        cleanup_tmpdir();
        return 0;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        t->fn();
        cleanup_tmpdir();
        /* exit(), not _exit(): LeakSanitizer checks at exit, so a test that
         * leaks fails under `make asan`. */
        exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        printf("  killed by signal %d\n", WTERMSIG(status));
        return 1;
    }
    return WEXITSTATUS(status) != 0;
}

int main(int argc, char **argv)
{
    int list = 0;
    int nofork = getenv("WEIR_TEST_NOFORK") != NULL;
    const char *s = getenv("WEIR_SRCDIR");
    if (s)
        snprintf(srcdir, sizeof(srcdir), "%s", s);
    else if (!getcwd(srcdir, sizeof(srcdir)))
        return 2;
    if (argc > 1 && strcmp(argv[1], "-l") == 0)
        list = 1, argc--, argv++;
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: weir-unit [-l] [PATTERN...]\n"
               "Runs the unit tests whose name contains a PATTERN (all by default).\n"
               "  -l    list the test names\n"
               "WEIR_TEST_NOFORK=1 runs tests in-process (for a debugger).\n");
        return 0;
    }
    argc--, argv++;
    qsort(tests, n_tests, sizeof(*tests), cmp_tests);
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < n_tests; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        if (list) {
            puts(tests[i].name);
            continue;
        }
        int64_t t0 = 0;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        int bad = run_one(&tests[i], nofork);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0;
        if (bad) {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        } else {
            passed++;
            printf("ok   %s%s\n", tests[i].name, ms >= 1000 ? " (slow)" : "");
        }
        fflush(stdout);
    }
    if (!list)
        printf("unit: %zu passed, %zu failed\n", passed, failed);
    for (size_t i = 0; i < n_tests; i++)
        free(tests[i].name);
    free(tests);
    return failed ? 1 : 0;
}
