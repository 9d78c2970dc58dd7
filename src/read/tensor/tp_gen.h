/* Generator specs such as "sinusoidal:1026x256,padding_idx=1": tables built on the fly (tp_gen.c).
 */
#ifndef TP_GEN_H
#define TP_GEN_H

struct tp_tensor;

/* 1 when spec names a generator (it starts "sinusoidal:"), whether or not it is valid. */
int tp_gen_is_spec(const char *spec);
/* Build the table spec describes; *out is owned by the caller. */
int tp_gen_load(const char *spec, struct tp_tensor **out);

#endif
