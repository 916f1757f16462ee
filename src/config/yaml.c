/*
 * yaml.c: builds located node trees from libyaml's events (see yaml.h).
 *
 * libyaml's parser is event based and not recursive; the builder keeps an
 * explicit stack of open collections, so a deeply nested file cannot exhaust
 * the C stack (the depth limit is policy, not protection). Each node carries
 * a weight: the number of nodes it stands for once aliases are expanded.
 * Summing weights as aliases are used bounds what any later walk of the tree
 * could cost, which is what stops alias bombs.
 *
 * The typed accessors at the end turn nodes into C values and phrase every
 * failure as "expected <what was wanted>, got <what was there>".
 */
#include "core/compat.h"

#include <yaml.h>

#include "config/yaml.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/map.h"
#include "core/str.h"
#include "core/vec.h"

/* A node plus what only the builder needs. */
typedef struct built {
    weir_yaml_node n;
    size_t weight; /* nodes it stands for with aliases expanded (saturating) */
} built;

#define WEIGHT_MAX (SIZE_MAX / 4)

static size_t weight_add(size_t a, size_t b)
{
    return a > WEIGHT_MAX - b ? WEIGHT_MAX : a + b;
}

typedef struct raw_pair {
    weir_yaml_node *key, *value;
    int merge; /* the key was a plain `<<` */
} raw_pair;

typedef struct frame {
    built *node;
    char *anchor;          /* registered when the collection ends (malloc'd) */
    WEIR_VEC(weir_yaml_node *) items;
    WEIR_VEC(raw_pair) pairs;
    weir_yaml_node *key;   /* mappings: key waiting for its value */
    int have_key;          /* a key (possibly invalid, then key == NULL) waits */
} frame;

typedef struct builder {
    weir_yaml_doc *doc;
    const weir_yaml_options *opts;
    weir_diags *diags;
    const char *data;
    size_t len;
    WEIR_VEC(frame) stack;
    WEIR_VEC(weir_yaml_node *) roots;
    weir_map anchors; /* name -> built * */
    size_t total;     /* nodes so far, aliases expanded */
    size_t max_nodes;
    unsigned max_depth;
    size_t cur_char, cur_byte; /* see byte_at() */
    int errors;
} builder;

static const char *file_of(builder *b)
{
    return b->doc->file;
}

static void diag_at(builder *b, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diag_at(builder *b, unsigned line, unsigned col, const char *fmt, ...)
{
    weir_buf msg = WEIR_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    weir_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    if (b->diags)
        weir_diags_add(b->diags, WEIR_DIAG_ERROR, file_of(b), line, col, "%s", msg.ptr);
    weir_buf_release(&msg);
    b->errors++;
}

/* Quotes s for a message, cut to a readable length. */
static void add_quoted(weir_buf *out, const char *s, size_t n)
{
    const size_t max = 40;
    weir_buf_addch(out, '\'');
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            weir_buf_adds(out, "\\n");
        else if (c < 0x20 || c == 0x7f)
            weir_buf_addf(out, "\\x%02x", c);
        else
            weir_buf_addch(out, c);
    }
    if (n > max)
        weir_buf_adds(out, "...");
    weir_buf_addch(out, '\'');
}

static built *new_node(builder *b, weir_yaml_kind kind, yaml_mark_t mark)
{
    built *x = weir_arena_calloc(&b->doc->arena, 1, sizeof(*x));
    x->n.kind = kind;
    x->n.file = b->doc->file;
    x->n.line = (unsigned)mark.line + 1;
    x->n.col = (unsigned)mark.column + 1;
    x->n.text = "";
    x->weight = 1;
    return x;
}

static int count_nodes(builder *b, size_t n, yaml_mark_t mark)
{
    b->total = weight_add(b->total, n);
    if (b->total <= b->max_nodes)
        return 0;
    diag_at(b, (unsigned)mark.line + 1, (unsigned)mark.column + 1,
            "document too large: more than %zu nodes once aliases are expanded",
            b->max_nodes);
    return WEIR_ETOOBIG;
}

