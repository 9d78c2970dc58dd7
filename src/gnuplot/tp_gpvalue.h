/* Our own declaration of gnuplot's plugin value type, chosen by configure. */
#ifndef TP_GPVALUE_H
#define TP_GPVALUE_H

#include <stdint.h>

/*
 * gnuplot installs no headers, so the layout is declared here from its
 * gp_types.h.  TP_GNUPLOT_ABI is 502, 504 or 600 (config.h).  INTGR, CMPLX
 * and STRING are stable; INVALID_VALUE moved as types were added, and the
 * integer member widened from int to int64_t in 5.4.
 */
#if TP_GNUPLOT_ABI >= 600
#define TP_GP_INVALID_VALUE 12
typedef int64_t tp_gp_intgr;
#elif TP_GNUPLOT_ABI >= 504
#define TP_GP_INVALID_VALUE 8
typedef int64_t tp_gp_intgr;
#else
#define TP_GP_INVALID_VALUE 7
typedef int tp_gp_intgr;
#endif

enum DATA_TYPES { INTGR = 1, CMPLX = 2, STRING = 3, INVALID_VALUE = TP_GP_INVALID_VALUE };

struct cmplx {
  double real, imag;
};

struct value {
  enum DATA_TYPES type;
  union {
    tp_gp_intgr int_val;
    struct cmplx cmplx_val;
    char *string_val;
    void *pad_[2]; /* the largest member in 6.x is two pointers */
  } v;
};

typedef struct value (*tp_gp_fn)(int nargs, struct value *arg, void *priv);

/* Constructors for returned values. gnuplot copies a returned STRING (push() calls
   gp_strdup) and never frees the module's buffer, so tp_gp_str keeps one module-owned
   copy, freed by the next call of this module (tp_gp_call) or by tp_gp_release. */
struct value tp_gp_int(long long i);
struct value tp_gp_num(double x);
struct value tp_gp_str(const char *s);
/* tp_gp_str of s escaped (tp_text_escape): for names from files, shown in titles. */
struct value tp_gp_str_escaped(const char *module, const char *s);
/* Free the module-owned string of the last result (gnuplot_fini calls it). */
void tp_gp_release(void);
/* Print the last tp_err record to stderr, keep it for *_last_error(), return INVALID_VALUE. */
struct value tp_gp_fail(const char *module);

/*
 * Every exported gnuplot function runs its body through tp_gp_call: the previous result
 * string is freed, SIGINT/SIGTERM are deferred for the call (long loops poll them; an
 * interrupted call fails with "interrupted" and gnuplot stays usable; a SIGTERM is
 * delivered again after the call, once the scratch directory is gone), and errno is
 * given back as it was, since gnuplot treats a nonzero errno after a call as an undefined
 * result. TP_GP_EXPORT(module, name) defines name() around the body that follows it.
 */
struct value tp_gp_call(const char *module, tp_gp_fn body, int nargs, struct value *arg,
                        void *priv);
#define TP_GP_EXPORT(module, name)                                           \
  static struct value name##_body(int nargs, struct value *arg, void *priv); \
  struct value name(int nargs, struct value *arg, void *priv) {              \
    return tp_gp_call(module, name##_body, nargs, arg, priv);                \
  }                                                                          \
  static struct value name##_body(int nargs, struct value *arg, void *priv)

/* Argument accessors: 0 on success, TP_EINVAL (recorded) on a type mismatch. */
int tp_gp_arg_num(const struct value *a, int pos, double *out);
int tp_gp_arg_int(const struct value *a, int pos, long long *out);
int tp_gp_arg_str(const struct value *a, int pos, const char **out);

/* The body of pe_scratch/gn_scratch: the path of name in the session's scratch directory
   (tp_scratch_path), or the failure. Scripts test *_last_error(0) ne "" after it. */
struct value tp_gp_scratch(const char *module, int nargs, struct value *arg);

/* The message of the module's last failure, "" when the last call succeeded. */
const char *tp_gp_last_error(void);
void tp_gp_clear_error(void);

#endif
