/*
 * value.c: template values (contract in value.h): constructors, reference
 * counting, ordered dicts with a hash index, Python-style str() and repr(),
 * equality, and conversion from and to JSON.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/map.h"
#include "template/tpl_int.h"
#include "template/value_int.h"

static void obj_init(vobj *o, int type)
{
    o->rc = 1;
    o->type = (uint8_t)type;
    o->flags = 0;
    o->depth = 1;
}

static unsigned depth_of(const weir_tvalue *v)
{
    return v->kind >= WEIR_TVALUE_LIST ? v->u.o->depth : 0;
}

static weir_tvalue mk(weir_tvalue_kind k, vobj *o)
{
    weir_tvalue v;
    v.kind = k;
    v.u.o = o;
    return v;
}

weir_tvalue weir_tvalue_undefined(void)
{
    return mk(WEIR_TVALUE_UNDEFINED, NULL);
}

weir_tvalue weir_tvalue_undefined_hint(const char *hint)
{
    weir_tvalue s = weir_tvalue_string(hint);
    return mk(WEIR_TVALUE_UNDEFINED, s.u.o);
}

weir_tvalue weir_tvalue_none(void)
{
    return mk(WEIR_TVALUE_NONE, NULL);
}

weir_tvalue weir_tvalue_bool(int b)
{
    weir_tvalue v;
    v.kind = WEIR_TVALUE_BOOL;
    v.u.i = 0;
    v.u.b = !!b;
    return v;
}

weir_tvalue weir_tvalue_int(int64_t i)
{
    weir_tvalue v;
    v.kind = WEIR_TVALUE_INT;
    v.u.i = i;
    return v;
}

weir_tvalue weir_tvalue_float(double f)
{
    weir_tvalue v;
    v.kind = WEIR_TVALUE_FLOAT;
    v.u.f = f;
    return v;
}

weir_tvalue weir_tvalue__string_alloc(size_t n)
{
    vstr *s = weir_xmalloc(weir_size_add(sizeof(vstr), weir_size_add(n, 1)));
    obj_init(&s->h, OBJ_STR);
    s->len = n;
    s->hash = 0;
    s->data[n] = '\0';
    return mk(WEIR_TVALUE_STRING, &s->h);
}

weir_tvalue weir_tvalue_string_n(const char *p, size_t n)
{
    weir_tvalue v = weir_tvalue__string_alloc(n);
    if (n)
        memcpy(VSTR(&v)->data, p, n);
    return v;
}

weir_tvalue weir_tvalue_string(const char *s)
{
    return weir_tvalue_string_n(s, strlen(s));
}

weir_tvalue weir_tvalue_string_buf(weir_buf *b)
{
    weir_tvalue v = weir_tvalue_string_n(b->ptr, b->len);
    weir_buf_reset(b);
    return v;
}

weir_tvalue weir_tvalue_list(void)
{
    vlist *l = weir_xcalloc(1, sizeof(*l));
    obj_init(&l->h, OBJ_LIST);
    return mk(WEIR_TVALUE_LIST, &l->h);
}

weir_tvalue weir_tvalue_tuple(void)
{
    weir_tvalue v = weir_tvalue_list();
    v.u.o->flags |= OBJF_TUPLE;
    return v;
}

weir_tvalue weir_tvalue_dict(void)
{
    vdict *d = weir_xcalloc(1, sizeof(*d));
    obj_init(&d->h, OBJ_DICT);
    return mk(WEIR_TVALUE_DICT, &d->h);
}

weir_tvalue weir_tvalue_namespace(void)
{
    weir_tvalue v = weir_tvalue_dict();
    v.u.o->flags |= OBJF_NAMESPACE;
    return v;
}

weir_tvalue weir_tvalue_object(const char *display)
{
    weir_tvalue v = weir_tvalue_dict();
    v.u.o->flags |= OBJF_OBJECT;
    VDICT(&v)->display = weir_xstrdup(display ? display : "");
    return v;
}

weir_tvalue weir_tvalue__func_new(int kind, const char *name)
{
    vfunc *f = weir_xcalloc(1, sizeof(*f));
    obj_init(&f->h, OBJ_FUNC);
    f->kind = kind;
    f->name = weir_xstrdup(name ? name : "");
    f->self = weir_tvalue_undefined();
    f->attrs = weir_tvalue_undefined();
    return mk(WEIR_TVALUE_FUNC, &f->h);
}

weir_tvalue weir_tvalue_function(const char *name, weir_host_fn fn, void *ud)
{
    weir_tvalue v = weir_tvalue__func_new(FN_HOST, name);
    VFUNC(&v)->fn = fn;
    VFUNC(&v)->ud = ud;
    return v;
}

weir_tvalue weir_tvalue__loop_new(void)
{
    vloop *l = weir_xcalloc(1, sizeof(*l));
    obj_init(&l->h, OBJ_LOOP);
    l->prev = weir_tvalue_undefined();
    l->next = weir_tvalue_undefined();
    l->last_changed = weir_tvalue_undefined();
    return mk(WEIR_TVALUE_LOOP, &l->h);
}

static int has_obj(const weir_tvalue *v)
{
    return v->kind >= WEIR_TVALUE_STRING || (v->kind == WEIR_TVALUE_UNDEFINED && v->u.o);
}

#define IMMORTAL UINT32_MAX

weir_tvalue weir_tvalue_copy(const weir_tvalue *v)
{
    if (has_obj(v) && __atomic_load_n(&v->u.o->rc, __ATOMIC_RELAXED) != IMMORTAL)
        __atomic_add_fetch(&v->u.o->rc, 1, __ATOMIC_RELAXED);
    return *v;
}

void weir_tvalue__make_immortal(weir_tvalue *v)
{
    if (v->kind == WEIR_TVALUE_STRING)
        v->u.o->rc = IMMORTAL;
}

void weir_tvalue__free_immortal(weir_tvalue v)
{
    if (has_obj(&v) && v.u.o->rc == IMMORTAL) {
        v.u.o->rc = 1;
        weir_tvalue_free(v);
    } else
        weir_tvalue_free(v);
}

static void obj_destroy(vobj *o)
{
    switch (o->type) {
    case OBJ_STR:
        break;
    case OBJ_LIST: {
        vlist *l = (vlist *)o;
        for (size_t i = 0; i < l->len; i++)
            weir_tvalue_free(l->items[i]);
        free(l->items);
        break;
    }
    case OBJ_DICT: {
        vdict *d = (vdict *)o;
        for (size_t i = 0; i < d->len; i++) {
            weir_tvalue_free(d->e[i].key);
            weir_tvalue_free(d->e[i].val);
        }
        free(d->e);
        free(d->index);
        free(d->display);
        break;
    }
    case OBJ_FUNC: {
        vfunc *f = (vfunc *)o;
        free(f->name);
        weir_tvalue_free(f->self);
        weir_tvalue_free(f->attrs);
        break;
    }
    case OBJ_LOOP: {
        vloop *l = (vloop *)o;
        weir_tvalue_free(l->prev);
        weir_tvalue_free(l->next);
        weir_tvalue_free(l->last_changed);
        break;
    }
    }
    free(o);
}

void weir_tvalue_free(weir_tvalue v)
{
    if (!has_obj(&v) || __atomic_load_n(&v.u.o->rc, __ATOMIC_RELAXED) == IMMORTAL)
        return;
    if (__atomic_sub_fetch(&v.u.o->rc, 1, __ATOMIC_ACQ_REL) == 0)
        obj_destroy(v.u.o);
}

/* --- questions ------------------------------------------------------------ */

