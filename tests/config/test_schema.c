/* Tests of config/schema beyond weir.yml's own: lists of mappings, every
 * type, nullable fields, open schemas and custom checks. */
#include "harness.h"

#include "config/schema.h"

static int relative_only(const weir_yaml_node *n, const char *path, weir_diags *d)
{
    if (n->text[0] != '/')
        return 0;
    weir_yaml_error(d, n, "'%s' must be a relative path, got '%s'", path, n->text);
    return WEIR_EINVALID;
}

static const weir_schema_field input_fields[] = {
    WEIR_FIELD("table", WEIR_SCHEMA_STRING),
    WEIR_FIELD("file", WEIR_SCHEMA_STRING, .check = relative_only),
    WEIR_FIELD("partition", WEIR_SCHEMA_IDENT),
    WEIR_FIELDS_END
};
static const weir_schema input_schema = { .fields = input_fields };

static const char *const modes[] = { "full", NULL };

static const weir_schema_field pipeline_fields[] = {
    WEIR_FIELD("pipeline", WEIR_SCHEMA_IDENT, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("schedule", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("start", WEIR_SCHEMA_DATE),
    WEIR_FIELD("enabled", WEIR_SCHEMA_BOOL),
    WEIR_FIELD("threshold", WEIR_SCHEMA_NUMBER),
    WEIR_FIELD("timeout", WEIR_SCHEMA_DURATION),
    WEIR_FIELD("owner", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_NULLABLE),
    WEIR_FIELD("mode", WEIR_SCHEMA_STRING, .choices = modes),
    WEIR_FIELD("inputs", WEIR_SCHEMA_LIST, .item = WEIR_SCHEMA_MAP, .schema = &input_schema),
    WEIR_FIELD("tags", WEIR_SCHEMA_LIST, .item = WEIR_SCHEMA_IDENT),
    WEIR_FIELD("ingest", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("extra", WEIR_SCHEMA_ANY),
    WEIR_FIELD("min_rows", WEIR_SCHEMA_INT, .min = 1, .max = INT64_MAX),
    WEIR_FIELDS_END
};
static const weir_schema pipeline_schema = { .fields = pipeline_fields };

static const char *check(const weir_schema *s, const char *text)
{
    static weir_buf b = WEIR_BUF_INIT;
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_buf_reset(&b);
    CHECK_OK(weir_yaml_load_buf(&doc, "p.yml", text, strlen(text), NULL, &d), NULL);
    int rc = weir_schema_validate(s, doc.root, &d);
    CHECK_INT(rc != 0, ==, d.errors != 0);
    weir_diags_sort(&d);
    for (size_t i = 0; i < d.list.len; i++) {
        weir_diag_format(&d.list.items[i], &b);
        weir_buf_addch(&b, '\n');
    }
    weir_diags_release(&d);
    weir_yaml_doc_release(&doc);
    return b.ptr;
}

TEST(valid_file_passes)
{
    CHECK_STR(check(&pipeline_schema,
                    "pipeline: engagement\n"
                    "schedule: \"0 3 * * *\"\n"
                    "start: 2024-01-01\n"
                    "enabled: true\n"
                    "threshold: 0.5\n"
                    "timeout: 2h\n"
                    "owner:\n"
                    "mode: full\n"
                    "inputs:\n"
                    "  - table: raw.events\n"
                    "    partition: event_date\n"
                    "  - file: landing/{{ ds }}/_SUCCESS\n"
                    "tags: [daily, core]\n"
                    "ingest: app_db.users\n"
                    "extra: { anything: [goes] }\n"
                    "min_rows: 10\n"),
              "");
}

TEST(every_problem_is_reported)
{
    CHECK_STR(check(&pipeline_schema,
                    "pipline: engagement\n"
                    "start: 2024-13-01\n"
                    "enabled: yes\n"
                    "threshold: high\n"
                    "timeout: forever\n"
                    "mode: ful\n"
                    "inputs:\n"
                    "  - table: raw.events\n"
                    "    partiton: event_date\n"
                    "  - file: /abs/_SUCCESS\n"
                    "  - just a string\n"
                    "tags: [ok, not-ok, [x]]\n"
                    "ingest: { a: 1 }\n"
                    "min_rows: 0\n"
                    "unrelated: 1\n"),
              "p.yml:1:1: error: unknown key 'pipline' (did you mean 'pipeline'?)\n"
              "p.yml:1:1: error: missing required key 'pipeline'\n"
              "p.yml:1:1: error: missing required key 'schedule'\n"
              "p.yml:2:8: error: expected a date (YYYY-MM-DD) for 'start', got '2024-13-01'\n"
              "p.yml:3:10: error: expected true or false for 'enabled', got 'yes'\n"
              "p.yml:4:12: error: expected a number for 'threshold', got 'high'\n"
              "p.yml:5:10: error: expected a duration like '30s', '5m' or '2h' for 'timeout', "
              "got 'forever'\n"
              "p.yml:6:7: error: expected 'full' for 'mode', got 'ful' (did you mean 'full'?)\n"
              "p.yml:9:5: error: unknown key 'partiton' in 'inputs[0]' (did you mean "
              "'partition'?)\n"
              "p.yml:10:11: error: 'inputs[1].file' must be a relative path, got '/abs/_SUCCESS'\n"
              "p.yml:11:5: error: expected a mapping for 'inputs[2]', got 'just a string'\n"
              "p.yml:12:12: error: expected a name (letters, digits and '_', not starting with "
              "a digit) for 'tags[1]', got 'not-ok'\n"
              "p.yml:12:20: error: expected a string for 'tags[2]', got a list\n"
              "p.yml:13:9: error: expected a string or a list of strings for 'ingest', got a "
              "mapping\n"
              "p.yml:14:11: error: expected an integer of at least 1 for 'min_rows', got 0\n"
              "p.yml:15:1: error: unknown key 'unrelated' (known keys: pipeline, schedule, "
              "start, enabled, threshold, timeout, owner, mode, inputs, tags, ingest, extra, "
              "min_rows)\n");
}

TEST(nulls_lists_and_open_schemas)
{
    /* A null list is not a list; a null STRINGS is an empty one. */
    CHECK_STR(check(&pipeline_schema, "pipeline: p\nschedule: x\ninputs:\ningest:\n"),
              "p.yml:3:8: error: expected a list for 'inputs', got null\n");
    /* Only nullable fields take null. */
    CHECK_STR(check(&pipeline_schema, "pipeline: p\nschedule: ~\nowner: ~\n"),
              "p.yml:2:11: error: expected a string for 'schedule', got null\n");
    /* An open schema checks the keys it knows and lets others through. */
    static const weir_schema open = { .fields = input_fields, .open = 1 };
    CHECK_STR(check(&open, "table: t\nfuture_key: 1\npartition: 9x\n"),
              "p.yml:3:12: error: expected a name (letters, digits and '_', not starting "
              "with a digit) for 'partition', got '9x'\n");
    /* A schema-less mapping field accepts any mapping. */
    static const weir_schema_field any_fields[] = {
        WEIR_FIELD("vars", WEIR_SCHEMA_MAP),
        WEIR_FIELDS_END
    };
    static const weir_schema any = { .fields = any_fields };
    CHECK_STR(check(&any, "vars: { a: 1, b: [2] }\n"), "");
    CHECK_STR(check(&any, "vars: 3\n"), "p.yml:1:7: error: expected a mapping for 'vars', got '3'\n");
    CHECK(weir_schema_field_find(&pipeline_schema, "tags") != NULL);
    CHECK(weir_schema_field_find(&pipeline_schema, "tag") == NULL);
    CHECK(weir_schema_is_ident("_a1"));
    CHECK(!weir_schema_is_ident(""));
    CHECK(!weir_schema_is_ident("a.b"));
}
