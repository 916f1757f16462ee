/* Tests of config/yaml: locations, styles, typed accessors, anchors, merge
 * keys, limits, multiple documents and interpolation. */
#include "harness.h"

#include "config/yaml.h"

static const char *fake_env(const char *name, void *data)
{
    WEIR_UNUSED(data);
    if (strcmp(name, "HOST") == 0)
        return "db.local";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    if (strcmp(name, "PORT") == 0)
        return "5432";
    return NULL;
}

static weir_yaml_options interp(void)
{
    weir_yaml_options o = { 0 };
    o.flags = WEIR_YAML_INTERPOLATE;
    o.getenv = fake_env;
    return o;
}

/* Loads text; returns the load's code. The caller releases doc and diags. */
static int load(weir_yaml_doc *doc, const char *text, const weir_yaml_options *opts,
                weir_diags *d)
{
    return weir_yaml_load_buf(doc, "t.yml", text, strlen(text), opts, d);
}

/* The diagnostics, one per line. */
static const char *diags_text(weir_diags *d)
{
    static weir_buf b = WEIR_BUF_INIT;
    weir_buf_reset(&b);
    weir_diags_sort(d);
    for (size_t i = 0; i < d->list.len; i++) {
        weir_diag_format(&d->list.items[i], &b);
        weir_buf_addch(&b, '\n');
    }
    return b.ptr;
}