int weir_tvalue_is_tuple(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_LIST && (v->u.o->flags & OBJF_TUPLE);
}

int weir_tvalue_is_namespace(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_DICT && (v->u.o->flags & OBJF_NAMESPACE);
}

int weir_tvalue_is_object(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_DICT && (v->u.o->flags & OBJF_OBJECT);
}

int weir_tvalue_truthy(const weir_tvalue *v)
{
    switch (v->kind) {
    case WEIR_TVALUE_UNDEFINED:
    case WEIR_TVALUE_NONE:
        return 0;
    case WEIR_TVALUE_BOOL:
        return v->u.b;
    case WEIR_TVALUE_INT:
        return v->u.i != 0;
    case WEIR_TVALUE_FLOAT:
        return v->u.f != 0.0;
    case WEIR_TVALUE_STRING:
        return VSTR(v)->len != 0;
    case WEIR_TVALUE_LIST:
        return VLIST(v)->len != 0;
    case WEIR_TVALUE_DICT:
        return VDICT(v)->len != 0 || weir_tvalue_is_namespace(v) || weir_tvalue_is_object(v);
    default:
        return 1;
    }
}

const char *weir_tvalue_type_name(const weir_tvalue *v)
{
    switch (v->kind) {
    case WEIR_TVALUE_UNDEFINED: return "Undefined";
    case WEIR_TVALUE_NONE: return "NoneType";
    case WEIR_TVALUE_BOOL: return "bool";
    case WEIR_TVALUE_INT: return "int";
    case WEIR_TVALUE_FLOAT: return "float";
    case WEIR_TVALUE_STRING: return "str";
    case WEIR_TVALUE_LIST: return weir_tvalue_is_tuple(v) ? "tuple" : "list";
    case WEIR_TVALUE_DICT: {
        static const char *const dt[] = { "object", "datetime.datetime", "datetime.date",
                                           "datetime.timedelta" };
        if (weir_tvalue_is_object(v)) {
            int t = weir_tpl__dt_type(v);
            return dt[t >= 0 && t <= 3 ? t : 0];
        }
        return weir_tvalue_is_namespace(v) ? "Namespace" : "dict";
    }
    case WEIR_TVALUE_FUNC: return "function";
    case WEIR_TVALUE_LOOP: return "LoopContext";
    }
    return "object";
}

