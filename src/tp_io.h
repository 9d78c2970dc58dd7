/* File access shared by readers and writers: includes each unit's header (limits, jobs,
   mapping, outputs, scratch). */
#ifndef TP_IO_H
#define TP_IO_H

#include "tp_jobs.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_out.h"
#include "tp_scratch.h"

#endif