TEST(nodes_keep_locations_and_styles)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    const char *text = "# comment\n"
                       "name: classroom\n"
                       "list:\n"
                       "  - 'one'\n"
                       "  - \"two\"\n"
                       "  - k: |\n"
                       "      block\n"
                       "    j: 1\n"
                       "caf\xc3\xa9: \xc3\xa9t\xc3\xa9 # col counts characters\n"
                       "after: x\n";
    CHECK_INT(load(&doc, text, NULL, &d), ==, 0);
    const weir_yaml_node *root = doc.root;
    CHECK_INT(root->kind, ==, WEIR_YAML_MAPPING);
    CHECK_INT(root->line, ==, 2);
    CHECK_INT(root->col, ==, 1);
    CHECK_INT(root->n_pairs, ==, 4);
    CHECK_STR(root->file, "t.yml");

    const weir_yaml_node *name = weir_yaml_map_get(root, "name");
    CHECK_STR(name->text, "classroom");
    CHECK_INT(name->line, ==, 2);
    CHECK_INT(name->col, ==, 7);
    CHECK_INT(name->style, ==, WEIR_YAML_PLAIN);

    const weir_yaml_node *list = weir_yaml_map_get(root, "list");
    CHECK_INT(list->kind, ==, WEIR_YAML_SEQUENCE);
    CHECK_INT(list->n_items, ==, 3);
    CHECK_INT(list->line, ==, 4);
    CHECK_INT(list->col, ==, 3);
    CHECK_INT(list->items[0]->style, ==, WEIR_YAML_SINGLE_QUOTED);
    CHECK_INT(list->items[0]->col, ==, 5);
    CHECK_INT(list->items[1]->style, ==, WEIR_YAML_DOUBLE_QUOTED);
    CHECK_STR(list->items[1]->text, "two");
    const weir_yaml_node *k = weir_yaml_map_get(list->items[2], "k");
    CHECK_INT(k->style, ==, WEIR_YAML_LITERAL);
    CHECK_STR(k->text, "block\n");
    CHECK_INT(k->line, ==, 6);
    CHECK_INT(k->col, ==, 8);

    const weir_yaml_pair *p = weir_yaml_map_pair(root, "caf\xc3\xa9");
    CHECK(p != NULL);
    CHECK_INT(p->value->line, ==, 9);
    CHECK_INT(p->value->col, ==, 7);
    CHECK_INT(weir_yaml_map_get(root, "after")->line, ==, 10);
    CHECK(weir_yaml_map_get(root, "missing") == NULL);
    CHECK(weir_yaml_map_get(name, "x") == NULL);
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(only_plain_scalars_are_typed)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    const char *text = "i: 3\nqi: \"3\"\nb: true\nB: False\nqb: 'true'\nn: null\ntilde: ~\n"
                       "empty:\nqn: 'null'\nf: 2.5\ne: -1e3\ninf: .inf\nhex: 0x10\n"
                       "tagged: !!str 7\nbig: 99999999999999999999\n";
    CHECK_INT(load(&doc, text, NULL, &d), ==, 0);
    const weir_yaml_node *r = doc.root;
    int64_t i = 0;
    int b = -1;
    double f = 0;

    CHECK_OK(weir_yaml_get_int(weir_yaml_map_get(r, "i"), "i", &i, &d), NULL);
    CHECK_INT(i, ==, 3);
    CHECK_INT(weir_yaml_get_int(weir_yaml_map_get(r, "qi"), "qi", &i, &d), ==, WEIR_EINVALID);
    CHECK_INT(weir_yaml_get_int(weir_yaml_map_get(r, "hex"), NULL, &i, &d), ==, WEIR_EINVALID);
    CHECK_INT(weir_yaml_get_int(weir_yaml_map_get(r, "tagged"), NULL, &i, &d), ==,
              WEIR_EINVALID);
    CHECK_INT(weir_yaml_get_int(weir_yaml_map_get(r, "big"), NULL, &i, &d), ==, WEIR_EINVALID);
    CHECK_INT(i, ==, 3); /* untouched on error */
    CHECK_OK(weir_yaml_get_bool(weir_yaml_map_get(r, "b"), NULL, &b, &d), NULL);
    CHECK_INT(b, ==, 1);
    CHECK_OK(weir_yaml_get_bool(weir_yaml_map_get(r, "B"), NULL, &b, &d), NULL);
    CHECK_INT(b, ==, 0);
    CHECK_INT(weir_yaml_get_bool(weir_yaml_map_get(r, "qb"), "qb", &b, &d), ==, WEIR_EINVALID);
    CHECK(weir_yaml_is_null(weir_yaml_map_get(r, "n")));
    CHECK(weir_yaml_is_null(weir_yaml_map_get(r, "tilde")));
    CHECK(weir_yaml_is_null(weir_yaml_map_get(r, "empty")));
    CHECK(!weir_yaml_is_null(weir_yaml_map_get(r, "qn")));
    CHECK(!weir_yaml_is_null(weir_yaml_map_get(r, "i")));
    CHECK_OK(weir_yaml_get_double(weir_yaml_map_get(r, "f"), NULL, &f, &d), NULL);
    CHECK_DBL(f, 2.5, 0);
    CHECK_OK(weir_yaml_get_double(weir_yaml_map_get(r, "e"), NULL, &f, &d), NULL);
    CHECK_DBL(f, -1000, 0);
    CHECK_OK(weir_yaml_get_double(weir_yaml_map_get(r, "i"), NULL, &f, &d), NULL);
    CHECK_DBL(f, 3, 0);
    CHECK_OK(weir_yaml_get_double(weir_yaml_map_get(r, "inf"), NULL, &f, &d), NULL);
    CHECK(isinf(f));
    const char *s = NULL;
    CHECK_OK(weir_yaml_get_str(weir_yaml_map_get(r, "qi"), NULL, &s, &d), NULL);
    CHECK_STR(s, "3");
    CHECK_OK(weir_yaml_get_str(weir_yaml_map_get(r, "tagged"), NULL, &s, &d), NULL);
    CHECK_STR(s, "7");
    CHECK_INT(weir_yaml_get_str(weir_yaml_map_get(r, "n"), "n", &s, &d), ==, WEIR_EINVALID);
    CHECK_INT(weir_yaml_get_str(r, NULL, &s, &d), ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d),
              "t.yml:1:1: error: expected a string, got a mapping\n"
              "t.yml:2:5: error: expected an integer for 'qi', got the quoted string '3'\n"
              "t.yml:5:5: error: expected true or false for 'qb', got the quoted string 'true'\n"
              "t.yml:6:4: error: expected a string for 'n', got null\n"
              "t.yml:13:6: error: expected an integer, got '0x10'\n"
              "t.yml:14:9: error: expected an integer, got the quoted string '7'\n"
              "t.yml:15:6: error: expected an integer, got '99999999999999999999'\n");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(dates_durations_and_string_lists)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    const char *text = "start: 2024-02-29\nq: '2024-01-01'\nbad: 2023-02-29\n"
                       "d1: 30s\nd2: 5m\nd3: 2h\nd4: 1h30m\nd5: 90\nd6: 1d\nd7: 5 m\nd8: 3x\n"
                       "one: models\nmany: [a, 'b']\nnone:\nmixed: [a, {b: 1}]\nmap: {a: 1}\n";
    CHECK_INT(load(&doc, text, NULL, &d), ==, 0);
    const weir_yaml_node *r = doc.root;
    weir_date date = 0;
    char buf[WEIR_DATE_STRLEN];
    CHECK_OK(weir_yaml_get_date(weir_yaml_map_get(r, "start"), "start", &date, &d), NULL);
    CHECK_STR(weir_date_format(date, buf), "2024-02-29");
    CHECK_OK(weir_yaml_get_date(weir_yaml_map_get(r, "q"), "q", &date, &d), NULL);
    CHECK_STR(weir_date_format(date, buf), "2024-01-01");
    CHECK_INT(weir_yaml_get_date(weir_yaml_map_get(r, "bad"), "bad", &date, &d), ==,
              WEIR_EINVALID);

    static const struct { const char *key; int64_t secs; } durs[] = {
        { "d1", 30 }, { "d2", 300 }, { "d3", 7200 }, { "d4", 5400 }, { "d5", 90 },
        { "d6", 86400 },
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(durs); i++) {
        int64_t s = -1;
        CHECK_OK(weir_yaml_get_duration(weir_yaml_map_get(r, durs[i].key), NULL, &s, &d), NULL);
        CHECK_INT(s, ==, durs[i].secs);
    }
    int64_t s;
    CHECK_INT(weir_yaml_get_duration(weir_yaml_map_get(r, "d7"), "d7", &s, &d), ==,
              WEIR_EINVALID);
    CHECK_INT(weir_yaml_get_duration(weir_yaml_map_get(r, "d8"), "d8", &s, &d), ==,
              WEIR_EINVALID);
    CHECK_INT(weir_yaml_parse_duration("99999999999999999999d", &s), ==, WEIR_EINVALID);
    CHECK_INT(weir_yaml_parse_duration("", &s), ==, WEIR_EINVALID);
    CHECK_INT(weir_yaml_parse_duration("m", &s), ==, WEIR_EINVALID);

    const char **list = NULL;
    size_t n = 99;
    CHECK_OK(weir_yaml_get_strlist(&doc, weir_yaml_map_get(r, "one"), "one", &list, &n, &d),
             NULL);
    CHECK_INT(n, ==, 1);
    CHECK_STR(list[0], "models");
    CHECK_OK(weir_yaml_get_strlist(&doc, weir_yaml_map_get(r, "many"), "many", &list, &n, &d),
             NULL);
    CHECK_INT(n, ==, 2);
    CHECK_STR(list[1], "b");
    CHECK_OK(weir_yaml_get_strlist(&doc, weir_yaml_map_get(r, "none"), "none", &list, &n, &d),
             NULL);
    CHECK_INT(n, ==, 0);
    CHECK_INT(weir_yaml_get_strlist(&doc, weir_yaml_map_get(r, "mixed"), "mixed", &list, &n, &d),
              ==, WEIR_EINVALID);
    CHECK_INT(weir_yaml_get_strlist(&doc, weir_yaml_map_get(r, "map"), "map", &list, &n, &d),
              ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d),
              "t.yml:3:6: error: expected a date (YYYY-MM-DD) for 'bad', got '2023-02-29'\n"
              "t.yml:10:5: error: expected a duration like '30s', '5m' or '2h' for 'd7', got '5 m'\n"
              "t.yml:11:5: error: expected a duration like '30s', '5m' or '2h' for 'd8', got '3x'\n"
              "t.yml:15:12: error: expected a string for 'mixed', got a mapping\n"
              "t.yml:16:6: error: expected a string or a list of strings for 'map', got a mapping\n");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(anchors_aliases_and_merge_keys)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    const char *text = "base: &base { a: 1, b: 2, c: 3 }\n"
                       "other: &other { c: 30, d: 40 }\n"
                       "copy: *base\n"
                       "merged:\n"
                       "  x: 0\n"
                       "  <<: [*base, *other]\n"
                       "  b: 20\n"
                       "single:\n"
                       "  <<: *other\n"
                       "quoted:\n"
                       "  '<<': *other\n"
                       "s: &s hello\n"
                       "t: *s\n";
    CHECK_INT(load(&doc, text, NULL, &d), ==, 0);
    CHECK_STR(diags_text(&d), "");
    const weir_yaml_node *r = doc.root;
    CHECK(weir_yaml_map_get(r, "copy") == weir_yaml_map_get(r, "base"));
    const weir_yaml_node *m = weir_yaml_map_get(r, "merged");
    /* explicit keys first where written, merged ones where the << was */
    const char *order[] = { "x", "a", "c", "d", "b" };
    const char *values[] = { "0", "1", "3", "40", "20" };
    CHECK_INT(m->n_pairs, ==, 5);
    for (size_t i = 0; i < 5; i++) {
        CHECK_STR(m->pairs[i].key->text, order[i]);
        CHECK_STR(m->pairs[i].value->text, values[i]);
    }
    /* A merged value keeps the location where it was written. */
    CHECK_INT(weir_yaml_map_get(m, "d")->line, ==, 2);
    const weir_yaml_node *single = weir_yaml_map_get(r, "single");
    CHECK_INT(single->n_pairs, ==, 2);
    CHECK_STR(weir_yaml_map_get(single, "c")->text, "30");
    /* Only a plain << merges. */
    const weir_yaml_node *quoted = weir_yaml_map_get(r, "quoted");
    CHECK_INT(quoted->n_pairs, ==, 1);
    CHECK(weir_yaml_map_get(quoted, "<<") != NULL);
    CHECK_STR(weir_yaml_map_get(r, "t")->text, "hello");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(alias_bomb_is_refused)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    /* Nine levels of ten: a billion nodes once expanded. */
    weir_buf text = WEIR_BUF_INIT;
    weir_buf_adds(&text, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i <= 9; i++) {
        weir_buf_addf(&text, "a%d: &a%d [", i, i);
        for (int j = 0; j < 10; j++)
            weir_buf_addf(&text, "%s*a%d", j ? ", " : "", i - 1);
        weir_buf_adds(&text, "]\n");
    }
    CHECK_INT(load(&doc, text.ptr, NULL, &d), ==, WEIR_EINVALID);
    CHECK(doc.root == NULL);
    CHECK_STR(diags_text(&d), "t.yml:6:45: error: document too large: more than 1000000 "
                              "nodes once aliases are expanded\n");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);

    /* A smaller limit, and a use that stays under it, pass. */
    weir_yaml_options o = { 0 };
    o.max_nodes = 200;
    CHECK_INT(load(&doc, "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n", &o, &d), ==, 0);
    weir_yaml_doc_release(&doc);
    o.max_nodes = 10;
    CHECK_INT(load(&doc, "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n", &o, &d), ==, WEIR_EINVALID);
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
    weir_buf_release(&text);
}