const char *weir_tvalue_undefined_message(const weir_tvalue *v)
{
    if (v->kind == WEIR_TVALUE_UNDEFINED && v->u.o)
        return ((vstr *)v->u.o)->data;
    return "value is undefined";
}

static int num_of(const weir_tvalue *v, double *d, int64_t *i)
{
    switch (v->kind) {
    case WEIR_TVALUE_BOOL: *i = v->u.b; *d = v->u.b; return 1;
    case WEIR_TVALUE_INT: *i = v->u.i; *d = (double)v->u.i; return 1;
    case WEIR_TVALUE_FLOAT: *d = v->u.f; return 2;
    default: return 0;
    }
}

int weir_tvalue_equal(const weir_tvalue *a, const weir_tvalue *b)
{
    double da, db;
    int64_t ia = 0, ib = 0;
    int na = num_of(a, &da, &ia), nb = num_of(b, &db, &ib);
    if (na && nb) {
        if (na == 1 && nb == 1)
            return ia == ib;
        return da == db;
    }
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case WEIR_TVALUE_UNDEFINED:
    case WEIR_TVALUE_NONE:
        return 1;
    case WEIR_TVALUE_STRING:
        return VSTR(a)->len == VSTR(b)->len &&
               memcmp(VSTR(a)->data, VSTR(b)->data, VSTR(a)->len) == 0;
    case WEIR_TVALUE_LIST: {
        vlist *x = VLIST(a), *y = VLIST(b);
        if (x == y)
            return 1;
        if (x->len != y->len || weir_tvalue_is_tuple(a) != weir_tvalue_is_tuple(b))
            return 0;
        for (size_t i = 0; i < x->len; i++)
            if (!weir_tvalue_equal(&x->items[i], &y->items[i]))
                return 0;
        return 1;
    }
    case WEIR_TVALUE_DICT: {
        vdict *x = VDICT(a);
        if (x == VDICT(b))
            return 1;
        if (x->display || VDICT(b)->display)
            return x->display && VDICT(b)->display && !strcmp(x->display, VDICT(b)->display);
        if (x->len != VDICT(b)->len)
            return 0;
        for (size_t i = 0; i < x->len; i++) {
            const weir_tvalue *o = weir_tvalue_dict_getv(b, &x->e[i].key);
            if (!o || !weir_tvalue_equal(o, &x->e[i].val))
                return 0;
        }
        return 1;
    }
    default:
        return a->u.o == b->u.o;
    }
}

