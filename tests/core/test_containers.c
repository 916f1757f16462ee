/* Tests of core/buf, core/arena, core/vec, core/map and core/str. */
#include "harness.h"

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/map.h"
#include "core/str.h"
#include "core/vec.h"

TEST(buf_basics)
{
    weir_buf b = WEIR_BUF_INIT;
    CHECK_STR(b.ptr, "");
    CHECK_INT(b.len, ==, 0);
    weir_buf_adds(&b, "hello");
    weir_buf_addch(&b, ' ');
    weir_buf_addf(&b, "%s %d", "world", 42);
    CHECK_STR(b.ptr, "hello world 42");
    weir_buf_truncate(&b, 5);
    CHECK_STR(b.ptr, "hello");
    for (int i = 0; i < 10000; i++)
        weir_buf_addf(&b, "%04d", i % 10000);
    CHECK_INT(b.len, ==, 5 + 40000);
    CHECK(b.ptr[b.len] == '\0');
    size_t len;
    char *s = weir_buf_detach(&b, &len);
    CHECK_INT(len, ==, 40005);
    CHECK_STR(b.ptr, "");
    free(s);
    weir_buf_sets(&b, "  \t trim me \n");
    weir_buf_trim(&b);
    CHECK_STR(b.ptr, "trim me");
    weir_buf_release(&b);
    /* detach of an empty buffer still hands out freeable memory */
    s = weir_buf_detach(&b, NULL);
    CHECK_STR(s, "");
    free(s);
}

TEST(buf_limit_refuses_and_flags)
{
    weir_buf b = WEIR_BUF_INIT;
    b.limit = 8;
    CHECK_INT(weir_buf_adds(&b, "12345"), ==, 0);
    CHECK_INT(weir_buf_adds(&b, "6789"), ==, WEIR_ETOOBIG);
    CHECK(b.toobig);
    CHECK_STR(b.ptr, "12345");
    CHECK_INT(weir_buf_addf(&b, "%s", "abcdefgh"), ==, WEIR_ETOOBIG);
    CHECK_INT(weir_buf_adds(&b, "678"), ==, 0);
    CHECK_STR(b.ptr, "12345678");
    weir_buf_release(&b);
}

TEST(buf_json_escape)
{
    weir_buf b = WEIR_BUF_INIT;
    const char in[] = "a\"b\\c\n\x01";
    weir_buf_add_json_escaped(&b, in, sizeof(in) - 1);
    CHECK_STR(b.ptr, "a\\\"b\\\\c\\n\\u0001");
    weir_buf_release(&b);
}

TEST(arena_alignment_and_big_blocks)
{
    weir_arena a;
    weir_arena_init(&a, 1024);
    for (int i = 1; i < 500; i++) {
        char *p = weir_arena_alloc(&a, (size_t)i);
        CHECK_INT((uintptr_t)p % _Alignof(max_align_t), ==, 0);
        memset(p, 0xab, (size_t)i);
    }
    char *big = weir_arena_calloc(&a, 1, 100000);
    CHECK(big[99999] == 0);
    char *s = weir_arena_printf(&a, "%s-%d", "x", 7);
    CHECK_STR(s, "x-7");
    CHECK_STR(weir_arena_strndup(&a, "abcdef", 3), "abc");
    weir_arena_release(&a);
    /* reusable after release */
    CHECK_STR(weir_arena_strdup(&a, "again"), "again");
    weir_arena_release(&a);
}

TEST(arena_zero_init_static)
{
    weir_arena a = WEIR_ARENA_INIT;
    CHECK_STR(weir_arena_strdup(&a, "static init works"), "static init works");
    weir_arena_release(&a);
}

TEST(vec_push_pop)
{
    WEIR_VEC(int) v = WEIR_VEC_INIT;
    for (int i = 0; i < 1000; i++)
        weir_vec_push(&v, i * 2);
    CHECK_INT(v.len, ==, 1000);
    CHECK_INT(v.items[999], ==, 1998);
    CHECK_INT(weir_vec_pop(&v), ==, 1998);
    CHECK_INT(weir_vec_last(&v), ==, 1996);
    weir_vec_release(&v);
    CHECK_INT(v.len, ==, 0);
    weir_strvec sv = WEIR_VEC_INIT;
    weir_strvec_push(&sv, "a");
    weir_strvec_push(&sv, "b");
    CHECK_STR(sv.items[1], "b");
    weir_strvec_release(&sv);
}

TEST(map_growth_and_deletion)
{
    weir_map m = WEIR_MAP_INIT;
    char key[32];
    for (intptr_t i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key-%ld", (long)i);
        CHECK(weir_map_put(&m, key, (void *)(i + 1)) == NULL);
    }
    CHECK_INT(m.len, ==, 20000);
    for (intptr_t i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof(key), "key-%ld", (long)i);
        CHECK(weir_map_del(&m, key) == (void *)(i + 1));
    }
    CHECK_INT(m.len, ==, 10000);
    for (intptr_t i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key-%ld", (long)i);
        void *v = weir_map_get(&m, key);
        CHECK(v == (i % 2 ? (void *)(i + 1) : NULL));
    }
    /* reinsert over tombstones, then replace */
    for (intptr_t i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof(key), "key-%ld", (long)i);
        weir_map_put(&m, key, (void *)(i + 1));
    }
    CHECK(weir_map_put(&m, "key-3", (void *)99) == (void *)4);
    CHECK_INT(m.len, ==, 20000);
    size_t it = 0, seen = 0;
    const char *k;
    void *v;
    while (weir_map_next(&m, &it, &k, &v))
        seen++;
    CHECK_INT(seen, ==, 20000);
    CHECK(weir_map_has(&m, "key-19999"));
    CHECK(!weir_map_has(&m, "key-20000"));
    weir_map_release(&m);
}

TEST(map_churn_does_not_fill_with_tombstones)
{
    weir_map m = WEIR_MAP_INIT;
    for (int round = 0; round < 100000; round++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", round);
        weir_map_put(&m, key, &m);
        weir_map_del(&m, key);
    }
    CHECK_INT(m.len, ==, 0);
    CHECK_INT(m.cap, <=, 64);
    weir_map_release(&m);
}

TEST(suggest_nearest_key)
{
    const char *keys[] = { "schedule", "start", "inputs", "models", "retries" };
    CHECK_STR(weir_str_suggest("shedule", keys, 5), "schedule");
    CHECK_STR(weir_str_suggest("retires", keys, 5), "retries");
    CHECK(weir_str_suggest("completely_different", keys, 5) == NULL);
    CHECK_INT(weir_str_distance("kitten", "sitting"), ==, 3);
    CHECK_INT(weir_str_distance("", "abc"), ==, 3);
    long long n;
    CHECK_INT(weir_str_to_i64("-42", &n), ==, 0);
    CHECK_INT(n, ==, -42);
    CHECK_INT(weir_str_to_i64("42x", &n), ==, WEIR_EINVALID);
    CHECK_INT(weir_str_to_i64("", &n), ==, WEIR_EINVALID);
}