TEST(deep_nesting_is_refused)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_buf text = WEIR_BUF_INIT;
    for (int i = 0; i < 100000; i++)
        weir_buf_addch(&text, '[');
    CHECK_INT(load(&doc, text.ptr, NULL, &d), ==, WEIR_EINVALID);
    CHECK(doc.root == NULL);
    CHECK_STR(diags_text(&d), "t.yml:1:129: error: nesting too deep: more than 128 levels\n");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);

    /* Block mappings count too, and up to the limit is fine. */
    weir_buf_reset(&text);
    for (int i = 0; i < 128; i++) {
        weir_buf_addchars(&text, ' ', (size_t)i);
        weir_buf_adds(&text, "k:\n");
    }
    CHECK_INT(load(&doc, text.ptr, NULL, &d), ==, 0);
    weir_yaml_doc_release(&doc);
    weir_buf_addchars(&text, ' ', 128);
    weir_buf_adds(&text, "k: 1\n");
    CHECK_INT(load(&doc, text.ptr, NULL, &d), ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d), "t.yml:129:129: error: nesting too deep: more than 128 levels\n");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
    weir_buf_release(&text);
}

TEST(documents)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_yaml_options o = { 0 };

    /* empty stream: a null root at 1:1 */
    CHECK_INT(load(&doc, "", NULL, &d), ==, 0);
    CHECK(weir_yaml_is_null(doc.root));
    CHECK_INT(doc.root->line, ==, 1);
    CHECK_INT(doc.n_roots, ==, 1);
    weir_yaml_doc_release(&doc);

    CHECK_INT(load(&doc, "a: 1\n---\nb: 2\n", NULL, &d), ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d), "t.yml:2:1: error: more than one document in the file "
                              "(remove the second '---')\n");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);

    o.flags = WEIR_YAML_MULTI_DOC;
    CHECK_INT(load(&doc, "a: &x 1\n---\nb: 2\n---\n- 3\n", &o, &d), ==, 0);
    CHECK_INT(doc.n_roots, ==, 3);
    CHECK(doc.root == doc.roots[0]);
    CHECK_STR(weir_yaml_map_get(doc.roots[1], "b")->text, "2");
    CHECK_INT(doc.roots[2]->kind, ==, WEIR_YAML_SEQUENCE);
    weir_yaml_doc_release(&doc);
    /* anchors do not cross documents */
    CHECK_INT(load(&doc, "a: &x 1\n---\nb: *x\n", &o, &d), ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d), "t.yml:3:4: error: unknown anchor 'x' (an alias '*x' must "
                              "follow its '&x')\n");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(interpolation_function)
{
    static const struct { const char *in, *out; } ok[] = {
        { "plain", "plain" },
        { "${HOST}", "db.local" },
        { "postgres://${HOST}:${PORT}/x", "postgres://db.local:5432/x" },
        { "${MISSING:-fallback}", "fallback" },
        { "${EMPTY:-was empty}", "was empty" },
        { "${EMPTY}", "" },
        { "${HOST:-unused}", "db.local" },
        { "${MISSING:-}", "" },
        { "$$", "$" },
        { "$${HOST}", "${HOST}" },
        { "cost $5 and $", "cost $5 and $" },
        { "$$$${HOST}", "$${HOST}" },
        { "${MISSING:-a:-b}", "a:-b" },
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(ok); i++) {
        weir_buf out = WEIR_BUF_INIT;
        weir_error err = WEIR_ERROR_INIT;
        CHECK_OK(weir_yaml_interpolate(ok[i].in, strlen(ok[i].in), fake_env, NULL, &out, NULL,
                                       &err), &err);
        CHECK_STR(out.ptr, ok[i].out);
        weir_buf_release(&out);
    }
    static const struct { const char *in; size_t where; const char *msg; } bad[] = {
        { "x ${NOPE} y", 2,
          "environment variable 'NOPE' is not set (set it, or write '${NOPE:-default}')" },
        { "${HOST} ${", 8,
          "unterminated '${' (a variable is written ${NAME} or ${NAME:-default}; '$$' is a "
          "literal '$')" },
        { "${}", 0, "invalid variable reference '${}' (expected ${NAME} or ${NAME:-default})" },
        { "${1X}", 0,
          "invalid variable reference '${1X}' (expected ${NAME} or ${NAME:-default})" },
        { "${A:?x}", 0,
          "invalid variable reference '${A:?x}' (expected ${NAME} or ${NAME:-default})" },
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(bad); i++) {
        weir_buf out = WEIR_BUF_INIT;
        weir_error err = WEIR_ERROR_INIT;
        size_t where = 99;
        CHECK_INT(weir_yaml_interpolate(bad[i].in, strlen(bad[i].in), fake_env, NULL, &out,
                                        &where, &err), ==, WEIR_EINVALID);
        CHECK_INT(where, ==, bad[i].where);
        CHECK_STR(err.msg.ptr, bad[i].msg);
        weir_error_release(&err);
        weir_buf_release(&out);
    }
    /* NULL getenv reads the process environment. */
    setenv("WEIR_TEST_INTERP", "from env", 1);
    weir_buf out = WEIR_BUF_INIT;
    CHECK_OK(weir_yaml_interpolate("${WEIR_TEST_INTERP}", 19, NULL, NULL, &out, NULL, NULL),
             NULL);
    CHECK_STR(out.ptr, "from env");
    weir_buf_release(&out);
}