/* --- strings ---------------------------------------------------------------- */

const char *weir_tvalue_str(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_STRING ? VSTR(v)->data : "";
}

size_t weir_tvalue_str_len(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_STRING ? VSTR(v)->len : 0;
}

/* --- lists ------------------------------------------------------------------ */

size_t weir_tvalue_list_len(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_LIST ? VLIST(v)->len : 0;
}

const weir_tvalue *weir_tvalue_list_at(const weir_tvalue *v, size_t i)
{
    return &VLIST(v)->items[i];
}

int weir_tvalue__reaches(const weir_tvalue *v, const vobj *target)
{
    if (v->kind < WEIR_TVALUE_LIST)
        return 0;
    if (v->u.o == target)
        return 1;
    switch (v->kind) {
    case WEIR_TVALUE_LIST:
        for (size_t i = 0; i < VLIST(v)->len; i++)
            if (weir_tvalue__reaches(&VLIST(v)->items[i], target))
                return 1;
        return 0;
    case WEIR_TVALUE_DICT:
        for (size_t i = 0; i < VDICT(v)->len; i++)
            if (weir_tvalue__reaches(&VDICT(v)->e[i].val, target))
                return 1;
        return 0;
    case WEIR_TVALUE_FUNC:
        return weir_tvalue__reaches(&VFUNC(v)->self, target) ||
               weir_tvalue__reaches(&VFUNC(v)->attrs, target);
    case WEIR_TVALUE_LOOP:
        return weir_tvalue__reaches(&VLOOP(v)->prev, target) ||
               weir_tvalue__reaches(&VLOOP(v)->next, target) ||
               weir_tvalue__reaches(&VLOOP(v)->last_changed, target);
    default:
        return 0;
    }
}

int weir_tvalue_list_push(weir_tvalue *list, weir_tvalue item)
{
    vlist *l = VLIST(list);
    /* with one reference (ours), nothing inside item can point back to l */
    if (depth_of(&item) >= WEIR_TVALUE_MAX_DEPTH ||
        (l->h.rc != 1 && weir_tvalue__reaches(&item, &l->h))) {
        weir_tvalue_free(item);
        return WEIR_EINVALID;
    }
    if (depth_of(&item) + 1 > l->h.depth)
        l->h.depth = (uint16_t)(depth_of(&item) + 1);
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->items = weir_xrealloc(l->items, weir_size_mul(l->cap, sizeof(weir_tvalue)));
    }
    l->items[l->len++] = item;
    return 0;
}

/* --- dicts ------------------------------------------------------------------ */

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

uint64_t weir_tvalue__hash(const weir_tvalue *v)
{
    double d;
    int64_t i = 0;
    int n = num_of(v, &d, &i);
    if (n == 2 && d == (double)(int64_t)d && fabs(d) < 9e18) {
        i = (int64_t)d;
        n = 1;
    }
    if (n == 1)
        return mix((uint64_t)i * 0x9e3779b97f4a7c15ULL + 7);
    if (n == 2) {
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return mix(bits);
    }
    switch (v->kind) {
    case WEIR_TVALUE_STRING: {
        /* cached in the string, which threads may share: relaxed atomics
         * make the (idempotent) caching race-free */
        vstr *s = VSTR(v);
        uint64_t h = __atomic_load_n(&s->hash, __ATOMIC_RELAXED);
        if (!h) {
            h = mix((uint64_t)weir_hash_str(s->data, s->len));
            __atomic_store_n(&s->hash, h, __ATOMIC_RELAXED);
        }
        return h;
    }
    case WEIR_TVALUE_LIST: {
        uint64_t h = 0x12345;
        for (size_t k = 0; k < VLIST(v)->len; k++)
            h = h * 31 + weir_tvalue__hash(&VLIST(v)->items[k]);
        return mix(h);
    }
    case WEIR_TVALUE_NONE:
        return 0x4e4f4e45;
    default:
        return mix((uint64_t)(uintptr_t)v->u.o);
    }
}

