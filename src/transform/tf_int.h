/*
 * tf_int.h: what the files of src/transform/ share and nobody else sees.
 *
 * Rendering lives in tpl_render.c (the only file that includes
 * template.h; it reaches the warehouse only for run_query()), the
 * warehouse work in exec.c and run.c; this header, which they share,
 * mentions neither module's value types.
 */
#ifndef WEIR_TRANSFORM_INT_H
#define WEIR_TRANSFORM_INT_H

#include "core/buf.h"
#include "core/map.h"
#include "transform/transform.h"

#define TF_NONE ((size_t)-1)

struct tf_tpl; /* the rendering side, tpl_render.c */

struct weir_transform {
    const weir_project *project;
    char *name;
    char *dir;
    char *target_dir;
    char *target_name;   /* "dev" */
    char *target_schema; /* "main" */
    WEIR_VEC(weir_tnode *) nodes;
    weir_map by_id;     /* unique_id -> node */
    weir_map by_name;   /* model, seed, snapshot name -> node */
    weir_map sources;   /* "source_name.table_name" -> node */
    json_t *vars;       /* project vars, then --vars over them */
    json_t *on_run_start, *on_run_end; /* arrays of SQL strings */
    json_t *docs;       /* {name: text} from {% docs %} blocks */
    weir_strvec macro_files;
    weir_strvec macro_srcs;
    struct tf_tpl *tpl;
    int full_refresh;
    int compiled;
    char *invocation_id;
    /* per node, made by compile: pipeline builds of one relation take
     * turns (weir_transform_build_node) */
    pthread_mutex_t *build_locks;
};

/* --- load.c ------------------------------------------------------------ */

weir_tnode *tf_node_new(weir_transform *tf, weir_node_kind kind, const char *name,
                        const char *unique_id, const char *path);
/*
 * Sets node->schema, alias and relation from its config; returns 1 when one
 * of them changed. Renders on other threads read relations: once rendering
 * has started, pass the render lock, which is write-locked for the change
 * (lock NULL: none).
 */
int tf_node_resolve_relation(weir_transform *tf, weir_tnode *n, pthread_rwlock_t *lock);
/* A config value as a string ("" keys absent: NULL). */
const char *tf_cfg_str(const weir_tnode *n, const char *key);
int tf_cfg_bool(const weir_tnode *n, const char *key, int dflt);
/* Sets key in n->config; list keys (tags, hooks) accumulate. v is stolen. */
void tf_cfg_set(json_t *config, const char *key, json_t *v);
/* Appends "schema"."name" quoted for DuckDB. */
void tf_quote_relation(weir_buf *out, const char *schema, const char *name);
void tf_quote_ident(weir_buf *out, const char *ident);
/* Parses a `vars` string (YAML or JSON mapping) into an object. */
int tf_parse_vars(const char *text, json_t **out, weir_error *err);

/* --- tpl_render.c -------------------------------------------------------- */

int tf_tpl_init(weir_transform *tf, weir_error *err);
/* Lets run_query() reach the warehouse (NULL: none; `execute` follows). */
void tf_tpl_set_engine(weir_transform *tf, weir_engine *e);
void tf_tpl_free(weir_transform *tf);
/*
 * Renders node's raw SQL into out. Clears and refills node->deps from the
 * traced ref()/source() calls and merges config() calls into node->config.
 * is_incremental: what is_incremental() returns.
 */
int tf_tpl_render_node(weir_transform *tf, weir_tnode *n, int is_incremental, weir_buf *out,
                       weir_error *err);
/*
 * Renders a snippet (a hook, a test argument) in node n's context (n may be
 * NULL); deps found are added to n->deps when add_deps is set.
 */
int tf_tpl_render_string(weir_transform *tf, weir_tnode *n, const char *file, const char *src,
                         int add_deps, weir_buf *out, weir_error *err);
/* True when the project defines a generic test macro `test_<name>`. */
int tf_tpl_has_test(weir_transform *tf, const char *name);
/*
 * Renders custom generic test n by calling its macro with args (n's
 * arguments, rendered) and as `model` the filtered subquery of its where
 * config, or when filtered is NULL the model's relation.
 */
int tf_tpl_render_custom_test(weir_transform *tf, weir_tnode *n, json_t *args,
                              const char *filtered, weir_buf *out, weir_error *err);

/* --- manifest.c --------------------------------------------------------- */

/* Writes a build output (target/compiled, target/run) without fsync. */
int tf_write_file(const char *path, const char *data, weir_error *err);

/* --- compile.c ---------------------------------------------------------- */

