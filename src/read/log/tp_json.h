/* The one JSON printer the command lines share (tp_json.c). */
#ifndef TP_JSON_H
#define TP_JSON_H

struct json_object;

/* Print o on stdout, indented, ": " after keys, '/' unescaped, and a newline; takes
   ownership of o and frees it. Returns 0, or TP_ENOMEM when the text cannot be built. */
int tp_json_print(struct json_object *o);

#endif
