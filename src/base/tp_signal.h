/* Signals during long work: deferred interrupts for module calls, cleanup for the host. */
#ifndef TP_SIGNAL_H
#define TP_SIGNAL_H

/*
 * Inside gnuplot a module call must never be left by a signal: gnuplot's SIGINT handler
 * longjmps out of it while worker threads still run. tp_intr_enter() puts a handler on
 * SIGINT and SIGTERM that only sets a flag; long loops poll tp_intr_pending() (a relaxed
 * atomic load, cheap enough for every tile or chunk) and give up with tp_intr_check()'s
 * TP_EINTR; tp_intr_leave() puts the previous handlers back and says which signal came.
 * Calls nest; only the outermost pair touches the handlers.
 */
void tp_intr_enter(void);
/* Restore the handlers of the matching enter; returns the signal that arrived (0: none). */
int tp_intr_leave(void);
/* Nonzero once SIGINT or SIGTERM arrived since the outermost enter. */
int tp_intr_pending(void);
/* 0, or TP_EINTR recorded as "interrupted" when a signal is pending. */
int tp_intr_check(void);

/*
 * The host's way: on SIGINT, SIGTERM or SIGHUP remove every registered path (temporary
 * outputs, scratch files, then the scratch directory), then die of the signal as before,
 * so the exit status still says what happened. Everything the handler does is
 * async-signal-safe (unlink, rmdir, signal, raise).
 */
void tp_signals_cleanup_on_exit(void);
/* Register path (kept by pointer: it must live until tp_cleanup_remove) for removal by
   that handler; is_dir paths are removed with rmdir after the files. */
void tp_cleanup_add(const char *path, int is_dir);
void tp_cleanup_remove(const char *path);

#endif