static void reindex(vdict *d)
{
    size_t icap = 16;
    while (icap < d->len * 2 + 2)
        icap *= 2;
    free(d->index);
    d->index = weir_xcalloc(icap, sizeof(uint32_t));
    d->icap = icap;
    for (size_t i = 0; i < d->len; i++) {
        size_t s = d->e[i].hash & (icap - 1);
        while (d->index[s])
            s = (s + 1) & (icap - 1);
        d->index[s] = (uint32_t)(i + 1);
    }
}

static ssize_t dict_find(const vdict *d, const weir_tvalue *key, uint64_t h)
{
    if (!d->icap) {
        for (size_t i = 0; i < d->len; i++)
            if (d->e[i].hash == h && weir_tvalue_equal(&d->e[i].key, key))
                return (ssize_t)i;
        return -1;
    }
    size_t s = h & (d->icap - 1);
    while (d->index[s]) {
        size_t i = d->index[s] - 1;
        if (d->e[i].hash == h && weir_tvalue_equal(&d->e[i].key, key))
            return (ssize_t)i;
        s = (s + 1) & (d->icap - 1);
    }
    return -1;
}

size_t weir_tvalue_dict_len(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_DICT ? VDICT(v)->len : 0;
}

const weir_tvalue *weir_tvalue_dict_getv(const weir_tvalue *dict, const weir_tvalue *key)
{
    if (dict->kind != WEIR_TVALUE_DICT)
        return NULL;
    ssize_t i = dict_find(VDICT(dict), key, weir_tvalue__hash(key));
    return i < 0 ? NULL : &VDICT(dict)->e[i].val;
}

const weir_tvalue *weir_tvalue_dict_get(const weir_tvalue *dict, const char *key)
{
    if (dict->kind != WEIR_TVALUE_DICT)
        return NULL;
    /* A stack string header avoids allocating for the lookup. */
    size_t n = strlen(key);
    vdict *d = VDICT(dict);
    uint64_t h = mix((uint64_t)weir_hash_str(key, n));
    if (!d->icap) {
        for (size_t i = 0; i < d->len; i++) {
            const weir_tvalue *k = &d->e[i].key;
            if (d->e[i].hash == h && k->kind == WEIR_TVALUE_STRING && VSTR(k)->len == n &&
                memcmp(VSTR(k)->data, key, n) == 0)
                return &d->e[i].val;
        }
        return NULL;
    }
    size_t s = h & (d->icap - 1);
    while (d->index[s]) {
        size_t i = d->index[s] - 1;
        const weir_tvalue *k = &d->e[i].key;
        if (d->e[i].hash == h && k->kind == WEIR_TVALUE_STRING && VSTR(k)->len == n &&
            memcmp(VSTR(k)->data, key, n) == 0)
            return &d->e[i].val;
        s = (s + 1) & (d->icap - 1);
    }
    return NULL;
}

