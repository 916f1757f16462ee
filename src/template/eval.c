/*
 * eval.c: renders a syntax tree.
 *
 * A tree-walking interpreter. Variables live in frames (the render's root
 * frame, one per for loop, macro call, call block and with block) chained to
 * their parent; a name not found in the frames is looked up in the render
 * context, the environment's globals, its macros and macro namespaces, in
 * that order, and is otherwise undefined. Statements return 0, a negative
 * error, or a positive signal: WEIR_TEMPLATE_RETURN (a host function ended
 * the macro), SIG_BREAK or SIG_CONTINUE (loop controls).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "template/tpl_int.h"

#define SIG_BREAK 2
#define SIG_CONTINUE 3

typedef struct {
    const char *name;
    uint64_t hash;
    weir_tvalue v;
} var;

typedef struct frame {
    struct frame *parent;
    var inl[8];
    var *vars;
    size_t n, cap;
} frame;

struct render {
    weir_template_env *env;
    const weir_template *tpl;   /* where the code being run comes from */
    const weir_tvalue *ctx;
    weir_buf *out;
    frame *root;
    int depth, loop_depth;
    uint64_t steps;
    weir_tvalue *calls;
    weir_tvalue retval;
    weir_tvalue placeholder;
    weir_buf *root_out;   /* the caller's buffer, and how much it may grow */
    size_t root_room;
};

/* The output limit in force for the buffer being written, for messages. */
static size_t out_limit(const render *r)
{
    return r->out == r->root_out ? r->root_room : r->env->max_output;
}

/* --- frames ------------------------------------------------------------------- */

static void frame_init(frame *f, frame *parent)
{
    f->parent = parent;
    f->vars = f->inl;
    f->n = 0;
    f->cap = WEIR_ARRAY_SIZE(f->inl);
}

static void frame_release(frame *f)
{
    for (size_t i = 0; i < f->n; i++)
        weir_tvalue_free(f->vars[i].v);
    if (f->vars != f->inl)
        free(f->vars);
    f->n = 0;
}

static uint64_t hash_name(const char *s)
{
    return (uint64_t)weir_hash_str(s, strlen(s));
}

/* Sets name in f; v is consumed. name must outlive the frame. */
static void frame_set(frame *f, const char *name, uint64_t h, weir_tvalue v)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->vars[i].hash == h && !strcmp(f->vars[i].name, name)) {
            weir_tvalue_free(f->vars[i].v);
            f->vars[i].v = v;
            return;
        }
    if (f->n == f->cap) {
        size_t cap = f->cap * 2;
        var *nv = weir_xmalloc(weir_size_mul(cap, sizeof(var)));
        memcpy(nv, f->vars, f->n * sizeof(var));
        if (f->vars != f->inl)
            free(f->vars);
        f->vars = nv;
        f->cap = cap;
    }
    f->vars[f->n].name = name;
    f->vars[f->n].hash = h;
    f->vars[f->n].v = v;
    f->n++;
}

static const weir_tvalue *frame_find(const frame *f, const char *name, uint64_t h)
{
    for (; f; f = f->parent)
        for (size_t i = f->n; i > 0; i--)
            if (f->vars[i - 1].hash == h && !strcmp(f->vars[i - 1].name, name))
                return &f->vars[i - 1].v;
    return NULL;
}

/* --- errors --------------------------------------------------------------------- */

static int err_at(render *r, const node *n, int code, weir_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int err_at(render *r, const node *n, int code, weir_error *err, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    weir_error_vset(err, code, fmt, ap);
    va_end(ap);
    return weir_tpl__locate(r->tpl, n->line, n->col, err);
}

/* Gives an error raised below (by a builtin or host) the node's location. */
static int locate(render *r, const node *n, int rc, weir_error *err)
{
    if (rc < 0 && err) {
        if (!err->code)
            weir_error_set(err, rc, "error");
        weir_tpl__locate(r->tpl, n->line, n->col, err);
    }
    return rc;
}

int weir_tpl__strict(render *r)
{
    return r->env->strict;
}

static int undefined_error(render *r, const node *n, const weir_tvalue *v, weir_error *err)
{
    return err_at(r, n, WEIR_EINVALID, err, "%s", weir_tvalue_undefined_message(v));
}

static int step(render *r, const node *n, weir_error *err)
{
    if (r->env->max_steps && ++r->steps > r->env->max_steps)
        return err_at(r, n, WEIR_ETOOBIG, err, "template exceeded its budget of %" PRIu64
                      " evaluation steps", r->env->max_steps);
    return 0;
}

/* --- arguments ------------------------------------------------------------------ */

typedef struct {
    weir_args a;
    weir_tvalue *pos;
    weir_tvalue *kw;
    const char **names;
    size_t npos, nkw;
    weir_tvalue spos[6];
    weir_tvalue skw[4];
    const char *snames[4];
    weir_tvalue keep; /* a **kwargs dict whose keys names point into */
} argv_t;

static void args_release(argv_t *av)
{
    for (size_t i = 0; i < av->npos; i++)
        weir_tvalue_free(av->pos[i]);
    for (size_t i = 0; i < av->nkw; i++)
        weir_tvalue_free(av->kw[i]);
    if (av->pos != av->spos)
        free(av->pos);
    if (av->kw != av->skw) {
        free(av->kw);
        free(av->names);
    }
    weir_tvalue_free(av->keep);
}

static int eval(render *r, frame *f, const node *n, weir_tvalue *out, weir_error *err);

static void args_pos(argv_t *av, size_t *cap, weir_tvalue v)
{
    if (av->npos == *cap) {
        size_t nc = *cap * 2;
        weir_tvalue *np = weir_xmalloc(weir_size_mul(nc, sizeof(weir_tvalue)));
        memcpy(np, av->pos, av->npos * sizeof(weir_tvalue));
        if (av->pos != av->spos)
            free(av->pos);
        av->pos = np;
        *cap = nc;
    }
    av->pos[av->npos++] = v;
}

static void args_kw(argv_t *av, size_t *cap, const char *name, weir_tvalue v)
{
    for (size_t i = 0; i < av->nkw; i++)
        if (!strcmp(av->names[i], name)) {
            weir_tvalue_free(av->kw[i]);
            av->kw[i] = v;
            return;
        }
    if (av->nkw == *cap) {
        size_t nc = *cap * 2;
        weir_tvalue *nk = weir_xmalloc(weir_size_mul(nc, sizeof(weir_tvalue)));
        const char **nn = weir_xmalloc(weir_size_mul(nc, sizeof(char *)));
        memcpy(nk, av->kw, av->nkw * sizeof(weir_tvalue));
        memcpy(nn, av->names, av->nkw * sizeof(char *));
        if (av->kw != av->skw) {
            free(av->kw);
            free(av->names);
        }
        av->kw = nk;
        av->names = nn;
        *cap = nc;
    }
    av->names[av->nkw] = name;
    av->kw[av->nkw++] = v;
}

static void args_finish(argv_t *av)
{
    av->a.pos = av->pos;
    av->a.npos = av->npos;
    av->a.kw = av->kw;
    av->a.kw_names = av->names;
    av->a.nkw = av->nkw;
}

/* Evaluates the arguments of a call or filter node, with *a and **kw. */
static int eval_args(render *r, frame *f, const node *n, const weir_tvalue *first, argv_t *av,
                     weir_error *err)
{
    size_t pcap = WEIR_ARRAY_SIZE(av->spos), kcap = WEIR_ARRAY_SIZE(av->skw);
    av->pos = av->spos;
    av->kw = av->skw;
    av->names = av->snames;
    av->npos = av->nkw = 0;
    av->keep = weir_tvalue_undefined();
    int rc = 0;
    if (first)
        args_pos(av, &pcap, weir_tvalue_copy(first));
    for (size_t i = 0; i < n->n; i++) {
        weir_tvalue v;
        if ((rc = eval(r, f, n->list[i], &v, err)))
            goto done;
        args_pos(av, &pcap, v);
    }
    if (n->b) {
        weir_tvalue v;
        if ((rc = eval(r, f, n->b, &v, err)))
            goto done;
        if (v.kind == WEIR_TVALUE_LIST) {
            for (size_t i = 0; i < VLIST(&v)->len; i++)
                args_pos(av, &pcap, weir_tvalue_copy(&VLIST(&v)->items[i]));
        } else if (v.kind != WEIR_TVALUE_UNDEFINED) {
            weir_tvalue_free(v);
            rc = err_at(r, n->b, WEIR_EINVALID, err, "argument after * must be a list");
            goto done;
        }
        weir_tvalue_free(v);
    }
    for (size_t i = 0; i < n->n2; i++) {
        weir_tvalue v;
        if ((rc = eval(r, f, n->list2[i], &v, err)))
            goto done;
        args_kw(av, &kcap, n->names[i], v);
    }
    if (n->c) {
        weir_tvalue v;
        if ((rc = eval(r, f, n->c, &v, err)))
            goto done;
        if (v.kind == WEIR_TVALUE_DICT) {
            for (size_t i = 0; i < VDICT(&v)->len; i++) {
                const weir_tvalue *k = &VDICT(&v)->e[i].key;
                if (k->kind != WEIR_TVALUE_STRING)
                    continue;
                const char *nm = weir_tvalue_str(k);
                args_kw(av, &kcap, nm, weir_tvalue_copy(&VDICT(&v)->e[i].val));
            }
            /* the names point into v's keys: keep v until the call ends */
            weir_tvalue_free(av->keep);
            av->keep = v;
        } else if (v.kind != WEIR_TVALUE_UNDEFINED) {
            weir_tvalue_free(v);
            rc = err_at(r, n->c, WEIR_EINVALID, err, "argument after ** must be a dict");
            goto done;
        } else
            weir_tvalue_free(v);
    }
done:
    args_finish(av);
    return rc;
}

/* --- lookups -------------------------------------------------------------------- */

static int lookup(render *r, frame *f, const char *name, uint64_t h, weir_tvalue *out)
{
    const weir_tvalue *v = frame_find(f, name, h);
    if (!v && r->ctx)
        v = weir_tvalue_dict_get(r->ctx, name);
    if (!v) {
        weir_tvalue *g = weir_map_get(&r->env->globals, name);
        if (!g)
            g = weir_map_get(&r->env->macros, name);
        if (!g)
            g = weir_map_get(&r->env->namespaces, name);
        v = g;
    }
    if (!v)
        return 0;
    *out = weir_tvalue_copy(v);
    return 1;
}

static weir_tvalue undefined_named(const char *name)
{
    char hint[300];
    snprintf(hint, sizeof(hint), "'%.250s' is undefined", name);
    return weir_tvalue_undefined_hint(hint);
}

static const char *obj_desc(const weir_tvalue *v, char *buf, size_t n)
{
    if (v->kind == WEIR_TVALUE_NONE)
        return "None";
    snprintf(buf, n, "%s object", weir_tvalue_type_name(v));
    return buf;
}

static weir_tvalue no_attr(const weir_tvalue *obj, const char *name)
{
    char hint[400], d[64];
    snprintf(hint, sizeof(hint), "'%s' has no attribute '%.250s'", obj_desc(obj, d, sizeof(d)),
             name);
    return weir_tvalue_undefined_hint(hint);
}

static weir_tvalue bound_method(const weir_tvalue *self, int m)
{
    weir_tvalue fn = weir_tvalue__func_new(FN_METHOD, weir_tpl__method_name(m));
    VFUNC(&fn)->self = weir_tvalue_copy(self);
    fn.u.o->depth = (uint16_t)WEIR_MIN(WEIR_TVALUE_MAX_DEPTH + 1,
                                        (self->kind >= WEIR_TVALUE_LIST ? self->u.o->depth : 0) + 1);
    VFUNC(&fn)->method = m;
    return fn;
}

static int loop_attr(const weir_tvalue *obj, const char *name, weir_tvalue *out)
{
    vloop *l = VLOOP(obj);
    if (!strcmp(name, "index")) *out = weir_tvalue_int(l->index0 + 1);
    else if (!strcmp(name, "index0")) *out = weir_tvalue_int(l->index0);
    else if (!strcmp(name, "revindex")) *out = weir_tvalue_int(l->length - l->index0);
    else if (!strcmp(name, "revindex0")) *out = weir_tvalue_int(l->length - l->index0 - 1);
    else if (!strcmp(name, "first")) *out = weir_tvalue_bool(l->index0 == 0);
    else if (!strcmp(name, "last")) *out = weir_tvalue_bool(l->index0 == l->length - 1);
    else if (!strcmp(name, "length")) *out = weir_tvalue_int(l->length);
    else if (!strcmp(name, "depth")) *out = weir_tvalue_int(l->depth0 + 1);
    else if (!strcmp(name, "depth0")) *out = weir_tvalue_int(l->depth0);
    else if (!strcmp(name, "previtem")) *out = weir_tvalue_copy(&l->prev);
    else if (!strcmp(name, "nextitem")) *out = weir_tvalue_copy(&l->next);
    else
        return 0;
    return 1;
}

int weir_tpl__getattr(render *r, const weir_tvalue *obj, const char *name, weir_tvalue *out,
                      weir_error *err)
{
    switch (obj->kind) {
    case WEIR_TVALUE_UNDEFINED:
        if (r && r->env->lenient) {
            *out = weir_tvalue_copy(obj);
            return 0;
        }
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(obj));
    case WEIR_TVALUE_DICT: {
        if (!weir_tvalue_is_namespace(obj) &&
            (!weir_tvalue_is_object(obj) || weir_tpl__dt_type(obj))) {
            int m = weir_tpl__find_method(obj, name);
            if (m >= 0) {
                *out = bound_method(obj, m);
                return 0;
            }
        }
        const weir_tvalue *v = weir_tvalue_dict_get(obj, name);
        *out = v ? weir_tvalue_copy(v) : no_attr(obj, name);
        return 0;
    }
    case WEIR_TVALUE_LOOP:
        if (loop_attr(obj, name, out))
            return 0;
        break;
    case WEIR_TVALUE_FUNC: {
        const weir_tvalue *v = weir_tvalue_dict_get(&VFUNC(obj)->attrs, name);
        if (v) {
            *out = weir_tvalue_copy(v);
            return 0;
        }
        if (!strcmp(name, "name") && VFUNC(obj)->kind == FN_MACRO) {
            *out = weir_tvalue_string(VFUNC(obj)->name);
            return 0;
        }
        break;
    }
    default:
        break;
    }
    int m = weir_tpl__find_method(obj, name);
    if (m >= 0) {
        *out = bound_method(obj, m);
        return 0;
    }
    *out = no_attr(obj, name);
    return 0;
}