static const char *tag_copy(builder *b, const yaml_char_t *tag)
{
    return tag ? weir_arena_strdup(&b->doc->arena, (const char *)tag) : NULL;
}

/* --- interpolation --------------------------------------------------- */

static const char *env_getenv(const char *name, void *data)
{
    WEIR_UNUSED(data);
    return getenv(name);
}

static int valid_var_name(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

int weir_yaml_interpolate(const char *s, size_t n, weir_yaml_getenv_fn get,
                          void *get_data, weir_buf *out, size_t *where, weir_error *err)
{
    int rc = 0;
    char *name = NULL;
    if (!get)
        get = env_getenv;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '$') {
            weir_buf_addch(out, s[i]);
            continue;
        }
        if (i + 1 < n && s[i + 1] == '$') {
            weir_buf_addch(out, '$');
            i++;
            continue;
        }
        if (i + 1 >= n || s[i + 1] != '{') {
            weir_buf_addch(out, '$');
            continue;
        }
        const char *start = s + i + 2;
        const char *end = memchr(start, '}', n - (i + 2));
        if (!end) {
            if (where)
                *where = i;
            rc = weir_error_set(err, WEIR_EINVALID,
                                "unterminated '${' (a variable is written ${NAME} or "
                                "${NAME:-default}; '$$' is a literal '$')");
            goto cleanup;
        }
        size_t inner = (size_t)(end - start);
        const char *sep = NULL;
        for (size_t k = 0; k + 1 < inner; k++)
            if (start[k] == ':' && start[k + 1] == '-') {
                sep = start + k;
                break;
            }
        size_t name_len = sep ? (size_t)(sep - start) : inner;
        if (!valid_var_name(start, name_len)) {
            weir_buf ref = WEIR_BUF_INIT;
            add_quoted(&ref, s + i, inner + 3);
            if (where)
                *where = i;
            rc = weir_error_set(err, WEIR_EINVALID,
                                "invalid variable reference %s (expected ${NAME} or "
                                "${NAME:-default})", ref.ptr);
            weir_buf_release(&ref);
            goto cleanup;
        }
        name = weir_xstrndup(start, name_len);
        const char *value = get(name, get_data);
        if (sep) {
            if (value && *value)
                weir_buf_adds(out, value);
            else
                weir_buf_add(out, sep + 2, (size_t)(end - (sep + 2)));
        } else if (value) {
            weir_buf_adds(out, value);
        } else {
            if (where)
                *where = i;
            rc = weir_error_set(err, WEIR_EINVALID,
                                "environment variable '%s' is not set (set it, or write "
                                "'${%s:-default}')", name, name);
            goto cleanup;
        }
        free(name);
        name = NULL;
        i = (size_t)(end - s);
    }
cleanup:
    free(name);
    return rc;
}

/*
 * Byte offset in the source of libyaml's character index. Scalars arrive in
 * order, so a cursor makes the walks add up to one pass over the file.
 */