int weir_tvalue_dict_setv(weir_tvalue *dict, weir_tvalue key, weir_tvalue val)
{
    vdict *d = VDICT(dict);
    if (depth_of(&val) >= WEIR_TVALUE_MAX_DEPTH || depth_of(&key) >= WEIR_TVALUE_MAX_DEPTH ||
        (d->h.rc != 1 && (weir_tvalue__reaches(&val, &d->h) || weir_tvalue__reaches(&key, &d->h)))) {
        weir_tvalue_free(key);
        weir_tvalue_free(val);
        return WEIR_EINVALID;
    }
    unsigned dd = WEIR_MAX(depth_of(&val), depth_of(&key)) + 1;
    if (dd > d->h.depth)
        d->h.depth = (uint16_t)dd;
    uint64_t h = weir_tvalue__hash(&key);
    ssize_t i = dict_find(d, &key, h);
    if (i >= 0) {
        weir_tvalue_free(key);
        weir_tvalue_free(d->e[i].val);
        d->e[i].val = val;
        return 0;
    }
    if (d->len == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4;
        d->e = weir_xrealloc(d->e, weir_size_mul(d->cap, sizeof(ventry)));
    }
    d->e[d->len].key = key;
    d->e[d->len].val = val;
    d->e[d->len].hash = h;
    d->len++;
    if (d->len > 8 && d->len * 2 + 2 > d->icap)
        reindex(d);
    else if (d->icap) {
        size_t s = h & (d->icap - 1);
        while (d->index[s])
            s = (s + 1) & (d->icap - 1);
        d->index[s] = (uint32_t)d->len;
    }
    return 0;
}

int weir_tvalue_dict_set(weir_tvalue *dict, const char *key, weir_tvalue val)
{
    return weir_tvalue_dict_setv(dict, weir_tvalue_string(key), val);
}

int weir_tvalue_dict_del(weir_tvalue *dict, const weir_tvalue *key, weir_tvalue *out)
{
    vdict *d = VDICT(dict);
    ssize_t i = dict_find(d, key, weir_tvalue__hash(key));
    if (i < 0)
        return WEIR_ENOTFOUND;
    weir_tvalue_free(d->e[i].key);
    if (out)
        *out = d->e[i].val;
    else
        weir_tvalue_free(d->e[i].val);
    memmove(&d->e[i], &d->e[i + 1], (d->len - (size_t)i - 1) * sizeof(ventry));
    d->len--;
    if (d->icap)
        reindex(d);
    return 0;
}

const weir_tvalue *weir_tvalue_dict_key_at(const weir_tvalue *dict, size_t i)
{
    return &VDICT(dict)->e[i].key;
}

const weir_tvalue *weir_tvalue_dict_value_at(const weir_tvalue *dict, size_t i)
{
    return &VDICT(dict)->e[i].val;
}

/* --- functions -------------------------------------------------------------- */

int weir_tvalue_func_set_attr(weir_tvalue *func, const char *name, weir_tvalue val)
{
    vfunc *f = VFUNC(func);
    if (f->attrs.kind != WEIR_TVALUE_DICT)
        f->attrs = weir_tvalue_dict();
    int rc = weir_tvalue_dict_set(&f->attrs, name, val);
    f->h.depth = (uint16_t)(f->attrs.u.o->depth + 1);
    return rc;
}

const char *weir_tvalue_func_name(const weir_tvalue *v)
{
    return v->kind == WEIR_TVALUE_FUNC ? VFUNC(v)->name : "";
}

int weir_args_get(const weir_args *args, size_t pos, const char *name,
                  const weir_tvalue **out)
{
    *out = NULL;
    if (pos < args->npos) {
        *out = &args->pos[pos];
        return 1;
    }
    for (size_t i = 0; name && i < args->nkw; i++) {
        if (strcmp(args->kw_names[i], name) == 0) {
            *out = &args->kw[i];
            return 1;
        }
    }
    return 0;
}

/* --- str() and repr() ------------------------------------------------------- */

