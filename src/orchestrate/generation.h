/*
 * generation.h: what `weir serve` loads from a project's files, as one unit
 * it can replace while it runs.
 *
 * A generation is the project (weir.yml), its models (the transform
 * project) and its pipelines bound to them, loaded together. The server
 * keeps one current generation; when the files that make it change
 * (weir_generation_stamp), it loads a new one and, when that loads without
 * error, makes it current. Runs hold pointers into the generation they were
 * created with (the pipeline, and the transform's nodes of model tasks), so
 * the replaced one stays alive until the executor holds no run that points
 * into it (weir_generation_in_use), as Airflow's scheduler re-parses DAG
 * files while task instances of the old DAG finish.
 */
#ifndef WEIR_ORCHESTRATE_GENERATION_H
#define WEIR_ORCHESTRATE_GENERATION_H

#include <stdint.h>

#include "orchestrate/executor.h"
#include "orchestrate/pipeline.h"

struct weir_transform;

typedef struct weir_generation {
    weir_project *project;
    struct weir_transform *tf;    /* NULL when no pipeline has models */
    weir_pipeline_list pipelines; /* sorted by name */
    uint64_t stamp;               /* of the files it was loaded from */
} weir_generation;

/*
 * A fingerprint of the files a generation of project p is loaded from:
 * weir.yml (or dbt_project.yml) and the files under the pipelines, models,
 * seeds, macros, tests and snapshots folders, by path, size, modification
 * time and inode (core/fs.h, weir_fs_stamp). It costs a listing and a stat
 * a file, no read. Expectations and monitors are read when a task runs and
 * need no reload.
 */
uint64_t weir_generation_stamp(const weir_project *p);

/*
 * Loads a generation of the project in dir: weir.yml, every pipeline, and
 * the models of the pipelines that have a `models:` task, bound to them
 * (compiled with engine, which may be NULL). The stamp is taken before
 * the files are read, so an edit made while loading shows as a change at
 * the next look. Problems with file:line:col go to diags.
 * Returns:
 *   0              everything loaded; *out is the new generation;
 *   WEIR_EINVALID  with *out NULL when weir.yml or a pipeline file has an
 *                  error (see diags);
 *   another code   with *out set when the models do not load or a
 *                  pipeline's models do not bind (err says which; the
 *                  other pipelines are bound): a caller may still use it,
 *                  the unbound model tasks then fail, or free it.
 * Free with weir_generation_free.
 */
int weir_generation_load(const char *dir, weir_engine *engine, weir_generation **out,
                         weir_diags *diags, weir_error *err);

/* Frees g: its pipelines, then the transform project they point into, then
 * the project. NULL is fine. */
void weir_generation_free(weir_generation *g);

/*
 * What changed from old to cur, by pipeline name: added, removed, and
 * changed (a pipeline in both whose loaded form differs: its schedule,
 * settings, tasks, or the SQL and config of the models it builds; editing
 * a comment or a macro does not count).
 */
void weir_generation_diff(const weir_generation *old, const weir_generation *cur, size_t *added,
                          size_t *removed, size_t *changed);

/*
 * Whether x holds a run added with one of g's pipelines: one not done, or
 * one done that x keeps until it is idle (and whose pipeline pointer it may
 * still compare). g may be freed when it holds none.
 */
int weir_generation_in_use(const weir_generation *g, const weir_exec *x);

/*
 * The pipeline object with which the run of the pipeline called name whose
 * interval starts at start is in flight in x, or NULL when it is not in
 * flight. Adding that run again with another load of the pipeline would run
 * it twice: callers that hold the current load use this object instead,
 * which the executor joins (weir_exec_add_run returns WEIR_EEXISTS).
 */
const weir_pipeline *weir_generation_in_flight(const weir_exec *x, const char *name,
                                               weir_ts start);

#endif
