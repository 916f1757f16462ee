/*
 * tpl_names.h: keeps the template engine's value names apart from the
 * engine's.
 *
 * src/engine/engine.h and src/template/value.h (written on separate
 * branches) both define `weir_value`, `weir_value_bool`, `weir_value_int`
 * and `weir_value_str`. Until one of them is renamed, the Makefile
 * force-includes this header into every translation unit that uses the
 * template engine (src/template, tests/template, src/transform/tpl_*.c),
 * which gives the template's symbols a `weir_tvalue` prefix at link time.
 * Such a file must not include engine.h. Delete this file and its Makefile
 * line once the names are distinct.
 */
#ifndef WEIR_TRANSFORM_TPL_NAMES_H
#define WEIR_TRANSFORM_TPL_NAMES_H

#define weir_value weir_tvalue
#define weir_value_bool weir_tvalue_bool
#define weir_value_int weir_tvalue_int
#define weir_value_str weir_tvalue_str

#endif
