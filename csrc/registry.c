/* registry.c: the op registry's rows (agc.h's AGC_UNARY_OPS, AGC_BINARY_OPS, AGC_REDUCE_OPS) as data.
 * agc_*_info hold each op's name, flags and fused backward, in enum order; the binding builds
 * _core.UNARY_OPS / BINARY_OPS / REDUCE_OPS and _core.op_table() from them, so no op name or ordinal
 * is typed anywhere else. The dtypes of an op are read off elementwise.c's portable kernel table
 * (every SIMD tier falls back to it), and the output dtype and cost class off the flags.
 * Pure data and lookups: no threads, nothing allocated. Tests: tests/test_registry.py. */
#include "internal.h"

#define UNARY_ROW(NAME, name, flags, fused, ...) {#name, (flags), AGC_BINARY_##fused},
#define OTHER_ROW(NAME, name, flags, ...) {#name, (flags), AGC_BINARY_NONE},

const agc_op_info agc_unary_info[AGC_NUNARY] = {AGC_UNARY_OPS(UNARY_ROW)};
const agc_op_info agc_binary_info[AGC_NBINARY] = {AGC_BINARY_OPS(OTHER_ROW)};
const agc_op_info agc_reduce_info[AGC_NREDUCE] = {AGC_REDUCE_OPS(OTHER_ROW)};

unsigned agc_unary_dtypes(int op)
{
    unsigned mask = 0;
    if (op < 0 || op >= AGC_NUNARY) return 0;
    for (int dt = 0; dt < AGC_NDTYPES; dt++)
        if (agc_unary_portable[op][dt]) mask |= 1u << dt;
    return mask;
}

unsigned agc_binary_dtypes(int op)
{
    unsigned mask = 0;
    if (op < 0 || op >= AGC_NBINARY) return 0;
    for (int dt = 0; dt < AGC_NDTYPES; dt++)
        if (agc_binary_portable[op][dt]) mask |= 1u << dt;
    return mask;
}

agc_dtype agc_unary_out_dtype(int op, agc_dtype dt)
{
    return (agc_unary_info[op].flags & AGC_OP_BOOL_OUT) ? AGC_BOOL : dt;
}

/* logical ops keep the dtype: bool -> bool, integers bitwise */
agc_dtype agc_binary_out_dtype(int op, agc_dtype dt)
{
    return (agc_binary_info[op].flags & AGC_OP_BOOL_OUT) ? AGC_BOOL : dt;
}

int agc_unary_heavy(int op, agc_dtype dt)
{
    unsigned f = agc_unary_info[op].flags;
    return (f & AGC_OP_HEAVY) || ((f & AGC_OP_HEAVY_F64) && dt == AGC_F64);
}

int agc_binary_heavy(int op, agc_dtype dt)
{
    unsigned f = agc_binary_info[op].flags;
    return (f & AGC_OP_HEAVY) || ((f & AGC_OP_HEAVY_F64) && dt == AGC_F64);
}
