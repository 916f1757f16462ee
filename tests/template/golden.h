/*
 * golden.h: the host the template tests render with, shared by the golden
 * corpus runner, the API tests and the benchmark-style tests.
 */
#ifndef WEIR_TEST_TEMPLATE_GOLDEN_H
#define WEIR_TEST_TEMPLATE_GOLDEN_H

#include "template/template.h"

/*
 * A new environment with the test host functions: ref(), source(),
 * config(**kw), var(name, default), return(v), is_incremental(),
 * raise_error(msg), relation(name) (an object like dbt's relations), and the
 * as_text filter.
 */
weir_template_env *weir_test_template_env(void);

#endif
