/* A positional-embedding table: picking it from a file, and explaining its similarity. */
#ifndef TP_POSEMB_H
#define TP_POSEMB_H

#include <stddef.h>

#include "tp_module.h"
#include "tp_sim.h"
#include "tp_tensor.h"

struct tp_profile;

struct tp_posemb {
  struct tp_tensor *t;
  char *source;        /* the file or generator spec */
  char *key;           /* the tensor used; "" for a spec or a single-tensor file */
  int auto_key;        /* 1 when key was picked by name */
  struct tp_rows rows; /* n x d view of t (a leading 1 squeezed away) */
};

/* 1 when a tensor name looks like a positional table (embed_positions, wpe, …). */
int tp_posemb_is_candidate(const char *name);
/* 1 when a listed tensor is a candidate by name and has the shape of a table. */
int tp_posemb_table_candidate(const struct tp_tensor_info *t);
/* The one positional table in l; records TP_ENOKEY/TP_EAMBIGUOUS naming candidates. */
int tp_posemb_pick_key(const struct tp_tensor_list *l, const char *file, const char **key);
/* Load input (file or spec) with key ("" = pick); *out is owned by the caller. */
int tp_posemb_load(const char *input, const char *key, struct tp_posemb **out);
void tp_posemb_free(struct tp_posemb *pe);

/* The facts the summary sentences are made of (also the JSON summary). */
struct tp_posemb_facts {
  size_t n, d, block;
  enum tp_metric metric;
  size_t nzero, zero_rows[8]; /* all-zero rows, the first few listed */
  size_t self_max;            /* rows whose largest similarity is the diagonal */
  size_t self_rows;           /* rows with a defined diagonal */
  double near, half;          /* profile mean at offset 1 and at n/2 */
  long band, period;          /* in positions (pooled offsets times block) */
  double rise, toeplitz;
};
void tp_posemb_facts(const struct tp_posemb *pe, const struct tp_simmat *s,
                     const struct tp_profile *p, struct tp_posemb_facts *f);
/* Plain sentences about the pattern; *out is malloc'ed (caller frees). */
int tp_posemb_summary(const struct tp_posemb *pe, const struct tp_posemb_facts *f, char **out);

/* The command-line entry (argv[0] = "posemb"); returns the exit status 0, 1 or 2. */
int tp_posemb_main(int argc, char **argv);
/* The commands, for the module descriptor (defined next to the entry). */
#define TP_POSEMB_NCOMMANDS 5
extern const struct tp_command tp_posemb_commands[TP_POSEMB_NCOMMANDS];

#endif