/* Code point offsets of a non-ASCII string: fills *offs (len+1 entries). */
static size_t utf8_offsets(const char *s, size_t n, size_t **offs)
{
    size_t *o = weir_xmalloc(weir_size_mul(n + 1, sizeof(size_t)));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            o[k++] = i;
    o[k] = n;
    *offs = o;
    return k;
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static int as_index(const weir_tvalue *v, int64_t *out)
{
    if (v->kind == WEIR_TVALUE_INT) { *out = v->u.i; return 1; }
    if (v->kind == WEIR_TVALUE_BOOL) { *out = v->u.b; return 1; }
    return 0;
}

/* Python slice indices for a sequence of len items. */
static int slice_indices(render *r, frame *f, const node *s, int64_t len, int64_t *start,
                         int64_t *stop, int64_t *stepv, weir_error *err)
{
    const node *parts[3] = { s->a, s->b, s->c };
    int64_t vals[3];
    int has[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        weir_tvalue v;
        int rc = eval(r, f, parts[i], &v, err);
        if (rc)
            return rc;
        if (v.kind == WEIR_TVALUE_NONE) {
            weir_tvalue_free(v);
            continue;
        }
        if (!as_index(&v, &vals[i])) {
            weir_tvalue_free(v);
            return err_at(r, parts[i], WEIR_EINVALID, err,
                          "slice indices must be integers or None");
        }
        has[i] = 1;
    }
    int64_t st = has[2] ? vals[2] : 1;
    if (st == 0)
        return err_at(r, s, WEIR_EINVALID, err, "slice step cannot be zero");
    int64_t lo, hi;
    if (st > 0) {
        lo = has[0] ? vals[0] : 0;
        hi = has[1] ? vals[1] : len;
        if (lo < 0) lo = lo + len < 0 ? 0 : lo + len;
        if (lo > len) lo = len;
        if (hi < 0) hi = hi + len < 0 ? 0 : hi + len;
        if (hi > len) hi = len;
    } else {
        lo = has[0] ? vals[0] : len - 1;
        hi = has[1] ? vals[1] : -1 - len;
        if (lo < 0) lo = lo + len < 0 ? -1 : lo + len;
        if (lo >= len) lo = len - 1;
        if (hi < 0) hi = hi + len < 0 ? -1 : hi + len;
        if (hi >= len) hi = len - 1;
    }
    *start = lo;
    *stop = hi;
    *stepv = st;
    return 0;
}

static int do_slice(render *r, frame *f, const weir_tvalue *obj, const node *s, weir_tvalue *out,
                    weir_error *err)
{
    int64_t lo, hi, st, len;
    int rc;
    if (obj->kind == WEIR_TVALUE_LIST) {
        len = (int64_t)VLIST(obj)->len;
        if ((rc = slice_indices(r, f, s, len, &lo, &hi, &st, err)))
            return rc;
        *out = weir_tvalue_is_tuple(obj) ? weir_tvalue_tuple() : weir_tvalue_list();
        for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(obj)->items[i]));
        return 0;
    }
    if (obj->kind == WEIR_TVALUE_STRING) {
        const char *p = VSTR(obj)->data;
        size_t n = VSTR(obj)->len, *offs = NULL;
        int ascii = is_ascii(p, n);
        len = ascii ? (int64_t)n : (int64_t)utf8_offsets(p, n, &offs);
        if ((rc = slice_indices(r, f, s, len, &lo, &hi, &st, err))) {
            free(offs);
            return rc;
        }
        weir_buf b = WEIR_BUF_INIT;
        for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) {
            if (ascii)
                weir_buf_addch(&b, p[i]);
            else
                weir_buf_add(&b, p + offs[i], offs[i + 1] - offs[i]);
        }
        free(offs);
        *out = weir_tvalue_string_buf(&b);
        weir_buf_release(&b);
        return 0;
    }
    if (obj->kind == WEIR_TVALUE_UNDEFINED && !r->env->lenient)
        return err_at(r, s, WEIR_EINVALID, err, "%s", weir_tvalue_undefined_message(obj));
    if (obj->kind == WEIR_TVALUE_UNDEFINED) {
        *out = weir_tvalue_copy(obj);
        return 0;
    }
    return err_at(r, s, WEIR_EINVALID, err, "'%s' object is not subscriptable",
                  weir_tvalue_type_name(obj));
}

