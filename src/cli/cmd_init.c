/*
 * cmd_init.c: `weir init DIR` creates a small project that `weir check`
 * accepts and that the demo can run: weir.yml with the embedded defaults
 * (DuckDB warehouse, SQLite store) and the folders the project layout of
 * DESIGN.md names. Existing files are never overwritten.
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"

static const char *const folders[] = {
    "models", "seeds", "pipelines", "sources", "expectations", "macros", "snapshots", "tests",
};

/* A project name is an identifier: the folder's name, lower-cased, with
 * anything else turned into '_'. */
static void project_name(const char *dir, weir_buf *out)
{
    char *abs = realpath(dir, NULL);
    const char *base = weir_path_basename(abs ? abs : dir);
    for (const char *p = base; *p; p++) {
        unsigned char c = (unsigned char)*p;
        weir_buf_addch(out, isalnum(c) ? tolower(c) : '_');
    }
    if (out->len == 0 || isdigit((unsigned char)out->ptr[0]))
        weir_buf_sets(out, "project");
    free(abs);
}

static int write_new(const char *dir, const char *rel, const char *text, json_t *created,
                     weir_error *err)
{
    weir_buf path = WEIR_BUF_INIT;
    int rc = 0;
    weir_path_join(&path, dir, rel);
    if (!weir_fs_exists(path.ptr)) {
        rc = weir_fs_write_atomic(path.ptr, text, strlen(text), err);
        if (rc == 0)
            json_array_append_new(created, json_string(path.ptr));
    }
    weir_buf_release(&path);
    return rc;
}

static int run(const weir_command *cmd, int argc, char **argv)
{
    const char *name_opt = NULL, *format = "text";
    const weir_option opts[] = {
        { "name", 0, WEIR_OPT_STRING, &name_opt, "NAME", "project name (default: the folder's name)" },
        { "format", 0, WEIR_OPT_STRING, &format, "FMT", "'text' or 'json' output" },
    };
    weir_strvec pos = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf path = WEIR_BUF_INIT, name = WEIR_BUF_INIT, yml = WEIR_BUF_INIT;
    json_t *created = json_array();
    weir_out_format out;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &pos);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = weir_cli_parse_out_format(cmd, format, &out)) != 0)
        goto cleanup;
    if (pos.len > 1) {
        rc = weir_cli_usage_error(cmd, "expected one folder, got %zu arguments", pos.len);
        goto cleanup;
    }
    const char *dir = pos.len ? pos.items[0] : ".";
    weir_path_join(&path, dir, "weir.yml");
    if (weir_fs_exists(path.ptr)) {
        fprintf(stderr, "weir: error: '%s' already exists: '%s' is a weir project\n", path.ptr, dir);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    if (name_opt) {
        for (const char *p = name_opt; *p; p++)
            if (!(isalnum((unsigned char)*p) || *p == '_') || isdigit((unsigned char)name_opt[0])) {
                rc = weir_cli_usage_error(cmd, "project name '%s' must be letters, digits and '_', "
                                               "not starting with a digit", name_opt);
                goto cleanup;
            }
        weir_buf_sets(&name, name_opt);
    }
    if (weir_fs_mkdir_p(dir, &err))
        goto fail;
    if (!name_opt)
        project_name(dir, &name);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(folders); i++) {
        weir_buf_reset(&path);
        weir_path_join(&path, dir, folders[i]);
        if (weir_fs_mkdir_p(path.ptr, &err))
            goto fail;
    }
    weir_buf_addf(&yml,
                  "# weir project file: see 'weir check --help'.\n"
                  "name: %s\n"
                  "\n"
                  "# The warehouse the models build in: an embedded DuckDB file.\n"
                  "warehouse:\n"
                  "  type: duckdb\n"
                  "  path: warehouse.duckdb\n"
                  "\n"
                  "# weir's own state: runs, task instances, check results, metrics.\n"
                  "store:\n"
                  "  type: sqlite\n"
                  "  path: .weir/store.db\n"
                  "\n"
                  "defaults:\n"
                  "  timezone: UTC\n"
                  "  retries: 1\n",
                  name.ptr);
    if (write_new(dir, ".gitignore", "warehouse.duckdb\nwarehouse.duckdb.wal\n.weir/\ntarget/\n",
                  created, &err) ||
        write_new(dir, "seeds/.gitkeep", "", created, &err) ||
        write_new(dir, "models/.gitkeep", "", created, &err) ||
        write_new(dir, "pipelines/.gitkeep", "", created, &err) ||
        /* weir.yml last: a project exists only once everything else does */
        write_new(dir, "weir.yml", yml.ptr, created, &err))
        goto fail;
    if (out == WEIR_OUT_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:O}", "project", name.ptr, "dir", dir, "created", created);
        weir_cli_print_json(o);
    } else {
        printf("created project '%s' in %s\n"
               "next: weir check --project-dir %s\n"
               "      weir query --project-dir %s \"select 42 as answer\"\n",
               name.ptr, dir, dir, dir);
    }
    rc = WEIR_EXIT_OK;
    goto cleanup;
fail:
    weir_error_wrap(&err, "while creating a project in '%s'", dir);
    weir_cli_error(&err);
    rc = WEIR_EXIT_FAILED;
cleanup:
    json_decref(created);
    weir_buf_release(&path);
    weir_buf_release(&name);
    weir_buf_release(&yml);
    weir_strvec_release(&pos);
    weir_error_release(&err);
    return rc;
}

const weir_command weir_cmd_init = {
    "init",
    "create a new project",
    "weir init [--name NAME] [DIR]",
    "Creates DIR (default: the current folder) with a weir.yml using the\n"
    "embedded defaults (a DuckDB warehouse file and a SQLite store) and the\n"
    "project folders: models, seeds, pipelines, sources, expectations, macros,\n"
    "snapshots, tests. Existing files are left alone; a folder that already\n"
    "has a weir.yml is refused (exit 2).\n",
    run,
};
