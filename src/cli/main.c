#include "core/compat.h"
int main(void) { return 0; }