static int getitem(render *r, const weir_tvalue *obj, const weir_tvalue *key, weir_tvalue *out,
                   weir_error *err)
{
    int64_t i;
    switch (obj->kind) {
    case WEIR_TVALUE_UNDEFINED:
        if (r->env->lenient) {
            *out = weir_tvalue_copy(obj);
            return 0;
        }
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(obj));
    case WEIR_TVALUE_DICT: {
        const weir_tvalue *v = weir_tvalue_dict_getv(obj, key);
        if (v) {
            *out = weir_tvalue_copy(v);
            return 0;
        }
        break;
    }
    case WEIR_TVALUE_LIST:
        if (as_index(key, &i)) {
            int64_t len = (int64_t)VLIST(obj)->len;
            if (i < 0)
                i += len;
            if (i >= 0 && i < len) {
                *out = weir_tvalue_copy(&VLIST(obj)->items[i]);
                return 0;
            }
            *out = weir_tvalue_undefined_hint("list index out of range");
            return 0;
        }
        break;
    case WEIR_TVALUE_STRING:
        if (as_index(key, &i)) {
            const char *p = VSTR(obj)->data;
            size_t n = VSTR(obj)->len;
            if (is_ascii(p, n)) {
                if (i < 0)
                    i += (int64_t)n;
                if (i >= 0 && i < (int64_t)n) {
                    *out = weir_tvalue_string_n(p + i, 1);
                    return 0;
                }
            } else {
                size_t *offs;
                int64_t len = (int64_t)utf8_offsets(p, n, &offs);
                if (i < 0)
                    i += len;
                if (i >= 0 && i < len)
                    *out = weir_tvalue_string_n(p + offs[i], offs[i + 1] - offs[i]);
                free(offs);
                if (i >= 0 && i < len)
                    return 0;
            }
            *out = weir_tvalue_undefined_hint("string index out of range");
            return 0;
        }
        break;
    default:
        break;
    }
    if (key->kind == WEIR_TVALUE_STRING && obj->kind != WEIR_TVALUE_DICT)
        return weir_tpl__getattr(r, obj, VSTR(key)->data, out, err);
    if (key->kind == WEIR_TVALUE_STRING) {
        int m = weir_tpl__find_method(obj, VSTR(key)->data);
        if (m >= 0 && !weir_tvalue_is_namespace(obj) && !weir_tvalue_is_object(obj)) {
            *out = bound_method(obj, m);
            return 0;
        }
        *out = no_attr(obj, VSTR(key)->data);
        return 0;
    }
    char d[64];
    weir_buf hint = WEIR_BUF_INIT;
    weir_buf_addf(&hint, "'%s' has no item ", obj_desc(obj, d, sizeof(d)));
    weir_tvalue_repr_buf(key, &hint);
    *out = weir_tvalue_undefined_hint(hint.ptr);
    weir_buf_release(&hint);
    return 0;
}

/* --- operators ------------------------------------------------------------------ */

static int numeric(const weir_tvalue *v, int64_t *i, double *d)
{
    switch (v->kind) {
    case WEIR_TVALUE_BOOL: *i = v->u.b; *d = v->u.b; return 1;
    case WEIR_TVALUE_INT: *i = v->u.i; *d = (double)v->u.i; return 1;
    case WEIR_TVALUE_FLOAT: *d = v->u.f; return 2;
    default: return 0;
    }
}

static const char *op_name(int op)
{
    switch (op) {
    case OP_FLOORDIV: return "//";
    case OP_POW: return "**";
    case '+': return "+";
    case '-': return "-";
    case '*': return "*";
    case '/': return "/";
    case '%': return "%";
    default: return "?";
    }
}

static double py_fmod(double a, double b)
{
    double m = fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0)))
        m += b;
    return m;
}

#define MAX_SEQ ((size_t)1 << 24)

static int repeat(render *r, const weir_tvalue *seq, int64_t times, weir_tvalue *out,
                  weir_error *err)
{
    if (times < 0)
        times = 0;
    if (seq->kind == WEIR_TVALUE_STRING) {
        size_t n = VSTR(seq)->len;
        if (n && (uint64_t)times > r->env->max_output / n)
            return weir_error_set(err, WEIR_ETOOBIG, "string repetition is too large");
        weir_tvalue s = weir_tvalue__string_alloc(n * (size_t)times);
        for (int64_t k = 0; k < times; k++)
            memcpy(VSTR(&s)->data + (size_t)k * n, VSTR(seq)->data, n);
        *out = s;
        return 0;
    }
    size_t n = VLIST(seq)->len;
    if (n && (uint64_t)times > MAX_SEQ / n)
        return weir_error_set(err, WEIR_ETOOBIG, "list repetition is too large");
    *out = weir_tvalue_is_tuple(seq) ? weir_tvalue_tuple() : weir_tvalue_list();
    for (int64_t k = 0; k < times; k++)
        for (size_t i = 0; i < n; i++)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(seq)->items[i]));
    return 0;
}

/* Python's "%" on a string: %s %r %d %i %f %x %% with width/precision. */
int weir_tpl__percent(const weir_tvalue *fmt, const weir_tvalue *arg, weir_tvalue *out,
                      weir_error *err)
{
    const char *s = VSTR(fmt)->data;
    size_t n = VSTR(fmt)->len, ai = 0, nargs;
    const weir_tvalue *args;
    if (arg->kind == WEIR_TVALUE_LIST && weir_tvalue_is_tuple(arg)) {
        args = VLIST(arg)->items;
        nargs = VLIST(arg)->len;
    } else {
        args = arg;
        nargs = 1;
    }
    weir_buf b = WEIR_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            weir_buf_addch(&b, s[i]);
            continue;
        }
        size_t st = i++;
        char spec[32];
        size_t k = 0;
        spec[k++] = '%';
        const weir_tvalue *named = NULL;
        if (i < n && s[i] == '(' && arg->kind == WEIR_TVALUE_DICT) {
            const char *e = memchr(s + i, ')', n - i);
            if (e) {
                weir_tvalue key = weir_tvalue_string_n(s + i + 1, (size_t)(e - s) - i - 1);
                named = weir_tvalue_dict_getv(arg, &key);
                weir_tvalue_free(key);
                i = (size_t)(e - s) + 1;
            }
        }
        while (i < n && k < 20 && strchr("-+ #0123456789.", s[i]))
            spec[k++] = s[i++];
        if (i >= n)
            goto bad;
        char conv = s[i];
        if (conv == '%') {
            weir_buf_addch(&b, '%');
            continue;
        }
        const weir_tvalue *a = named;
        if (!a) {
            if (arg->kind == WEIR_TVALUE_DICT && !weir_tvalue_is_tuple(arg) && conv != 'd' &&
                nargs == 1 && ai == 0)
                a = arg;
            else if (ai < nargs)
                a = &args[ai];
            ai++;
        }
        if (!a)
            goto few;
        int64_t iv;
        double dv;
        int num = numeric(a, &iv, &dv);
        switch (conv) {
        case 's': case 'r': {
            weir_buf tmp = WEIR_BUF_INIT;
            if (conv == 'r')
                weir_tvalue_repr_buf(a, &tmp);
            else
                weir_tvalue_to_buf(a, &tmp);
            spec[k++] = 's';
            spec[k] = '\0';
            weir_buf_addf(&b, spec, tmp.ptr);
            weir_buf_release(&tmp);
            break;
        }
        case 'd': case 'i': case 'x': case 'X': case 'o':
            if (!num)
                goto type;
            if (num == 2)
                iv = (int64_t)dv;
            spec[k++] = 'l';
            spec[k++] = 'l';
            spec[k++] = conv == 'i' ? 'd' : conv;
            spec[k] = '\0';
            weir_buf_addf(&b, spec, (long long)iv);
            break;
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
            if (!num)
                goto type;
            spec[k++] = conv;
            spec[k] = '\0';
            weir_buf_addf(&b, spec, dv);
            break;
        default:
            weir_buf_release(&b);
            return weir_error_set(err, WEIR_EINVALID, "unsupported format character '%c'", conv);
        }
        WEIR_UNUSED(st);
    }
    /* Python lets a dict or list (a "mapping") go unused */
    if (ai < nargs && arg->kind != WEIR_TVALUE_DICT &&
        !(arg->kind == WEIR_TVALUE_LIST && !weir_tvalue_is_tuple(arg))) {
        weir_buf_release(&b);
        return weir_error_set(err, WEIR_EINVALID,
                              "not all arguments converted during string formatting");
    }
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
bad:
    weir_buf_release(&b);
    return weir_error_set(err, WEIR_EINVALID, "incomplete format");
few:
    weir_buf_release(&b);
    return weir_error_set(err, WEIR_EINVALID, "not enough arguments for format string");
type:
    weir_buf_release(&b);
    return weir_error_set(err, WEIR_EINVALID, "%%%c format: a number is required", s[n - 1]);
}