static size_t byte_at(builder *b, size_t index)
{
    if (index < b->cur_char) {
        b->cur_char = 0;
        b->cur_byte = b->len >= 3 && memcmp(b->data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    }
    while (b->cur_char < index && b->cur_byte < b->len) {
        b->cur_byte++;
        while (b->cur_byte < b->len && ((unsigned char)b->data[b->cur_byte] & 0xc0) == 0x80)
            b->cur_byte++;
        b->cur_char++;
    }
    return b->cur_byte;
}

/*
 * Where, in the source, the reference at offset where of scalar n's text is:
 * the place of its '$' when the same characters are found in the scalar's
 * source (no escapes in the way), else the scalar's start.
 */
static void locate_reference(builder *b, const weir_yaml_node *n, const yaml_event_t *ev,
                             size_t where, unsigned *line, unsigned *col)
{
    const char *ref = n->text + where;
    size_t ref_len = n->len - where;
    const char *close = memchr(ref, '}', ref_len);
    if (close)
        ref_len = (size_t)(close - ref) + 1;
    if (ref_len > 256) /* enough to tell places apart; keeps the search linear */
        ref_len = 256;
    *line = n->line;
    *col = n->col;
    size_t start = byte_at(b, ev->start_mark.index);
    size_t end = start;
    for (size_t i = ev->start_mark.index; i < ev->end_mark.index && end < b->len; i++) {
        end++;
        while (end < b->len && ((unsigned char)b->data[end] & 0xc0) == 0x80)
            end++;
    }
    for (size_t k = start; k + ref_len <= end; k++) {
        if (memcmp(b->data + k, ref, ref_len) != 0 || (k > start && b->data[k - 1] == '$'))
            continue;
        for (size_t i = start; i < k; i++) {
            if (b->data[i] == '\n') {
                (*line)++;
                *col = 1;
            } else if (((unsigned char)b->data[i] & 0xc0) != 0x80) {
                (*col)++;
            }
        }
        return;
    }
}

static void interpolate_scalar(builder *b, built *x, const yaml_event_t *ev)
{
    weir_yaml_node *n = &x->n;
    if (!memchr(n->text, '$', n->len))
        return;
    weir_buf out = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    size_t where = 0;
    if (weir_yaml_interpolate(n->text, n->len, b->opts->getenv, b->opts->getenv_data,
                              &out, &where, &err) == 0) {
        n->text = weir_arena_memdup(&b->doc->arena, out.ptr, out.len + 1);
        n->len = out.len;
    } else {
        unsigned line, col;
        locate_reference(b, n, ev, where, &line, &col);
        diag_at(b, line, col, "%s", err.msg.ptr);
    }
    weir_buf_release(&out);
    weir_error_release(&err);
}

/* --- building -------------------------------------------------------- */

static int in_key_position(builder *b)
{
    if (!b->stack.len)
        return 0;
    frame *f = &weir_vec_last(&b->stack);
    return f->node->n.kind == WEIR_YAML_MAPPING && !f->have_key;
}

static int is_merge_key(const weir_yaml_node *k)
{
    return k && k->kind == WEIR_YAML_SCALAR && k->style == WEIR_YAML_PLAIN && !k->tag &&
           k->len == 2 && memcmp(k->text, "<<", 2) == 0;
}

/* Hands a finished node to the collection that holds it, or makes it a root. */
static void attach(builder *b, built *x)
{
    if (!b->stack.len) {
        weir_vec_push(&b->roots, &x->n);
        return;
    }
    frame *f = &weir_vec_last(&b->stack);
    f->node->weight = weight_add(f->node->weight, x->weight);
    if (f->node->n.kind == WEIR_YAML_SEQUENCE) {
        weir_vec_push(&f->items, &x->n);
        return;
    }
    if (!f->have_key) {
        f->have_key = 1;
        f->key = &x->n;
        if (x->n.kind != WEIR_YAML_SCALAR) {
            weir_buf d = WEIR_BUF_INIT;
            weir_yaml_describe(&x->n, &d);
            diag_at(b, x->n.line, x->n.col, "expected a scalar as mapping key, got %s", d.ptr);
            weir_buf_release(&d);
            f->key = NULL;
        }
        return;
    }
    if (f->key) {
        raw_pair p = { f->key, &x->n, is_merge_key(f->key) };
        weir_vec_push(&f->pairs, p);
    }
    f->have_key = 0;
    f->key = NULL;
}

static int key_eq(const weir_yaml_node *a, const weir_yaml_node *b)
{
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static void merge_source_error(builder *b, const weir_yaml_node *v)
{
    weir_buf d = WEIR_BUF_INIT;
    weir_yaml_describe(v, &d);
    diag_at(b, v->line, v->col, "expected a mapping or a list of mappings after '<<', got %s",
            d.ptr);
    weir_buf_release(&d);
}

/*
 * Resolves a finished mapping's raw pairs: duplicates are reported and
 * dropped (the first one stays), merge keys are replaced by the pairs of
 * their mappings that no explicit key overrides.
 */
static void finish_mapping(builder *b, frame *f)
{
    weir_map explicit_keys = WEIR_MAP_INIT, merged = WEIR_MAP_INIT;
    WEIR_VEC(weir_yaml_pair) out = WEIR_VEC_INIT;

    for (size_t i = 0; i < f->pairs.len; i++) {
        raw_pair *p = &f->pairs.items[i];
        if (p->merge)
            continue;
        weir_yaml_node *first = weir_map_get(&explicit_keys, p->key->text);
        if (first && key_eq(first, p->key)) {
            weir_buf k = WEIR_BUF_INIT;
            add_quoted(&k, p->key->text, p->key->len);
            diag_at(b, p->key->line, p->key->col, "duplicate key %s (first defined at line %u)",
                    k.ptr, first->line);
            weir_buf_release(&k);
            p->key = NULL; /* dropped */
            continue;
        }
        if (!first)
            weir_map_put(&explicit_keys, p->key->text, p->key);
    }

    for (size_t i = 0; i < f->pairs.len; i++) {
        raw_pair *p = &f->pairs.items[i];
        if (!p->key)
            continue;
        if (!p->merge) {
            weir_yaml_pair q = { p->key, p->value };
            weir_vec_push(&out, q);
            continue;
        }
        weir_yaml_node *v = p->value;
        size_t n_src = v->kind == WEIR_YAML_SEQUENCE ? v->n_items : 1;
        for (size_t s = 0; s < n_src; s++) {
            weir_yaml_node *src = v->kind == WEIR_YAML_SEQUENCE ? v->items[s] : v;
            if (src->kind != WEIR_YAML_MAPPING) {
                merge_source_error(b, src);
                continue;
            }
            for (size_t j = 0; j < src->n_pairs; j++) {
                weir_yaml_pair *q = &src->pairs[j];
                const char *k = q->key->text;
                if (weir_map_has(&explicit_keys, k) || weir_map_has(&merged, k))
                    continue;
                weir_map_put(&merged, k, q->key);
                weir_vec_push(&out, *q);
            }
        }
    }

    weir_yaml_node *n = &f->node->n;
    n->n_pairs = out.len;
    if (out.len)
        n->pairs = weir_arena_memdup(&b->doc->arena, out.items, out.len * sizeof(*out.items));
    weir_vec_release(&out);
    weir_map_release(&explicit_keys);
    weir_map_release(&merged);
}

static void frame_release(frame *f)
{
    free(f->anchor);
    weir_vec_release(&f->items);
    weir_vec_release(&f->pairs);
}

static int on_start(builder *b, const yaml_event_t *ev, weir_yaml_kind kind,
                    const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (b->stack.len >= b->max_depth) {
        diag_at(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                "nesting too deep: more than %u levels", b->max_depth);
        return WEIR_ETOOBIG;
    }
    if (count_nodes(b, 1, ev->start_mark))
        return WEIR_ETOOBIG;
    frame f;
    memset(&f, 0, sizeof(f));
    f.node = new_node(b, kind, ev->start_mark);
    f.node->n.tag = tag_copy(b, tag);
    f.anchor = anchor ? weir_xstrdup((const char *)anchor) : NULL;
    weir_vec_push(&b->stack, f);
    return 0;
}

static void on_end(builder *b)
{
    frame f = weir_vec_pop(&b->stack);
    weir_yaml_node *n = &f.node->n;
    if (n->kind == WEIR_YAML_SEQUENCE) {
        n->n_items = f.items.len;
        if (f.items.len)
            n->items = weir_arena_memdup(&b->doc->arena, f.items.items,
                                         f.items.len * sizeof(*f.items.items));
    } else {
        finish_mapping(b, &f);
    }
    if (f.anchor)
        weir_map_put(&b->anchors, f.anchor, f.node);
    attach(b, f.node);
    frame_release(&f);
}

static void on_scalar(builder *b, const yaml_event_t *ev)
{
    int is_key = in_key_position(b);
    built *x = new_node(b, WEIR_YAML_SCALAR, ev->start_mark);
    weir_yaml_node *n = &x->n;
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: n->style = WEIR_YAML_SINGLE_QUOTED; break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: n->style = WEIR_YAML_DOUBLE_QUOTED; break;
    case YAML_LITERAL_SCALAR_STYLE: n->style = WEIR_YAML_LITERAL; break;
    case YAML_FOLDED_SCALAR_STYLE: n->style = WEIR_YAML_FOLDED; break;
    default: n->style = WEIR_YAML_PLAIN; break;
    }
    n->tag = tag_copy(b, ev->data.scalar.tag);
    n->len = ev->data.scalar.length;
    n->text = weir_arena_strndup(&b->doc->arena, (const char *)ev->data.scalar.value, n->len);
    /* strndup stops at a NUL; keep every byte libyaml gave. */
    if (memchr(ev->data.scalar.value, 0, n->len)) {
        char *t = weir_arena_alloc(&b->doc->arena, n->len + 1);
        memcpy(t, ev->data.scalar.value, n->len);
        t[n->len] = '\0';
        n->text = t;
    }
    if (!is_key && (b->opts->flags & WEIR_YAML_INTERPOLATE))
        interpolate_scalar(b, x, ev);
    if (ev->data.scalar.anchor)
        weir_map_put(&b->anchors, (const char *)ev->data.scalar.anchor, x);
    attach(b, x);
}

static int on_alias(builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    built *target = weir_map_get(&b->anchors, name);
    if (!target) {
        diag_at(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                "unknown anchor '%s' (an alias '*%s' must follow its '&%s')", name, name, name);
        /* Stand in a null so the rest of the file is still checked. */
        built *x = new_node(b, WEIR_YAML_SCALAR, ev->start_mark);
        attach(b, x);
        return count_nodes(b, 1, ev->start_mark);
    }
    if (count_nodes(b, target->weight, ev->start_mark))
        return WEIR_ETOOBIG;
    attach(b, target);
    return 0;
}

/* Line and column of a byte offset, for reader errors that only have one. */
static void locate_offset(const char *data, size_t len, size_t off, unsigned *line,
                          unsigned *col)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (data[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)data[i] & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* True when the 0-based line of data holds "${". */
static int line_has_variable(const char *data, size_t len, size_t line)
{
    size_t i = 0;
    for (size_t l = 0; l < line && i < len; i++)
        if (data[i] == '\n')
            l++;
    for (; i + 1 < len && data[i] != '\n'; i++)
        if (data[i] == '$' && data[i + 1] == '{')
            return 1;
    return 0;
}

static void syntax_error(builder *b, const yaml_parser_t *p)
{
    unsigned line, col;
    const char *problem = p->problem ? p->problem : "invalid YAML";
    if (p->error == YAML_MEMORY_ERROR) {
        diag_at(b, 0, 0, "out of memory while parsing");
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        locate_offset(b->data, b->len, p->problem_offset, &line, &col);
        diag_at(b, line, col, "%s", problem);
        return;
    }
    line = (unsigned)p->problem_mark.line + 1;
    col = (unsigned)p->problem_mark.column + 1;
    /* `{ path: ${X} }` is the likely mistake behind a flow error on a line
     * with a variable: '{' and '}' end plain values inside [ ] and { }. */
    const char *hint = "";
    if ((b->opts->flags & WEIR_YAML_INTERPOLATE) && p->context && strstr(p->context, "flow") &&
        line_has_variable(b->data, b->len, p->problem_mark.line))
        hint = "; inside [ ] or { }, write values with variables in quotes: \"${VAR}\"";
    if (p->context) {
        unsigned cl = (unsigned)p->context_mark.line + 1;
        unsigned cc = (unsigned)p->context_mark.column + 1;
        if (cl != line || cc != col)
            diag_at(b, line, col, "%s %s (started at %u:%u)%s", problem, p->context, cl, cc,
                    hint);
        else
            diag_at(b, line, col, "%s %s%s", problem, p->context, hint);
    } else {
        diag_at(b, line, col, "%s", problem);
    }
}

/* Runs the parser to the end of the stream; 0, or an error code after a
 * syntax error or a limit (then the tree is incomplete). */
static int run(builder *b)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int rc = 0, done = 0, docs = 0;

    if (!yaml_parser_initialize(&parser))
        weir_oom();
    yaml_parser_set_input_string(&parser, (const unsigned char *)b->data, b->len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(b, &parser);
            rc = WEIR_EINVALID;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (docs++ && !(b->opts->flags & WEIR_YAML_MULTI_DOC)) {
                diag_at(b, (unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1,
                        "more than one document in the file (remove the second '---')");
                done = 1;
            }
            /* Anchors do not cross documents. */
            weir_map_release(&b->anchors);
            break;
        case YAML_SCALAR_EVENT:
            if ((rc = count_nodes(b, 1, ev.start_mark)) == 0)
                on_scalar(b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = on_start(b, &ev, WEIR_YAML_SEQUENCE, ev.data.sequence_start.anchor,
                          ev.data.sequence_start.tag);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = on_start(b, &ev, WEIR_YAML_MAPPING, ev.data.mapping_start.anchor,
                          ev.data.mapping_start.tag);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            on_end(b);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (rc)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}

int weir_yaml_load_buf(weir_yaml_doc *doc, const char *name, const char *data, size_t len,
                       const weir_yaml_options *opts, weir_diags *diags)
{
    static const weir_yaml_options no_opts;
    builder b;
    int rc;

    weir_arena_init(&doc->arena, 0);
    doc->file = weir_arena_strdup(&doc->arena, name ? name : "<input>");
    doc->root = NULL;
    doc->roots = NULL;
    doc->n_roots = 0;

    memset(&b, 0, sizeof(b));
    b.doc = doc;
    b.opts = opts ? opts : &no_opts;
    b.diags = diags;
    b.data = data;
    b.len = len;
    b.cur_byte = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    b.max_depth = b.opts->max_depth ? b.opts->max_depth : WEIR_YAML_MAX_DEPTH;
    b.max_nodes = b.opts->max_nodes ? b.opts->max_nodes : WEIR_YAML_MAX_NODES;
    weir_map_init(&b.anchors);

    rc = run(&b);
    if (rc == 0) {
        if (!b.roots.len) {
            yaml_mark_t start = { 0, 0, 0 };
            weir_vec_push(&b.roots, &new_node(&b, WEIR_YAML_SCALAR, start)->n);
        }
        doc->n_roots = b.roots.len;
        doc->roots = weir_arena_memdup(&doc->arena, b.roots.items,
                                       b.roots.len * sizeof(*b.roots.items));
        doc->root = doc->roots[0];
    }

    while (b.stack.len) {
        frame f = weir_vec_pop(&b.stack);
        frame_release(&f);
    }
    weir_vec_release(&b.stack);
    weir_vec_release(&b.roots);
    weir_map_release(&b.anchors);
    return rc || b.errors ? WEIR_EINVALID : 0;
}

int weir_yaml_load_file(weir_yaml_doc *doc, const char *path, const char *display_name,
                        const weir_yaml_options *opts, weir_diags *diags)
{
    weir_buf data = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    int rc = weir_fs_read_file(path, &data, 0, &err);
    if (rc) {
        weir_arena_init(&doc->arena, 0);
        doc->file = weir_arena_strdup(&doc->arena, display_name ? display_name : path);
        doc->root = NULL;
        doc->roots = NULL;
        doc->n_roots = 0;
        if (diags)
            weir_diags_add_error(diags, &err);
        goto cleanup;
    }
    rc = weir_yaml_load_buf(doc, display_name ? display_name : path, data.ptr, data.len,
                            opts, diags);
cleanup:
    weir_error_release(&err);
    weir_buf_release(&data);
    return rc;
}

void weir_yaml_doc_release(weir_yaml_doc *doc)
{
    weir_arena_release(&doc->arena);
    doc->file = NULL;
    doc->root = NULL;
    doc->roots = NULL;
    doc->n_roots = 0;
}

/* --- looking at nodes ------------------------------------------------ */

const char *weir_yaml_kind_name(weir_yaml_kind kind)
{
    switch (kind) {
    case WEIR_YAML_SCALAR: return "a scalar";
    case WEIR_YAML_SEQUENCE: return "a list";
    default: return "a mapping";
    }
}

int weir_yaml_is_null(const weir_yaml_node *n)
{
    if (!n)
        return 1;
    if (n->kind != WEIR_YAML_SCALAR || n->style != WEIR_YAML_PLAIN)
        return 0;
    if (n->tag)
        return strcmp(n->tag, "tag:yaml.org,2002:null") == 0;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

int weir_yaml_is_scalar(const weir_yaml_node *n)
{
    return n && n->kind == WEIR_YAML_SCALAR && !weir_yaml_is_null(n);
}

int weir_yaml_is_plain(const weir_yaml_node *n)
{
    return n && n->kind == WEIR_YAML_SCALAR && n->style == WEIR_YAML_PLAIN && !n->tag;
}

void weir_yaml_describe(const weir_yaml_node *n, weir_buf *out)
{
    if (weir_yaml_is_null(n)) {
        weir_buf_adds(out, "null");
        return;
    }
    if (n->kind != WEIR_YAML_SCALAR) {
        weir_buf_adds(out, weir_yaml_kind_name(n->kind));
        return;
    }
    if (!weir_yaml_is_plain(n))
        weir_buf_adds(out, "the quoted string ");
    add_quoted(out, n->text, n->len);
}

const weir_yaml_pair *weir_yaml_map_pair(const weir_yaml_node *n, const char *key)
{
    if (!n || n->kind != WEIR_YAML_MAPPING)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < n->n_pairs; i++) {
        const weir_yaml_node *k = n->pairs[i].key;
        if (k->len == klen && memcmp(k->text, key, klen) == 0)
            return &n->pairs[i];
    }
    return NULL;
}

weir_yaml_node *weir_yaml_map_get(const weir_yaml_node *n, const char *key)
{
    const weir_yaml_pair *p = weir_yaml_map_pair(n, key);
    return p ? p->value : NULL;
}

void weir_yaml_error(weir_diags *diags, const weir_yaml_node *n, const char *fmt, ...)
{
    weir_buf msg = WEIR_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    weir_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    if (diags)
        weir_diags_add(diags, WEIR_DIAG_ERROR, n ? n->file : NULL, n ? n->line : 0,
                       n ? n->col : 0, "%s", msg.ptr);
    weir_buf_release(&msg);
}

/* "expected <expected>[ for '<what>'], got <description of n>" */
static int expected(weir_diags *diags, const weir_yaml_node *n, const char *what,
                    const char *exp)
{
    weir_buf got = WEIR_BUF_INIT;
    weir_yaml_describe(n, &got);
    if (what)
        weir_yaml_error(diags, n, "expected %s for '%s', got %s", exp, what, got.ptr);
    else
        weir_yaml_error(diags, n, "expected %s, got %s", exp, got.ptr);
    weir_buf_release(&got);
    return WEIR_EINVALID;
}

int weir_yaml_get_str(const weir_yaml_node *n, const char *what, const char **out,
                      weir_diags *diags)
{
    if (!weir_yaml_is_scalar(n))
        return expected(diags, n, what, "a string");
    *out = n->text;
    return 0;
}

int weir_yaml_get_int(const weir_yaml_node *n, const char *what, int64_t *out,
                      weir_diags *diags)
{
    long long v;
    if (!weir_yaml_is_plain(n) || weir_yaml_is_null(n) || weir_str_to_i64(n->text, &v))
        return expected(diags, n, what, "an integer");
    *out = (int64_t)v;
    return 0;
}

int weir_yaml_get_bool(const weir_yaml_node *n, const char *what, int *out,
                       weir_diags *diags)
{
    static const char *const yes[] = { "true", "True", "TRUE" };
    static const char *const no[] = { "false", "False", "FALSE" };
    if (weir_yaml_is_plain(n)) {
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(n->text, yes[i]) == 0) {
                *out = 1;
                return 0;
            }
            if (strcmp(n->text, no[i]) == 0) {
                *out = 0;
                return 0;
            }
        }
    }
    return expected(diags, n, what, "true or false");
}

int weir_yaml_get_double(const weir_yaml_node *n, const char *what, double *out,
                         weir_diags *diags)
{
    if (weir_yaml_is_plain(n) && !weir_yaml_is_null(n)) {
        const char *t = n->text;
        if (strcmp(t, ".inf") == 0 || strcmp(t, "+.inf") == 0) {
            *out = INFINITY;
            return 0;
        }
        if (strcmp(t, "-.inf") == 0) {
            *out = -INFINITY;
            return 0;
        }
        if (strcmp(t, ".nan") == 0) {
            *out = NAN;
            return 0;
        }
        /* Digits, sign, point and exponent only: strtod's "inf", "nan" and
         * hex floats are not YAML numbers. */
        int ok = strspn(t, "0123456789+-.eE") == n->len;
        double v;
        if (ok && weir_str_to_double(t, &v) == 0) {
            *out = v;
            return 0;
        }
    }
    return expected(diags, n, what, "a number");
}

int weir_yaml_get_date(const weir_yaml_node *n, const char *what, weir_date *out,
                       weir_diags *diags)
{
    weir_date d;
    if (!weir_yaml_is_scalar(n) || weir_date_parse_n(n->text, n->len, &d))
        return expected(diags, n, what, "a date (YYYY-MM-DD)");
    *out = d;
    return 0;
}

int weir_yaml_parse_duration(const char *s, int64_t *seconds)
{
    int64_t total = 0;
    const char *p = s;
    if (!*p)
        return WEIR_EINVALID;
    if (strspn(p, "0123456789") == strlen(p)) {
        long long v;
        if (weir_str_to_i64(p, &v))
            return WEIR_EINVALID;
        *seconds = (int64_t)v;
        return 0;
    }
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return WEIR_EINVALID;
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            if (v > (INT64_MAX - 9) / 10)
                return WEIR_EINVALID;
            v = v * 10 + (*p++ - '0');
        }
        int64_t unit;
        switch (*p++) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return WEIR_EINVALID;
        }
        if (v > (INT64_MAX - total) / unit)
            return WEIR_EINVALID;
        total += v * unit;
    }
    *seconds = total;
    return 0;
}

