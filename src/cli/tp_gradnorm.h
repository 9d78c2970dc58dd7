/* The gradnorm command line, shared by the module descriptor and the host. */
#ifndef TP_GRADNORM_H
#define TP_GRADNORM_H

#include <stddef.h>

#include "tp_module.h"

/* `trainplot gradnorm stats|spikes …`: argv[0] is "gradnorm"; returns 0, 1 or 2. */
int tp_gradnorm_main(int argc, char **argv);

/* The subcommands (name, usage, help) for the module's descriptor. */
#define TP_GRADNORM_NCOMMANDS 2
extern const struct tp_command tp_gradnorm_commands[TP_GRADNORM_NCOMMANDS];

#endif