static int binop(render *r, int op, const weir_tvalue *a, const weir_tvalue *b, weir_tvalue *out,
                 weir_error *err)
{
    if (a->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(a));
    if (b->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(b));
    int64_t ia = 0, ib = 0;
    double da = 0, db = 0;
    int na = numeric(a, &ia, &da), nb = numeric(b, &ib, &db);
    if (na && nb) {
        int ints = na == 1 && nb == 1;
        int64_t ir;
        switch (op) {
        case '+':
            if (ints && !__builtin_add_overflow(ia, ib, &ir)) { *out = weir_tvalue_int(ir); return 0; }
            *out = weir_tvalue_float(da + db);
            return 0;
        case '-':
            if (ints && !__builtin_sub_overflow(ia, ib, &ir)) { *out = weir_tvalue_int(ir); return 0; }
            *out = weir_tvalue_float(da - db);
            return 0;
        case '*':
            if (ints && !__builtin_mul_overflow(ia, ib, &ir)) { *out = weir_tvalue_int(ir); return 0; }
            *out = weir_tvalue_float(da * db);
            return 0;
        case '/':
            if (db == 0)
                return weir_error_set(err, WEIR_EINVALID, "division by zero");
            *out = weir_tvalue_float(da / db);
            return 0;
        case OP_FLOORDIV:
            if (db == 0)
                return weir_error_set(err, WEIR_EINVALID, "integer division or modulo by zero");
            if (ints && !(ia == INT64_MIN && ib == -1)) {
                int64_t q = ia / ib;
                if ((ia % ib != 0) && ((ia < 0) != (ib < 0)))
                    q--;
                *out = weir_tvalue_int(q);
            } else
                *out = weir_tvalue_float(floor(da / db));
            return 0;
        case '%':
            if (db == 0)
                return weir_error_set(err, WEIR_EINVALID, "integer division or modulo by zero");
            if (ints && !(ia == INT64_MIN && ib == -1)) {
                int64_t m = ia % ib;
                if (m != 0 && ((m < 0) != (ib < 0)))
                    m += ib;
                *out = weir_tvalue_int(m);
            } else
                *out = weir_tvalue_float(py_fmod(da, db));
            return 0;
        case OP_POW:
            if (ints && ib >= 0) {
                int64_t res = 1, base = ia, e = ib;
                int ovf = 0;
                while (e > 0 && !ovf) {
                    if (e & 1)
                        ovf |= __builtin_mul_overflow(res, base, &res);
                    e >>= 1;
                    if (e)
                        ovf |= __builtin_mul_overflow(base, base, &base);
                }
                if (!ovf) {
                    *out = weir_tvalue_int(res);
                    return 0;
                }
            }
            if (da == 0 && db < 0)
                return weir_error_set(err, WEIR_EINVALID,
                                      "0.0 cannot be raised to a negative power");
            *out = weir_tvalue_float(pow(da, db));
            return 0;
        }
    }
    if (op == '+' && a->kind == WEIR_TVALUE_STRING && b->kind == WEIR_TVALUE_STRING) {
        size_t la = VSTR(a)->len, lb = VSTR(b)->len;
        if (la + lb > r->env->max_output)
            return weir_error_set(err, WEIR_ETOOBIG, "string is too large");
        weir_tvalue s = weir_tvalue__string_alloc(la + lb);
        memcpy(VSTR(&s)->data, VSTR(a)->data, la);
        memcpy(VSTR(&s)->data + la, VSTR(b)->data, lb);
        *out = s;
        return 0;
    }
    if (op == '+' && a->kind == WEIR_TVALUE_LIST && b->kind == WEIR_TVALUE_LIST &&
        weir_tvalue_is_tuple(a) == weir_tvalue_is_tuple(b)) {
        *out = weir_tvalue_is_tuple(a) ? weir_tvalue_tuple() : weir_tvalue_list();
        for (size_t i = 0; i < VLIST(a)->len; i++)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(a)->items[i]));
        for (size_t i = 0; i < VLIST(b)->len; i++)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(b)->items[i]));
        return 0;
    }
    if (op == '*' && (a->kind == WEIR_TVALUE_STRING || a->kind == WEIR_TVALUE_LIST) && nb == 1)
        return repeat(r, a, ib, out, err);
    if (op == '*' && (b->kind == WEIR_TVALUE_STRING || b->kind == WEIR_TVALUE_LIST) && na == 1)
        return repeat(r, b, ia, out, err);
    if (op == '%' && a->kind == WEIR_TVALUE_STRING)
        return weir_tpl__percent(a, b, out, err);
    int rc = weir_tpl__dt_binop(op, a, b, out, err);
    if (rc != WEIR_ENOTFOUND)
        return rc;
    return weir_error_set(err, WEIR_EINVALID, "unsupported operand type(s) for %s: '%s' and '%s'",
                          op_name(op), weir_tvalue_type_name(a), weir_tvalue_type_name(b));
}

const char *weir_tpl__memmem(const char *h, size_t hn, const char *n, size_t nn)
{
    if (!nn)
        return h;
    for (size_t i = 0; i + nn <= hn; i++) {
        const char *p = memchr(h + i, n[0], hn - i - nn + 1);
        if (!p)
            return NULL;
        i = (size_t)(p - h);
        if (memcmp(p, n, nn) == 0)
            return p;
    }
    return NULL;
}

int weir_tpl__compare(const weir_tvalue *a, const weir_tvalue *b, int case_sensitive, int *cmp,
                      weir_error *err)
{
    int64_t ia = 0, ib = 0;
    double da, db;
    int na = numeric(a, &ia, &da), nb = numeric(b, &ib, &db);
    if (na && nb) {
        if (na == 1 && nb == 1)
            *cmp = ia < ib ? -1 : ia > ib;
        else
            *cmp = da < db ? -1 : da > db;
        return 0;
    }
    if (a->kind == WEIR_TVALUE_STRING && b->kind == WEIR_TVALUE_STRING) {
        size_t la = VSTR(a)->len, lb = VSTR(b)->len, m = la < lb ? la : lb;
        int c = 0;
        if (case_sensitive)
            c = memcmp(VSTR(a)->data, VSTR(b)->data, m);
        else
            for (size_t i = 0; i < m && !c; i++) {
                int x = tolower((unsigned char)VSTR(a)->data[i]);
                int y = tolower((unsigned char)VSTR(b)->data[i]);
                c = x - y;
            }
        *cmp = c ? (c < 0 ? -1 : 1) : (la < lb ? -1 : la > lb);
        return 0;
    }
    if (a->kind == WEIR_TVALUE_LIST && b->kind == WEIR_TVALUE_LIST &&
        weir_tvalue_is_tuple(a) == weir_tvalue_is_tuple(b)) {
        size_t la = VLIST(a)->len, lb = VLIST(b)->len;
        for (size_t i = 0; i < la && i < lb; i++) {
            if (weir_tvalue_equal(&VLIST(a)->items[i], &VLIST(b)->items[i]))
                continue;
            return weir_tpl__compare(&VLIST(a)->items[i], &VLIST(b)->items[i], case_sensitive,
                                     cmp, err);
        }
        *cmp = la < lb ? -1 : la > lb;
        return 0;
    }
    if (weir_tpl__dt_compare(a, b, cmp))
        return 0;
    if (a->kind == WEIR_TVALUE_UNDEFINED && b->kind == WEIR_TVALUE_UNDEFINED) {
        *cmp = 0; /* sorting by a missing attribute keeps the order */
        return 0;
    }
    if (a->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(a));
    if (b->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(b));
    return weir_error_set(err, WEIR_EINVALID,
                          "'<' not supported between instances of '%s' and '%s'",
                          weir_tvalue_type_name(a), weir_tvalue_type_name(b));
}

static int contains(const weir_tvalue *hay, const weir_tvalue *needle, int *res, weir_error *err)
{
    switch (hay->kind) {
    case WEIR_TVALUE_STRING:
        if (needle->kind != WEIR_TVALUE_STRING)
            return weir_error_set(err, WEIR_EINVALID,
                                  "'in <string>' requires string as left operand, not %s",
                                  weir_tvalue_type_name(needle));
        if (!VSTR(needle)->len)
            *res = 1;
        else
            *res = weir_tpl__memmem(VSTR(hay)->data, VSTR(hay)->len, VSTR(needle)->data,
                          VSTR(needle)->len) != NULL;
        return 0;
    case WEIR_TVALUE_LIST:
        *res = 0;
        for (size_t i = 0; i < VLIST(hay)->len && !*res; i++)
            *res = weir_tvalue_equal(&VLIST(hay)->items[i], needle);
        return 0;
    case WEIR_TVALUE_DICT:
        if (needle->kind >= WEIR_TVALUE_LIST && !weir_tvalue_is_tuple(needle))
            return weir_error_set(err, WEIR_EINVALID, "unhashable type: '%s'",
                                  weir_tvalue_type_name(needle));
        *res = weir_tvalue_dict_getv(hay, needle) != NULL;
        return 0;
    case WEIR_TVALUE_UNDEFINED:
        *res = 0;
        return 0;
    default:
        return weir_error_set(err, WEIR_EINVALID, "argument of type '%s' is not iterable",
                              weir_tvalue_type_name(hay));
    }
}

static int compare_op(int op, const weir_tvalue *a, const weir_tvalue *b, int *res,
                      weir_error *err)
{
    int c, rc;
    switch (op) {
    case OP_EQ: *res = weir_tvalue_equal(a, b); return 0;
    case OP_NE: *res = !weir_tvalue_equal(a, b); return 0;
    case OP_IN: return contains(b, a, res, err);
    case OP_NOTIN:
        rc = contains(b, a, res, err);
        *res = !*res;
        return rc;
    }
    if ((rc = weir_tpl__compare(a, b, 1, &c, err))) {
        if (err && err->code && strstr(err->msg.ptr, "'<'")) {
            const char *o = op == '<' ? "<" : op == '>' ? ">" : op == OP_LE ? "<=" : ">=";
            weir_error_set(err, WEIR_EINVALID,
                           "'%s' not supported between instances of '%s' and '%s'", o,
                           weir_tvalue_type_name(a), weir_tvalue_type_name(b));
        }
        return rc;
    }
    switch (op) {
    case '<': *res = c < 0; break;
    case '>': *res = c > 0; break;
    case OP_LE: *res = c <= 0; break;
    default: *res = c >= 0; break;
    }
    return 0;
}

int weir_tpl__to_list(render *r, const weir_tvalue *v, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    switch (v->kind) {
    case WEIR_TVALUE_LIST:
        *out = weir_tvalue_copy(v);
        return 0;
    case WEIR_TVALUE_DICT:
        *out = weir_tvalue_list();
        for (size_t i = 0; i < VDICT(v)->len; i++)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VDICT(v)->e[i].key));
        return 0;
    case WEIR_TVALUE_STRING: {
        const char *p = VSTR(v)->data;
        size_t n = VSTR(v)->len;
        *out = weir_tvalue_list();
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && ((unsigned char)p[j] & 0xc0) == 0x80)
                j++;
            weir_tvalue_list_push(out, weir_tvalue_string_n(p + i, j - i));
            i = j;
        }
        return 0;
    }
    case WEIR_TVALUE_UNDEFINED:
        if (r && r->env->strict)
            return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(v));
        *out = weir_tvalue_list();
        return 0;
    default:
        return weir_error_set(err, WEIR_EINVALID, "'%s' object is not iterable",
                              weir_tvalue_type_name(v));
    }
}