int weir_yaml_get_duration(const weir_yaml_node *n, const char *what, int64_t *seconds,
                           weir_diags *diags)
{
    int64_t v;
    if (!weir_yaml_is_scalar(n) || memchr(n->text, 0, n->len) ||
        weir_yaml_parse_duration(n->text, &v))
        return expected(diags, n, what, "a duration like '30s', '5m' or '2h'");
    *seconds = v;
    return 0;
}

int weir_yaml_get_strlist(weir_yaml_doc *doc, const weir_yaml_node *n, const char *what,
                          const char ***out, size_t *n_out, weir_diags *diags)
{
    const char **list;
    if (weir_yaml_is_null(n)) {
        *out = NULL;
        *n_out = 0;
        return 0;
    }
    if (n->kind == WEIR_YAML_SCALAR) {
        list = weir_arena_alloc(&doc->arena, sizeof(*list));
        list[0] = n->text;
        *out = list;
        *n_out = 1;
        return 0;
    }
    if (n->kind != WEIR_YAML_SEQUENCE)
        return expected(diags, n, what, "a string or a list of strings");
    int rc = 0;
    for (size_t i = 0; i < n->n_items; i++)
        if (!weir_yaml_is_scalar(n->items[i]))
            rc = expected(diags, n->items[i], what, "a string");
    if (rc)
        return rc;
    list = weir_arena_calloc(&doc->arena, n->n_items ? n->n_items : 1, sizeof(*list));
    for (size_t i = 0; i < n->n_items; i++)
        list[i] = n->items[i]->text;
    *out = list;
    *n_out = n->n_items;
    return 0;
}