void weir_tvalue__float_repr(double f, weir_buf *out)
{
    if (isnan(f)) {
        weir_buf_adds(out, "nan");
        return;
    }
    if (isinf(f)) {
        weir_buf_adds(out, f < 0 ? "-inf" : "inf");
        return;
    }
    /* The shortest digits that read back to f, laid out as Python does:
     * positional for exponents in [-4, 16), scientific otherwise. */
    char digits[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, f);
        if (strtod(digits, NULL) == f)
            break;
    }
    char *e = strchr(digits, 'e');
    int exp10 = atoi(e + 1);
    char mant[32];
    size_t m = 0;
    int neg = digits[0] == '-';
    for (char *p = digits + neg; p < e; p++)
        if (*p != '.')
            mant[m++] = *p;
    while (m > 1 && mant[m - 1] == '0')
        m--;
    mant[m] = '\0';
    if (neg)
        weir_buf_addch(out, '-');
    if (exp10 >= 16 || exp10 < -4) {
        weir_buf_addch(out, mant[0]);
        if (m > 1) {
            weir_buf_addch(out, '.');
            weir_buf_adds(out, mant + 1);
        }
        weir_buf_addf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (exp10 < 0) {
        weir_buf_adds(out, "0.");
        weir_buf_addchars(out, '0', (size_t)(-exp10 - 1));
        weir_buf_adds(out, mant);
    } else {
        for (int i = 0; i <= exp10; i++)
            weir_buf_addch(out, (size_t)i < m ? mant[i] : '0');
        weir_buf_addch(out, '.');
        if ((size_t)exp10 + 1 < m)
            weir_buf_adds(out, mant + exp10 + 1);
        else
            weir_buf_addch(out, '0');
    }
}

static int repr_str(const char *s, size_t n, weir_buf *out)
{
    int q = '\'';
    if (memchr(s, '\'', n) && !memchr(s, '"', n))
        q = '"';
    weir_buf_addch(out, q);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\\') {
            weir_buf_addch(out, '\\');
            weir_buf_addch(out, c);
        } else if (c == '\n')
            weir_buf_adds(out, "\\n");
        else if (c == '\t')
            weir_buf_adds(out, "\\t");
        else if (c == '\r')
            weir_buf_adds(out, "\\r");
        else if (c < 0x20 || c == 0x7f)
            weir_buf_addf(out, "\\x%02x", c);
        else
            weir_buf_addch(out, c);
    }
    return weir_buf_addch(out, q);
}

static int to_buf(const weir_tvalue *v, weir_buf *out, int repr, int depth)
{
    if (out->toobig)
        return WEIR_ETOOBIG;
    switch (v->kind) {
    case WEIR_TVALUE_UNDEFINED:
        return repr ? weir_buf_adds(out, "Undefined") : 0;
    case WEIR_TVALUE_NONE:
        return weir_buf_adds(out, "None");
    case WEIR_TVALUE_BOOL:
        return weir_buf_adds(out, v->u.b ? "True" : "False");
    case WEIR_TVALUE_INT:
        return weir_buf_addf(out, "%" PRId64, v->u.i);
    case WEIR_TVALUE_FLOAT:
        weir_tvalue__float_repr(v->u.f, out);
        return out->toobig ? WEIR_ETOOBIG : 0;
    case WEIR_TVALUE_STRING:
        if (repr)
            return repr_str(VSTR(v)->data, VSTR(v)->len, out);
        return weir_buf_add(out, VSTR(v)->data, VSTR(v)->len);
    case WEIR_TVALUE_LIST: {
        int tuple = weir_tvalue_is_tuple(v);
        vlist *l = VLIST(v);
        if (depth > 64)
            return weir_buf_adds(out, "[...]");
        weir_buf_addch(out, tuple ? '(' : '[');
        for (size_t i = 0; i < l->len; i++) {
            if (i)
                weir_buf_adds(out, ", ");
            to_buf(&l->items[i], out, 1, depth + 1);
        }
        if (tuple && l->len == 1)
            weir_buf_addch(out, ',');
        return weir_buf_addch(out, tuple ? ')' : ']');
    }
    case WEIR_TVALUE_DICT: {
        vdict *d = VDICT(v);
        if (d->display)
            return weir_buf_adds(out, d->display);
        if (depth > 64)
            return weir_buf_adds(out, "{...}");
        if (weir_tvalue_is_namespace(v))
            weir_buf_adds(out, "<Namespace ");
        weir_buf_addch(out, '{');
        for (size_t i = 0; i < d->len; i++) {
            if (i)
                weir_buf_adds(out, ", ");
            to_buf(&d->e[i].key, out, 1, depth + 1);
            weir_buf_adds(out, ": ");
            to_buf(&d->e[i].val, out, 1, depth + 1);
        }
        weir_buf_addch(out, '}');
        if (weir_tvalue_is_namespace(v))
            weir_buf_addch(out, '>');
        return out->toobig ? WEIR_ETOOBIG : 0;
    }
    case WEIR_TVALUE_FUNC:
        if (VFUNC(v)->kind == FN_MACRO)
            return weir_buf_addf(out, "<Macro '%s'>", VFUNC(v)->name);
        if (VFUNC(v)->kind == FN_CALLER)
            return weir_buf_adds(out, "<Macro anonymous>");
        return weir_buf_addf(out, "<function %s>", VFUNC(v)->name);
    case WEIR_TVALUE_LOOP:
        return weir_buf_addf(out, "<LoopContext %" PRId64 "/%" PRId64 ">",
                             VLOOP(v)->index0 + 1, VLOOP(v)->length);
    }
    return 0;
}