/* --- calls ---------------------------------------------------------------------- */

static int exec_body(render *r, frame *f, node *const *body, size_t n, weir_error *err);
static int call_loop(render *r, const node *at, const weir_tvalue *loop, const weir_args *a,
                     weir_tvalue *out, weir_error *err);

static int traced(render *r, const char *name)
{
    for (size_t i = 0; i < r->env->traced.len; i++)
        if (!strcmp(r->env->traced.items[i], name))
            return 1;
    return 0;
}

static void record_call(render *r, const char *name, const weir_args *a)
{
    weir_tvalue entry = weir_tvalue_list(), pos = weir_tvalue_list(), kw = weir_tvalue_dict();
    for (size_t i = 0; i < a->npos; i++)
        weir_tvalue_list_push(&pos, weir_tvalue_copy(&a->pos[i]));
    for (size_t i = 0; i < a->nkw; i++)
        weir_tvalue_dict_set(&kw, a->kw_names[i], weir_tvalue_copy(&a->kw[i]));
    weir_tvalue_list_push(&entry, weir_tvalue_string(name));
    weir_tvalue_list_push(&entry, pos);
    weir_tvalue_list_push(&entry, kw);
    weir_tvalue_list_push(r->calls, entry);
}

/* Renders a macro body into a string, binding arguments as Jinja2 does. */
static int call_macro(render *r, const vfunc *fn, const weir_args *a, weir_tvalue *out,
                      weir_error *err)
{
    const node *m = fn->macro;
    const weir_template *saved_tpl = r->tpl;
    frame f;
    int rc = 0, entered = 0;
    if (r->depth >= r->env->max_depth)
        return weir_error_set(err, WEIR_ETOOBIG,
                              "maximum recursion depth exceeded (%d nested macro calls)",
                              r->env->max_depth);
    if (fn->kind == FN_CALLER && !fn->frame)
        return weir_error_set(err, WEIR_EINVALID, "'caller' called after its call block ended");
    frame_init(&f, fn->kind == FN_CALLER ? fn->frame : r->root);
    r->tpl = fn->tpl;
    r->depth++;
    size_t np = m->n2;
    int flags = m->op;
    if (a->npos > np && !(flags & MF_VARARGS)) {
        rc = weir_error_set(err, WEIR_EINVALID, "macro '%s' takes not more than %zu argument(s)",
                            fn->name, np);
        goto cleanup;
    }
    weir_tvalue kwargs = weir_tvalue_dict();
    int have[64] = { 0 };
    weir_tvalue bound[64];
    if (np > 64) {
        weir_tvalue_free(kwargs);
        rc = weir_error_set(err, WEIR_EINVALID, "macro '%s' has too many parameters", fn->name);
        goto cleanup;
    }
    for (size_t i = 0; i < np && i < a->npos; i++) {
        bound[i] = weir_tvalue_copy(&a->pos[i]);
        have[i] = 1;
    }
    for (size_t k = 0; k < a->nkw && !rc; k++) {
        const char *kn = a->kw_names[k];
        size_t i;
        for (i = 0; i < np; i++)
            if (!strcmp(m->names[i], kn))
                break;
        if (i < np) {
            if (have[i]) {
                rc = weir_error_set(err, WEIR_EINVALID,
                                    "macro '%s' got multiple values for argument '%s'",
                                    fn->name, kn);
                break;
            }
            bound[i] = weir_tvalue_copy(&a->kw[k]);
            have[i] = 1;
        } else if (!strcmp(kn, "caller") && (flags & MF_CALLER)) {
            frame_set(&f, "caller", hash_name("caller"), weir_tvalue_copy(&a->kw[k]));
        } else if (flags & MF_KWARGS) {
            weir_tvalue_dict_set(&kwargs, kn, weir_tvalue_copy(&a->kw[k]));
        } else {
            rc = weir_error_set(err, WEIR_EINVALID, "macro '%s' takes no keyword argument '%s'",
                                fn->name, kn);
        }
    }
    /* parameters bind in order, so that defaults can use earlier ones */
    for (size_t i = 0; i < np; i++) {
        if (rc) {
            if (have[i])
                weir_tvalue_free(bound[i]);
            continue;
        }
        weir_tvalue v;
        if (have[i])
            v = bound[i];
        else if (m->list2[i]) {
            if ((rc = eval(r, &f, m->list2[i], &v, err)))
                continue;
        } else {
            char hint[300];
            snprintf(hint, sizeof(hint), "parameter '%.250s' was not provided", m->names[i]);
            v = weir_tvalue_undefined_hint(hint);
        }
        frame_set(&f, m->names[i], hash_name(m->names[i]), v);
    }
    if (rc) {
        weir_tvalue_free(kwargs);
        goto cleanup;
    }
    if (flags & MF_VARARGS) {
        weir_tvalue va = weir_tvalue_tuple();
        for (size_t i = np; i < a->npos; i++)
            weir_tvalue_list_push(&va, weir_tvalue_copy(&a->pos[i]));
        frame_set(&f, "varargs", hash_name("varargs"), va);
    }
    if (flags & MF_KWARGS)
        frame_set(&f, "kwargs", hash_name("kwargs"), kwargs);
    else
        weir_tvalue_free(kwargs);
    if ((flags & MF_CALLER) && !frame_find(&f, "caller", hash_name("caller")) &&
        fn->kind == FN_MACRO)
        frame_set(&f, "caller", hash_name("caller"),
                  weir_tvalue_undefined_hint("no caller defined"));

    weir_buf buf = WEIR_BUF_INIT;
    buf.limit = r->env->max_output;
    weir_buf *saved_out = r->out;
    r->out = &buf;
    entered = 1;
    int saved_loop = r->loop_depth;
    r->loop_depth = 0;
    rc = exec_body(r, &f, m->list, m->n, err);
    r->loop_depth = saved_loop;
    r->out = saved_out;
    if (rc == WEIR_TEMPLATE_RETURN) {
        *out = r->retval;
        r->retval = weir_tvalue_undefined();
        rc = 0;
    } else if (rc == SIG_BREAK || rc == SIG_CONTINUE) {
        rc = weir_error_set(err, WEIR_EINVALID, "'break' or 'continue' outside a loop");
    } else if (!rc)
        *out = weir_tvalue_string_buf(&buf);
    weir_buf_release(&buf);
cleanup:
    r->depth--;
    r->tpl = saved_tpl;
    frame_release(&f);
    /* say which macros the error happened in (a few levels: a runaway
     * recursion would repeat one name two hundred times) */
    if (rc < 0 && entered && err && err->context.len < 8)
        weir_error_wrap(err, fn->kind == FN_CALLER ? "in the body of a call block"
                                                   : "in macro '%s'", fn->name);
    return rc;
}

static int loop_call(render *r, const weir_tvalue *loop, const char *name, const weir_args *a,
                     weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    vloop *l = VLOOP(loop);
    if (!strcmp(name, "cycle")) {
        if (!a->npos)
            return weir_error_set(err, WEIR_EINVALID, "no items for cycling given");
        *out = weir_tvalue_copy(&a->pos[l->index0 % (int64_t)a->npos]);
        return 0;
    }
    /* changed(*values) */
    weir_tvalue cur = weir_tvalue_tuple();
    for (size_t i = 0; i < a->npos; i++)
        weir_tvalue_list_push(&cur, weir_tvalue_copy(&a->pos[i]));
    int changed = !l->has_changed || !weir_tvalue_equal(&cur, &l->last_changed);
    weir_tvalue_free(l->last_changed);
    l->last_changed = cur;
    l->has_changed = 1;
    *out = weir_tvalue_bool(changed);
    return 0;
}

int weir_tpl__call_value(render *r, const weir_tvalue *fnv, const weir_args *a, weir_tvalue *out,
                         weir_error *err)
{
    if (fnv->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(fnv));
    if (fnv->kind != WEIR_TVALUE_FUNC)
        return weir_error_set(err, WEIR_EINVALID, "'%s' object is not callable",
                              weir_tvalue_type_name(fnv));
    vfunc *fn = VFUNC(fnv);
    int rc;
    switch (fn->kind) {
    case FN_HOST:
        if (r->calls && traced(r, fn->name))
            record_call(r, fn->name, a);
        *out = weir_tvalue_none();
        rc = fn->fn(fn->ud, a, out, err);
        if (rc == WEIR_TEMPLATE_RETURN) {
            weir_tvalue_free(r->retval);
            r->retval = *out;
            *out = weir_tvalue_undefined();
            return rc;
        }
        if (rc) {
            weir_tvalue_free(*out);
            *out = weir_tvalue_undefined();
            if (err && !err->code)
                weir_error_set(err, rc, "function '%s' failed", fn->name);
        }
        return rc;
    case FN_MACRO:
    case FN_CALLER:
        return call_macro(r, fn, a, out, err);
    case FN_METHOD:
        if (fn->method < 0)
            return loop_call(r, &fn->self, fn->method == -2 ? "cycle" : "changed", a, out, err);
        return weir_tpl__call_method(r, &fn->self, fn->method, a, out, err);
    }
    return weir_error_set(err, WEIR_EINVALID, "value is not callable");
}

/* --- expressions ---------------------------------------------------------------- */