/* Sets n->compiled_sql from n->rendered_sql with ephemeral CTEs inlined. */
void tf_inline_node(weir_transform *tf, weir_tnode *n);

/*
 * Generic tests, rendered as dbt renders what property files give them:
 * their where config and string arguments may hold Jinja (var(),
 * env_var(); arguments also ref() and source()), rendered in test t's
 * context with the vars var() reads on this thread (tf_vars: a pipeline
 * build's, else the project's). Each renders again on every call, so a
 * pipeline build's copy of a test sees its run's vars.
 */
/* Sets t->rendered_sql: the test's SQL, its where and arguments rendered. */
int tf_render_generic_test(weir_transform *tf, weir_tnode *t, weir_error *err);
/* t's where config rendered into out; nothing when it has none. */
int tf_test_where(weir_transform *tf, weir_tnode *t, weir_buf *out, weir_error *err);
/*
 * A string argument: Jinja is rendered, a bare `ref('x')` or `source(...)`
 * too (recording what it reads as t's deps when add_deps); anything else
 * is copied.
 */
int tf_render_test_arg(weir_transform *tf, weir_tnode *t, const char *s, int add_deps,
                       weir_buf *out, weir_error *err);
/* accepted_values' list as SQL ("'a', 'b'", or unquoted with quote: false). */
int tf_test_values_sql(weir_transform *tf, weir_tnode *t, weir_buf *out, weir_error *err);

/* --- dag.c --------------------------------------------------------------- */

/* Topological order of every node into order (len = node count), or a cycle error. */
int tf_dag_order(weir_transform *tf, size_t *order, weir_error *err);
void tf_dag_link_children(weir_transform *tf);

/* --- exec.c -------------------------------------------------------------- */

struct weir_conn;
typedef struct tf_exec_result {
    int status;        /* TF_ST_* */
    long long rows;    /* rows affected or failures; -1 when unknown */
    char *message;     /* owned */
    char *run_sql;     /* the SQL executed, owned */
} tf_exec_result;

enum { TF_ST_SUCCESS, TF_ST_ERROR, TF_ST_SKIPPED, TF_ST_PASS, TF_ST_FAIL, TF_ST_WARN };

int tf_exec_node(weir_transform *tf, struct weir_conn *c, weir_tnode *n, tf_exec_result *res);
int tf_exec_hooks(weir_transform *tf, struct weir_conn *c, json_t *hooks, const char *what,
                  weir_error *err);
/*
 * The model whose built-in generic tests n can be computed with (its
 * attached node's index), or TF_NONE when n runs its own query: custom
 * generic and singular tests, store_failures, a test reading an ephemeral
 * model, arguments the test's own query should complain about.
 */
size_t tf_test_batch_key(const weir_transform *tf, const weir_tnode *n);
/*
 * Runs k tests of one batch key together through quality/ (one aggregate,
 * one GROUP BY for the unique tests), filling res[i] as tf_exec_node would
 * for ts[i]: the same failures, status and message. A batch the engine
 * refuses is run again test by test, so an error lands on its test.
 */
void tf_exec_tests(weir_transform *tf, struct weir_conn *c, weir_tnode **ts, size_t k,
                   tf_exec_result **res);
/* Whether generic tests are batched: not when WEIR_TEST_BATCH=0. */
int tf_tests_batched(void);

/* --- node.c --------------------------------------------------------------- */

/*
 * The pipeline build running on this thread (weir_transform_build_node), or
 * NULL. A build renders into call-private copies of the nodes it renders
 * (its node, the ephemeral models they read, its tests), which
 * own their config, relation strings, deps and SQL and borrow the rest from
 * the graph's node; rendering and the materializations read those copies
 * and the call's vars, so builds on several threads never write the graph.
 */
typedef struct tf_build {
    json_t *vars;       /* the project's vars with the call's laid over them */
    /* the data interval the run builds (local "YYYY-MM-DD HH:MM:SS", [start,
     * end)), or NULL: what insert_overwrite replaces besides the partitions
     * of the new rows */
    const char *window_start, *window_end;
    weir_tnode **own;   /* per node index: this call's copy, or NULL */
} tf_build;

extern _Thread_local tf_build *tf_cur_build;

/* Node i as this thread sees it: its build's copy when it has one, else the graph's. */
weir_tnode *tf_node_at(weir_transform *tf, size_t i);
/* The vars var() reads on this thread: its build's, else the project's. */
json_t *tf_vars(weir_transform *tf);

/* --- csv.c ---------------------------------------------------------------- */

#include "transform/csv.h"

#endif
