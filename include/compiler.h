/* compiler.h - compiler attributes the tree uses, in one place. */
#ifndef SCTPGW_COMPILER_H
#define SCTPGW_COMPILER_H

/* A parameter a callback's signature requires but this callback does not read:
 * `void *arg GW_UNUSED`. The build warns about every other unused parameter. */
#define GW_UNUSED __attribute__((unused))

#endif