static int eval_filter(render *r, frame *f, const node *n, const weir_tvalue *in,
                       weir_tvalue *out, weir_error *err)
{
    argv_t av;
    int rc = eval_args(r, f, n, in, &av, err);
    if (rc) {
        args_release(&av);
        return rc;
    }
    if (n->filter) {
        weir_args rest = av.a;
        rest.pos++;
        rest.npos--;
        rc = n->filter(r, in, &rest, out, err);
    } else {
        weir_tvalue *host = weir_map_get(&r->env->filters, n->name);
        if (host)
            rc = weir_tpl__call_value(r, host, &av.a, out, err);
        else
            rc = weir_error_set(err, WEIR_EINVALID, "no filter named '%s'", n->name);
    }
    args_release(&av);
    return locate(r, n, rc, err);
}

int weir_tpl__apply_filter(render *r, const char *name, const weir_tvalue *in,
                           const weir_args *args, weir_tvalue *out, weir_error *err)
{
    weir_tvalue *host = weir_map_get(&r->env->filters, name);
    if (host) {
        /* prepend the value */
        size_t np = args->npos + 1;
        weir_tvalue *pos = weir_xmalloc(weir_size_mul(np, sizeof(weir_tvalue)));
        pos[0] = *in;
        if (args->npos)
            memcpy(pos + 1, args->pos, args->npos * sizeof(weir_tvalue));
        weir_args a = *args;
        a.pos = pos;
        a.npos = np;
        int rc = weir_tpl__call_value(r, host, &a, out, err);
        free(pos);
        return rc;
    }
    builtin_fn fn = weir_tpl__find_filter(name);
    if (!fn)
        return weir_error_set(err, WEIR_EINVALID, "no filter named '%s'", name);
    return fn(r, in, args, out, err);
}

int weir_tpl__apply_test(render *r, const char *name, const weir_tvalue *in,
                         const weir_args *args, int *result, weir_error *err)
{
    builtin_test t = weir_tpl__find_test(name);
    if (!t)
        return weir_error_set(err, WEIR_EINVALID, "no test named '%s'", name);
    return t(r, in, args, result, err);
}

/*
 * A global or macro of the environment, borrowed: they do not change while
 * templates render, and not counting references to them keeps threads off
 * each other's cache lines.
 */
static const weir_tvalue *env_lookup(render *r, frame *f, const node *name)
{
    if (frame_find(f, name->name, name->hash) ||
        (r->ctx && weir_tvalue_dict_get(r->ctx, name->name)))
        return NULL;
    const weir_tvalue *g = weir_map_get(&r->env->globals, name->name);
    if (!g)
        g = weir_map_get(&r->env->macros, name->name);
    return g;
}

static int eval_call(render *r, frame *f, const node *n, weir_tvalue *out, weir_error *err)
{
    weir_tvalue callee;
    int rc;
    const weir_tvalue *g = n->a->type == N_NAME ? env_lookup(r, f, n->a) : NULL;
    if (g && g->kind == WEIR_TVALUE_FUNC) {
        argv_t av;
        rc = eval_args(r, f, n, NULL, &av, err);
        if (!rc)
            rc = weir_tpl__call_value(r, g, &av.a, out, err);
        args_release(&av);
        return locate(r, n, rc, err);
    }
    if ((rc = eval(r, f, n->a, &callee, err)))
        return rc;
    if (callee.kind == WEIR_TVALUE_LOOP) {
        argv_t lav;
        rc = eval_args(r, f, n, NULL, &lav, err);
        if (!rc)
            rc = call_loop(r, n, &callee, &lav.a, out, err);
        args_release(&lav);
        weir_tvalue_free(callee);
        return rc;
    }
    if (callee.kind != WEIR_TVALUE_FUNC && callee.kind != WEIR_TVALUE_UNDEFINED) {
        /* loop.cycle(...) and loop.changed(...) come here as the loop plus a name */
        rc = err_at(r, n, WEIR_EINVALID, err, "'%s' object is not callable",
                    weir_tvalue_type_name(&callee));
        weir_tvalue_free(callee);
        return rc;
    }
    argv_t av;
    if (callee.kind == WEIR_TVALUE_UNDEFINED) {
        if (r->env->lenient) {
            /* arguments still run: calls traced inside them count */
            rc = eval_args(r, f, n, NULL, &av, err);
            args_release(&av);
            if (!rc) {
                *out = callee;
                return 0;
            }
        } else
            rc = undefined_error(r, n->a, &callee, err);
        weir_tvalue_free(callee);
        return rc;
    }
    rc = eval_args(r, f, n, NULL, &av, err);
    if (!rc)
        rc = weir_tpl__call_value(r, &callee, &av.a, out, err);
    args_release(&av);
    weir_tvalue_free(callee);
    return locate(r, n, rc, err);
}

static int eval(render *r, frame *f, const node *n, weir_tvalue *out, weir_error *err)
{
    int rc;
    weir_tvalue a, b;
    if ((rc = step(r, n, err)))
        return rc;
    switch (n->type) {
    case N_CONST:
        *out = weir_tvalue_copy(&n->val);
        return 0;
    case N_NAME:
        if (!lookup(r, f, n->name, n->hash, out))
            *out = undefined_named(n->name);
        return 0;
    case N_PLACEHOLDER:
        *out = weir_tvalue_copy(&r->placeholder);
        return 0;
    case N_LIST:
    case N_TUPLE:
        *out = n->type == N_LIST ? weir_tvalue_list() : weir_tvalue_tuple();
        for (size_t i = 0; i < n->n; i++) {
            if ((rc = eval(r, f, n->list[i], &a, err))) {
                weir_tvalue_free(*out);
                return rc;
            }
            if (weir_tvalue_list_push(out, a)) {
                weir_tvalue_free(*out);
                return err_at(r, n, WEIR_EINVALID, err, "values nested too deeply");
            }
        }
        return 0;
    case N_DICT:
        *out = weir_tvalue_dict();
        for (size_t i = 0; i < n->n; i++) {
            if ((rc = eval(r, f, n->list[i], &a, err))) {
                weir_tvalue_free(*out);
                return rc;
            }
            if ((rc = eval(r, f, n->list2[i], &b, err))) {
                weir_tvalue_free(a);
                weir_tvalue_free(*out);
                return rc;
            }
            if (a.kind >= WEIR_TVALUE_LIST && !weir_tvalue_is_tuple(&a)) {
                rc = err_at(r, n->list[i], WEIR_EINVALID, err, "unhashable type: '%s'",
                            weir_tvalue_type_name(&a));
                weir_tvalue_free(a);
                weir_tvalue_free(b);
                weir_tvalue_free(*out);
                return rc;
            }
            if (weir_tvalue_dict_setv(out, a, b)) {
                weir_tvalue_free(*out);
                return err_at(r, n, WEIR_EINVALID, err, "values nested too deeply");
            }
        }
        return 0;
    case N_GETATTR:
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        if (a.kind == WEIR_TVALUE_LOOP && (!strcmp(n->name, "cycle") || !strcmp(n->name, "changed"))) {
            /* a bound loop method: keep the loop as the receiver */
            weir_tvalue fn = weir_tvalue__func_new(FN_METHOD, n->name);
            VFUNC(&fn)->self = a;
            VFUNC(&fn)->method = !strcmp(n->name, "cycle") ? -2 : -3;
            *out = fn;
            return 0;
        }
        rc = weir_tpl__getattr(r, &a, n->name, out, err);
        weir_tvalue_free(a);
        return locate(r, n, rc, err);
    case N_GETITEM:
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        if (n->b->type == N_SLICE) {
            rc = do_slice(r, f, &a, n->b, out, err);
            weir_tvalue_free(a);
            return locate(r, n, rc, err);
        }
        if ((rc = eval(r, f, n->b, &b, err))) {
            weir_tvalue_free(a);
            return rc;
        }
        rc = getitem(r, &a, &b, out, err);
        weir_tvalue_free(a);
        weir_tvalue_free(b);
        return locate(r, n, rc, err);
    case N_CALL:
        return eval_call(r, f, n, out, err);
    case N_FILTER:
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        rc = eval_filter(r, f, n, &a, out, err);
        weir_tvalue_free(a);
        return rc;
    case N_TEST: {
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        argv_t av;
        int res = 0;
        rc = eval_args(r, f, n, NULL, &av, err);
        if (!rc)
            rc = n->test(r, &a, &av.a, &res, err);
        args_release(&av);
        weir_tvalue_free(a);
        if (rc)
            return locate(r, n, rc, err);
        *out = weir_tvalue_bool(n->op ? !res : res);
        return 0;
    }
    case N_BINOP:
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        if ((rc = eval(r, f, n->b, &b, err))) {
            weir_tvalue_free(a);
            return rc;
        }
        if (n->op == '~') {
            weir_buf s = WEIR_BUF_INIT;
            s.limit = r->env->max_output;
            if (r->env->strict && (a.kind == WEIR_TVALUE_UNDEFINED || b.kind == WEIR_TVALUE_UNDEFINED))
                rc = undefined_error(r, n, a.kind == WEIR_TVALUE_UNDEFINED ? &a : &b, err);
            else if (weir_tvalue_to_buf(&a, &s) || weir_tvalue_to_buf(&b, &s))
                rc = err_at(r, n, WEIR_ETOOBIG, err, "string is too large");
            else
                *out = weir_tvalue_string_buf(&s);
            weir_buf_release(&s);
        } else
            rc = locate(r, n, binop(r, n->op, &a, &b, out, err), err);
        weir_tvalue_free(a);
        weir_tvalue_free(b);
        return rc;
    case N_UNARY:
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        if (n->op == OP_NOT) {
            if (r->env->strict && a.kind == WEIR_TVALUE_UNDEFINED)
                rc = undefined_error(r, n->a, &a, err);
            else
                *out = weir_tvalue_bool(!weir_tvalue_truthy(&a));
        } else if (a.kind == WEIR_TVALUE_INT) {
            *out = n->op == '-' && a.u.i != INT64_MIN ? weir_tvalue_int(-a.u.i)
                   : n->op == '-' ? weir_tvalue_float(-(double)a.u.i) : a;
        } else if (a.kind == WEIR_TVALUE_BOOL)
            *out = weir_tvalue_int(n->op == '-' ? -a.u.b : a.u.b);
        else if (a.kind == WEIR_TVALUE_FLOAT)
            *out = weir_tvalue_float(n->op == '-' ? -a.u.f : a.u.f);
        else if (a.kind == WEIR_TVALUE_UNDEFINED)
            rc = undefined_error(r, n->a, &a, err);
        else
            rc = err_at(r, n, WEIR_EINVALID, err, "bad operand type for unary %c: '%s'", n->op,
                        weir_tvalue_type_name(&a));
        weir_tvalue_free(a);
        return rc;
    case N_AND:
    case N_OR:
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        if (r->env->strict && a.kind == WEIR_TVALUE_UNDEFINED) {
            rc = undefined_error(r, n->a, &a, err);
            weir_tvalue_free(a);
            return rc;
        }
        if (weir_tvalue_truthy(&a) == (n->type == N_OR)) {
            *out = a;
            return 0;
        }
        weir_tvalue_free(a);
        return eval(r, f, n->b, out, err);
    case N_COMPARE: {
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        int res = 1;
        for (size_t i = 0; i < n->n && res; i++) {
            if ((rc = eval(r, f, n->list[i], &b, err))) {
                weir_tvalue_free(a);
                return rc;
            }
            if (r->env->strict && (a.kind == WEIR_TVALUE_UNDEFINED || b.kind == WEIR_TVALUE_UNDEFINED))
                rc = weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(
                                        a.kind == WEIR_TVALUE_UNDEFINED ? &a : &b));
            else
                rc = compare_op(n->ops[i], &a, &b, &res, err);
            weir_tvalue_free(a);
            a = b;
            if (rc) {
                weir_tvalue_free(a);
                return locate(r, n, rc, err);
            }
        }
        weir_tvalue_free(a);
        *out = weir_tvalue_bool(res);
        return 0;
    }
    case N_CONDEXPR:
        if ((rc = eval(r, f, n->a, &a, err)))
            return rc;
        if (r->env->strict && a.kind == WEIR_TVALUE_UNDEFINED) {
            rc = undefined_error(r, n->a, &a, err);
            weir_tvalue_free(a);
            return rc;
        }
        int t = weir_tvalue_truthy(&a);
        weir_tvalue_free(a);
        if (t)
            return eval(r, f, n->b, out, err);
        if (n->c)
            return eval(r, f, n->c, out, err);
        *out = weir_tvalue_undefined_hint("the inline if expression evaluated to false and no "
                                         "else section was defined");
        return 0;
    case N_SLICE:
        return err_at(r, n, WEIR_EINVALID, err, "a slice is only valid inside []");
    default:
        return err_at(r, n, WEIR_EINVALID, err, "statement used as an expression");
    }
}