int weir_tvalue_to_buf(const weir_tvalue *v, weir_buf *out)
{
    return to_buf(v, out, 0, 0);
}

int weir_tvalue_repr_buf(const weir_tvalue *v, weir_buf *out)
{
    return to_buf(v, out, 1, 0);
}

/* --- JSON ------------------------------------------------------------------- */

weir_tvalue weir_tvalue_from_json(const json_t *j)
{
    /* jansson itself refuses to parse JSON nested deeper than 2048; values
     * deeper than WEIR_TVALUE_MAX_DEPTH are cut off (the push refuses them) */
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        weir_tvalue d = weir_tvalue_dict();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)j, k, x)
            weir_tvalue_dict_set(&d, k, weir_tvalue_from_json(x));
        return d;
    }
    case JSON_ARRAY: {
        weir_tvalue l = weir_tvalue_list();
        size_t i;
        json_t *x;
        json_array_foreach(j, i, x)
            weir_tvalue_list_push(&l, weir_tvalue_from_json(x));
        return l;
    }
    case JSON_STRING:
        return weir_tvalue_string_n(json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return weir_tvalue_int((int64_t)json_integer_value(j));
    case JSON_REAL:
        return weir_tvalue_float(json_real_value(j));
    case JSON_TRUE:
        return weir_tvalue_bool(1);
    case JSON_FALSE:
        return weir_tvalue_bool(0);
    default:
        return weir_tvalue_none();
    }
}

json_t *weir_tvalue_to_json(const weir_tvalue *v)
{
    switch (v->kind) {
    case WEIR_TVALUE_BOOL:
        return json_boolean(v->u.b);
    case WEIR_TVALUE_INT:
        return json_integer((json_int_t)v->u.i);
    case WEIR_TVALUE_FLOAT:
        return json_real(v->u.f);
    case WEIR_TVALUE_STRING:
        return json_stringn_nocheck(VSTR(v)->data, VSTR(v)->len);
    case WEIR_TVALUE_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; i < VLIST(v)->len; i++)
            json_array_append_new(a, weir_tvalue_to_json(&VLIST(v)->items[i]));
        return a;
    }
    case WEIR_TVALUE_DICT: {
        if (VDICT(v)->display)
            return json_string(VDICT(v)->display);
        json_t *o = json_object();
        weir_buf k = WEIR_BUF_INIT;
        for (size_t i = 0; i < VDICT(v)->len; i++) {
            weir_buf_reset(&k);
            weir_tvalue_to_buf(&VDICT(v)->e[i].key, &k);
            json_object_set_new(o, k.ptr, weir_tvalue_to_json(&VDICT(v)->e[i].val));
        }
        weir_buf_release(&k);
        return o;
    }
    default:
        return json_null();
    }
}