TEST(interpolation_in_documents)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_yaml_options o = interp();
    const char *text = "dsn: postgres://${HOST}:${PORT}\n"
                       "port: ${PORT}\n"
                       "qport: \"${PORT}\"\n"
                       "${HOST}: keys are not interpolated\n"
                       "list: [\"${HOST}\", '$$']\n"
                       "a: &a ${HOST}\n"
                       "b: *a\n"
                       "bad:\n"
                       "- x\n"
                       "- \"${NOPE}\"\n"
                       "-  y ${NOPE2}\n";
    CHECK_INT(load(&doc, text, &o, &d), ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d),
              "t.yml:10:4: error: environment variable 'NOPE' is not set (set it, or write "
              "'${NOPE:-default}')\n"
              "t.yml:11:6: error: environment variable 'NOPE2' is not set (set it, or write "
              "'${NOPE2:-default}')\n");
    const weir_yaml_node *r = doc.root;
    CHECK(r != NULL); /* the tree is kept after such errors */
    CHECK_STR(weir_yaml_map_get(r, "dsn")->text, "postgres://db.local:5432");
    int64_t port = 0;
    CHECK_OK(weir_yaml_get_int(weir_yaml_map_get(r, "port"), NULL, &port, NULL), NULL);
    CHECK_INT(port, ==, 5432);
    CHECK_INT(weir_yaml_get_int(weir_yaml_map_get(r, "qport"), NULL, &port, NULL), ==,
              WEIR_EINVALID);
    CHECK(weir_yaml_map_get(r, "${HOST}") != NULL);
    const weir_yaml_node *list = weir_yaml_map_get(r, "list");
    CHECK_STR(list->items[0]->text, "db.local");
    CHECK_STR(list->items[1]->text, "$");
    CHECK_STR(weir_yaml_map_get(r, "b")->text, "db.local");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);

    /* Off unless asked for. */
    CHECK_INT(load(&doc, "x: ${NOPE}\n", NULL, &d), ==, 0);
    CHECK_STR(weir_yaml_map_get(doc.root, "x")->text, "${NOPE}");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(unset_variables_are_located_exactly)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_yaml_options o = interp();
    const char *text = "\xef\xbb\xbf# a BOM, then every style\n"
                       "plain: caf\xc3\xa9 ${V1}\n"
                       "dq: \"\\t\xc3\xa9 ${V2}\"\n"
                       "sq: 'it''s ${V3}'\n"
                       "escaped: \"\\x24{V4}\"\n"
                       "block: |\n"
                       "  first line\n"
                       "    second ${V5}\n"
                       "folded: a\n"
                       "  b ${V6}\n"
                       "dollar: $${V7} ${V7}\n";
    CHECK_INT(load(&doc, text, &o, &d), ==, WEIR_EINVALID);
    weir_buf want = WEIR_BUF_INIT;
    static const char *const places[] = { "2:13", "3:10", "4:12", "5:10", "8:12", "10:5",
                                          "11:16" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(places); i++)
        weir_buf_addf(&want, "t.yml:%s: error: environment variable 'V%zu' is not set (set "
                      "it, or write '${V%zu:-default}')\n", places[i], i + 1, i + 1);
    CHECK_STR(diags_text(&d), want.ptr);
    weir_buf_release(&want);
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(load_file_reports_missing_files)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    char path[4096];
    snprintf(path, sizeof(path), "%s/nope.yml", weir_test_tmpdir());
    CHECK_INT(weir_yaml_load_file(&doc, path, "nope.yml", NULL, &d), ==, WEIR_ENOTFOUND);
    CHECK(doc.root == NULL);
    CHECK_INT(d.errors, ==, 1);
    CHECK_CONTAINS(d.list.items[0].msg, "cannot open");
    CHECK_CONTAINS(d.list.items[0].msg, "no such file or directory");
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);

    snprintf(path, sizeof(path), "%s/ok.yml", weir_test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("a:\n  b: [1, 2]\n", f);
    fclose(f);
    CHECK_INT(weir_yaml_load_file(&doc, path, NULL, NULL, &d), ==, 0);
    const weir_yaml_node *b = weir_yaml_map_get(weir_yaml_map_get(doc.root, "a"), "b");
    CHECK_STR(b->file, path);
    CHECK_INT(b->line, ==, 2);
    CHECK_INT(b->col, ==, 6);
    weir_yaml_doc_release(&doc);
    weir_diags_release(&d);
}

TEST(syntax_errors_stop_with_no_tree)
{
    static const struct { const char *text, *diag; } cases[] = {
        { "a: [1, 2\n", "t.yml:2:1: error: did not find expected ',' or ']' while parsing a "
                        "flow sequence (started at 1:4)\n" },
        { "a: 'x\n", "t.yml:2:1: error: found unexpected end of stream while scanning a "
                     "quoted scalar (started at 1:4)\n" },
        { "a: b: c\n", "t.yml:1:5: error: mapping values are not allowed in this context\n" },
        { "a: *\n", "t.yml:1:5: error: did not find expected alphabetic or numeric "
                    "character while scanning an alias (started at 1:4)\n" },
        { "a: !<x\n", "t.yml:1:7: error: did not find the expected '>' while scanning a tag "
                      "(started at 1:4)\n" },
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(cases); i++) {
        weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
        weir_diags d = WEIR_DIAGS_INIT;
        CHECK_INT(load(&doc, cases[i].text, NULL, &d), ==, WEIR_EINVALID);
        CHECK(doc.root == NULL);
        CHECK_STR(diags_text(&d), cases[i].diag);
        weir_yaml_doc_release(&doc);
        weir_diags_release(&d);
    }
}