/* --- statements ----------------------------------------------------------------- */

static int emit(render *r, const node *n, const weir_tvalue *v, weir_error *err)
{
    int rc;
    if (v->kind == WEIR_TVALUE_STRING)
        rc = weir_buf_add(r->out, VSTR(v)->data, VSTR(v)->len);
    else if (v->kind == WEIR_TVALUE_UNDEFINED) {
        if (r->env->strict)
            return undefined_error(r, n, v, err);
        return 0;
    } else
        rc = weir_tvalue_to_buf(v, r->out);
    if (rc || r->out->toobig)
        return err_at(r, n, WEIR_ETOOBIG, err, "output exceeds the limit of %zu bytes",
                      out_limit(r));
    return 0;
}

/* Binds a for/set target (a name or a tuple of targets) to v (consumed). */
static int assign(render *r, frame *f, const node *target, weir_tvalue v, weir_error *err)
{
    if (target->type == N_NAME) {
        frame_set(f, target->name, target->hash, v);
        return 0;
    }
    if (target->type == N_GETATTR) {
        weir_tvalue ns;
        int rc = eval(r, f, target->a, &ns, err);
        if (rc) {
            weir_tvalue_free(v);
            return rc;
        }
        if (!weir_tvalue_is_namespace(&ns)) {
            weir_tvalue_free(ns);
            weir_tvalue_free(v);
            return err_at(r, target, WEIR_EINVALID, err,
                          "cannot assign attribute on non-namespace object");
        }
        int deep = v.kind >= WEIR_TVALUE_LIST && v.u.o->depth >= WEIR_TVALUE_MAX_DEPTH;
        rc = weir_tvalue_dict_set(&ns, target->name, v);
        weir_tvalue_free(ns);
        if (rc)
            return err_at(r, target, WEIR_EINVALID, err, deep ? "values nested too deeply"
                                                              : "cannot store a namespace in itself");
        return 0;
    }
    /* tuple unpacking */
    weir_tvalue seq;
    int rc = weir_tpl__to_list(r, &v, &seq, err);
    weir_tvalue_free(v);
    if (rc)
        return locate(r, target, rc, err);
    size_t have = VLIST(&seq)->len;
    if (have != target->n) {
        weir_tvalue_free(seq);
        return err_at(r, target, WEIR_EINVALID, err,
                      have > target->n ? "too many values to unpack (expected %zu)"
                                       : "not enough values to unpack (expected %zu)",
                      target->n);
    }
    for (size_t i = 0; i < target->n && !rc; i++)
        rc = assign(r, f, target->list[i], weir_tvalue_copy(&VLIST(&seq)->items[i]), err);
    weir_tvalue_free(seq);
    return rc;
}

/* Runs body in a scope of its own (as Jinja2 does for block set and filter
 * blocks) into a fresh buffer, and returns it as a string in *out. */
static int capture(render *r, frame *f, node *const *body, size_t n, weir_tvalue *out,
                   weir_error *err)
{
    weir_buf buf = WEIR_BUF_INIT;
    buf.limit = r->env->max_output;
    weir_buf *saved = r->out;
    frame inner;
    frame_init(&inner, f);
    r->out = &buf;
    int rc = exec_body(r, &inner, body, n, err);
    r->out = saved;
    frame_release(&inner);
    if (!rc)
        *out = weir_tvalue_string_buf(&buf);
    weir_buf_release(&buf);
    return rc;
}

static int apply_chain(render *r, frame *f, const node *chain, weir_tvalue in, weir_tvalue *out,
                       weir_error *err)
{
    weir_tvalue saved = r->placeholder;
    r->placeholder = in;
    int rc = eval(r, f, chain, out, err);
    r->placeholder = saved;
    weir_tvalue_free(in);
    return rc;
}

/* Runs the for loop n over it (borrowed) in frame f, at depth0. */
static int run_loop(render *r, frame *f, const node *n, const weir_tvalue *it, int64_t depth0,
                    weir_error *err)
{
    weir_tvalue items;
    int rc = weir_tpl__to_list(r, it, &items, err);
    if (rc)
        return locate(r, n->b, rc, err);
    /* iterate over a snapshot, so that the body may change the list */
    weir_tvalue snap = weir_tvalue_list();
    frame lf;
    frame_init(&lf, f);
    for (size_t i = 0; i < VLIST(&items)->len; i++) {
        const weir_tvalue *x = &VLIST(&items)->items[i];
        if (n->c) {
            weir_tvalue c;
            if ((rc = assign(r, &lf, n->a, weir_tvalue_copy(x), err)) ||
                (rc = eval(r, &lf, n->c, &c, err)))
                goto cleanup;
            int keep = weir_tvalue_truthy(&c);
            weir_tvalue_free(c);
            if (!keep)
                continue;
        }
        VLIST(&snap)->len < MAX_SEQ ? weir_tvalue_list_push(&snap, weir_tvalue_copy(x)) : 0;
    }
    size_t len = VLIST(&snap)->len;
    if (!len) {
        /* the else block has a scope of its own too */
        frame_release(&lf);
        weir_tvalue_free(items);
        weir_tvalue_free(snap);
        rc = exec_body(r, &lf, n->list2, n->n2, err);
        frame_release(&lf);
        return rc;
    }
    weir_tvalue loop = weir_tvalue__loop_new();
    vloop *l = VLOOP(&loop);
    l->length = (int64_t)len;
    l->depth0 = depth0; /* depth counts recursive loop() calls only, as in Jinja2 */
    if (n->op) {
        l->node = n;
        l->frame = f;
    }
    r->loop_depth++;
    uint64_t loop_hash = hash_name("loop");
    for (size_t i = 0; i < len; i++) {
        const weir_tvalue *x = &VLIST(&snap)->items[i];
        /* every iteration starts a fresh scope: what the previous one set
         * is gone, as in Jinja2 */
        frame_release(&lf);
        frame_set(&lf, "loop", loop_hash, weir_tvalue_copy(&loop));
        l->index0 = (int64_t)i;
        weir_tvalue_free(l->prev);
        weir_tvalue_free(l->next);
        l->prev = i ? weir_tvalue_copy(&VLIST(&snap)->items[i - 1]) : weir_tvalue_undefined();
        l->next = i + 1 < len ? weir_tvalue_copy(&VLIST(&snap)->items[i + 1])
                              : weir_tvalue_undefined();
        if ((rc = assign(r, &lf, n->a, weir_tvalue_copy(x), err)))
            break;
        rc = exec_body(r, &lf, n->list, n->n, err);
        if (rc == SIG_CONTINUE)
            rc = 0;
        else if (rc == SIG_BREAK) {
            rc = 0;
            break;
        }
        if (rc)
            break;
    }
    r->loop_depth--;
    /* a loop kept beyond its run cannot recurse */
    l->node = NULL;
    l->frame = NULL;
    weir_tvalue_free(loop);
cleanup:
    frame_release(&lf);
    weir_tvalue_free(items);
    weir_tvalue_free(snap);
    return rc;
}

