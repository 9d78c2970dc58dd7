/* The private scratch directory for a session's intermediate files. */
#ifndef TP_SCRATCH_H
#define TP_SCRATCH_H

/* A private directory (mode 0700, "$TMPDIR/trainplot-XXXXXX", made on first use) for a
   session's intermediate files, such as the matrix a gnuplot script plots and then
   forgets. It and everything in it is removed at exit (or when the module is unloaded),
   and outputs written inside it skip the fsync that protects user files. *out is
   "<dir>/<name>", malloc'ed; name must be a plain file name. */
int tp_scratch_path(const char *name, char **out);
/* 1 when path names a file directly inside the scratch directory. */
int tp_scratch_owns(const char *path);
/* Remove the scratch directory and its files now (the next tp_scratch_path makes a new one). */
void tp_scratch_remove(void);
/* Remove dir and the plain files in it (no recursion: an entry that is a directory stays,
   and so does dir). Errors are ignored: this is cleanup. */
void tp_remove_flat_dir(const char *dir);

#endif
