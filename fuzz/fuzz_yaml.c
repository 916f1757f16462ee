/*
 * fuzz_yaml.c: libFuzzer target for the YAML config loader.
 *
 * Each input is loaded as a weir.yml (interpolation on, against a fixed fake
 * environment so runs are reproducible), which runs the YAML builder, merge
 * keys, aliases, interpolation, the schema check and the project's reading
 * pass. The same bytes are then loaded as a multi-document stream and every
 * node is put through the typed accessors, so the accessors see shapes the
 * schema would have refused. Diagnostics are formatted too. Any crash, leak
 * or sanitizer report is a bug.
 *
 *   make fuzz FUZZ_SECONDS=120
 */
#include "core/compat.h"

#include "config/project.h"
#include "config/schema.h"
#include "config/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fake_env(const char *name, void *ctx)
{
    (void)ctx;
    if (strcmp(name, "A") == 0)
        return "x";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    if (strcmp(name, "BRACE") == 0)
        return "${A}}";
    return NULL;
}

/* Visits every node reachable from n once per path, within a budget. */
static void poke(weir_yaml_doc *doc, const weir_yaml_node *n, unsigned depth, size_t *budget)
{
    const char *s;
    int64_t i;
    int b;
    double d;
    weir_date date;
    const char **list;
    size_t len;
    weir_buf desc = WEIR_BUF_INIT;

    if (!n || depth > 200 || *budget == 0)
        return;
    (*budget)--;
    weir_yaml_get_str(n, "k", &s, NULL);
    weir_yaml_get_int(n, NULL, &i, NULL);
    weir_yaml_get_bool(n, NULL, &b, NULL);
    weir_yaml_get_double(n, NULL, &d, NULL);
    weir_yaml_get_date(n, NULL, &date, NULL);
    weir_yaml_get_duration(n, NULL, &i, NULL);
    weir_yaml_get_strlist(doc, n, NULL, &list, &len, NULL);
    weir_yaml_describe(n, &desc);
    weir_buf_release(&desc);
    for (size_t k = 0; k < n->n_items; k++)
        poke(doc, n->items[k], depth + 1, budget);
    for (size_t k = 0; k < n->n_pairs; k++) {
        weir_yaml_map_get(n, n->pairs[k].key->text);
        poke(doc, n->pairs[k].value, depth + 1, budget);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    weir_yaml_options opts = { 0 };
    weir_buf out = WEIR_BUF_INIT;

    opts.flags = WEIR_YAML_INTERPOLATE;
    opts.getenv = fake_env;
    opts.max_nodes = 100000; /* keeps each run fast; the limit logic is the same */
    if (weir_project_load_buf("/fuzz/project", "fuzz.yml", (const char *)data, size, &opts,
                              &p, &diags) == 0) {
        if (!p || !p->name || !p->warehouse.type || !p->store.type || !p->dir)
            abort();
        weir_project_free(p);
    } else if (p || diags.errors == 0) {
        abort(); /* failure must come with a message and no project */
    }

    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    opts.flags |= WEIR_YAML_MULTI_DOC;
    weir_yaml_load_buf(&doc, "fuzz.yml", (const char *)data, size, &opts, &diags);
    size_t budget = 20000;
    for (size_t k = 0; k < doc.n_roots; k++) {
        poke(&doc, doc.roots[k], 0, &budget);
        weir_schema_validate(&weir_project_schema, doc.roots[k], &diags);
    }
    weir_yaml_doc_release(&doc);

    weir_diags_sort(&diags);
    for (size_t k = 0; k < diags.list.len; k++) {
        const weir_diag *dg = &diags.list.items[k];
        if (!dg->msg || !*dg->msg)
            abort();
        weir_diag_format(dg, &out);
    }
    weir_buf_release(&out);
    weir_diags_release(&diags);
    return 0;
}