static int exec_for(render *r, frame *f, const node *n, weir_error *err)
{
    weir_tvalue it;
    int rc = eval(r, f, n->b, &it, err);
    if (rc)
        return rc;
    rc = run_loop(r, f, n, &it, 0, err);
    weir_tvalue_free(it);
    return rc;
}

/* loop(items) in a recursive for loop: the loop again, one level deeper. */
static int call_loop(render *r, const node *at, const weir_tvalue *loop, const weir_args *a,
                     weir_tvalue *out, weir_error *err)
{
    vloop *l = VLOOP(loop);
    if (!l->node)
        return err_at(r, at, WEIR_EINVALID, err,
                      "loop() works only inside a loop marked 'recursive'");
    if (a->npos != 1 || a->nkw)
        return err_at(r, at, WEIR_EINVALID, err, "loop() takes exactly one argument");
    if (r->depth >= r->env->max_depth)
        return err_at(r, at, WEIR_ETOOBIG, err, "maximum recursion depth exceeded (%d nested calls)",
                      r->env->max_depth);
    weir_buf buf = WEIR_BUF_INIT;
    buf.limit = r->env->max_output;
    weir_buf *saved = r->out;
    r->out = &buf;
    r->depth++;
    int rc = run_loop(r, l->frame, l->node, &a->pos[0], l->depth0 + 1, err);
    r->depth--;
    r->out = saved;
    if (!rc)
        *out = weir_tvalue_string_buf(&buf);
    weir_buf_release(&buf);
    return rc;
}

weir_tvalue weir_tpl__macro_value(const weir_template *t, const node *m)
{
    weir_tvalue fn = weir_tvalue__func_new(FN_MACRO, m->name);
    VFUNC(&fn)->macro = m;
    VFUNC(&fn)->tpl = t;
    return fn;
}

static int exec_callblock(render *r, frame *f, const node *n, weir_error *err)
{
    const node *call = n->a;
    weir_tvalue callee, res;
    int rc = eval(r, f, call->a, &callee, err);
    if (rc)
        return rc;
    weir_tvalue caller = weir_tvalue__func_new(FN_CALLER, "caller");
    VFUNC(&caller)->macro = n;
    VFUNC(&caller)->tpl = r->tpl;
    VFUNC(&caller)->frame = f;
    argv_t av;
    size_t kcap;
    rc = eval_args(r, f, call, NULL, &av, err);
    if (!rc) {
        kcap = av.kw == av.skw ? WEIR_ARRAY_SIZE(av.skw) : av.nkw;
        args_kw(&av, &kcap, "caller", weir_tvalue_copy(&caller));
        args_finish(&av);
        if (callee.kind == WEIR_TVALUE_UNDEFINED && r->env->lenient)
            res = weir_tvalue_undefined();
        else if (callee.kind == WEIR_TVALUE_UNDEFINED)
            rc = undefined_error(r, call->a, &callee, err);
        else
            rc = locate(r, call, weir_tpl__call_value(r, &callee, &av.a, &res, err), err);
    }
    args_release(&av);
    /* the caller's frame ends here: a caller kept beyond it cannot run */
    VFUNC(&caller)->frame = NULL;
    weir_tvalue_free(caller);
    weir_tvalue_free(callee);
    if (rc)
        return rc;
    rc = emit(r, n, &res, err);
    weir_tvalue_free(res);
    return rc;
}

static int exec_node(render *r, frame *f, const node *n, weir_error *err)
{
    weir_tvalue v;
    int rc;
    if ((rc = step(r, n, err)))
        return rc;
    switch (n->type) {
    case N_TEXT:
        if (weir_buf_add(r->out, n->name, n->len))
            return err_at(r, n, WEIR_ETOOBIG, err, "output exceeds the limit of %zu bytes",
                          out_limit(r));
        return 0;
    case N_OUTPUT:
        if ((rc = eval(r, f, n->a, &v, err)))
            return rc;
        rc = emit(r, n->a, &v, err);
        weir_tvalue_free(v);
        return rc;
    case N_IF: {
        if ((rc = eval(r, f, n->a, &v, err)))
            return rc;
        if (r->env->strict && v.kind == WEIR_TVALUE_UNDEFINED) {
            rc = undefined_error(r, n->a, &v, err);
            weir_tvalue_free(v);
            return rc;
        }
        int t = weir_tvalue_truthy(&v);
        weir_tvalue_free(v);
        return t ? exec_body(r, f, n->list, n->n, err) : exec_body(r, f, n->list2, n->n2, err);
    }
    case N_FOR:
        return exec_for(r, f, n, err);
    case N_SET:
        if ((rc = eval(r, f, n->b, &v, err)))
            return rc;
        return assign(r, f, n->a, v, err);
    case N_SETBLOCK:
        if ((rc = capture(r, f, n->list, n->n, &v, err)))
            return rc;
        if (n->c && (rc = apply_chain(r, f, n->c, v, &v, err)))
            return rc;
        return assign(r, f, n->a, v, err);
    case N_FILTERBLOCK:
        if ((rc = capture(r, f, n->list, n->n, &v, err)))
            return rc;
        if ((rc = apply_chain(r, f, n->c, v, &v, err)))
            return rc;
        if (v.kind != WEIR_TVALUE_STRING) {
            /* Jinja2 joins the result as text and fails on anything else */
            rc = err_at(r, n, WEIR_EINVALID, err, "a filter block must give a string, not %s",
                        weir_tvalue_type_name(&v));
            weir_tvalue_free(v);
            return rc;
        }
        rc = emit(r, n, &v, err);
        weir_tvalue_free(v);
        return rc;
    case N_MACRO:
        frame_set(f, n->name, n->hash, weir_tpl__macro_value(r->tpl, n));
        return 0;
    case N_CALLBLOCK:
        return exec_callblock(r, f, n, err);
    case N_DO:
        if ((rc = eval(r, f, n->a, &v, err)))
            return rc;
        weir_tvalue_free(v);
        return 0;
    case N_BREAK:
        return r->loop_depth ? SIG_BREAK
                             : err_at(r, n, WEIR_EINVALID, err, "'break' outside a loop");
    case N_CONTINUE:
        return r->loop_depth ? SIG_CONTINUE
                             : err_at(r, n, WEIR_EINVALID, err, "'continue' outside a loop");
    case N_WITH: {
        frame wf;
        frame_init(&wf, f);
        rc = 0;
        for (size_t i = 0; i < n->n2 && !rc; i++) {
            /* values see the outer scope, as in Jinja2 */
            if ((rc = eval(r, f, n->list2[i], &v, err)))
                break;
            frame_set(&wf, n->names[i], hash_name(n->names[i]), v);
        }
        if (!rc)
            rc = exec_body(r, &wf, n->list, n->n, err);
        frame_release(&wf);
        return rc;
    }
    default:
        return err_at(r, n, WEIR_EINVALID, err, "expression used as a statement");
    }
}

static int exec_body(render *r, frame *f, node *const *body, size_t n, weir_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = exec_node(r, f, body[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

static void render_init(render *r, weir_template_env *env, const weir_template *t,
                        const weir_tvalue *ctx, weir_buf *out, frame *root)
{
    memset(r, 0, sizeof(*r));
    r->env = env;
    r->tpl = t;
    r->ctx = ctx && ctx->kind == WEIR_TVALUE_DICT ? ctx : NULL;
    r->out = out;
    r->root = root;
    r->retval = weir_tvalue_undefined();
    r->placeholder = weir_tvalue_undefined();
}

int weir_tpl__render(const weir_template *t, const weir_tvalue *ctx, weir_buf *out,
                     weir_tvalue *calls, weir_error *err)
{
    render r;
    frame root;
    frame_init(&root, NULL);
    weir_tvalue rec = weir_tvalue_list();
    render_init(&r, t->env, t, ctx, out, &root);
    if (calls)
        r.calls = &rec;
    size_t saved_limit = out->limit;
    if (!out->limit || out->limit > out->len + t->env->max_output)
        out->limit = out->len + t->env->max_output;
    r.root_out = out;
    r.root_room = out->limit > out->len ? out->limit - out->len : 0;
    int rc = exec_body(&r, &root, t->body, t->n, err);
    out->limit = saved_limit;
    if (rc == WEIR_TEMPLATE_RETURN)
        rc = 0; /* a top-level return() ends the template */
    frame_release(&root);
    weir_tvalue_free(r.retval);
    if (calls && !rc)
        *calls = rec;
    else
        weir_tvalue_free(rec);
    return rc;
}

int weir_tpl__env_call(weir_template_env *env, const weir_tvalue *fn, const weir_args *args,
                       const weir_tvalue *ctx, weir_tvalue *out, weir_error *err)
{
    render r;
    frame root;
    weir_buf sink = WEIR_BUF_INIT;
    frame_init(&root, NULL);
    const weir_template *t = fn->kind == WEIR_TVALUE_FUNC ? VFUNC(fn)->tpl : NULL;
    render_init(&r, env, t, ctx, &sink, &root);
    int rc = weir_tpl__call_value(&r, fn, args, out, err);
    if (rc == WEIR_TEMPLATE_RETURN) {
        *out = r.retval;
        r.retval = weir_tvalue_undefined();
        rc = 0;
    }
    frame_release(&root);
    weir_tvalue_free(r.retval);
    weir_buf_release(&sink);
    return rc;
}
