/* JSON helpers: the log readers' numbers (quoted or not) and missing-key errors, and the
   command lines' one printer. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "tp_error.h"
#include "tp_json.h"
#include "tp_log_int.h"
#include "tp_numparse.h"
#include "tp_series.h"

int tp__json_number(struct json_object *v, double *out) {
  const char *str, *stop;
  size_t len;
  switch (json_object_get_type(v)) {
  case json_type_double:
  case json_type_int: *out = json_object_get_double(v); return 1;
  case json_type_string: /* fairseq's json logger writes "1.421" */
    str = json_object_get_string(v);
    len = (size_t)json_object_get_string_len(v);
    *out = tp_parse_double(str, str + len, &stop);
    return stop > str && stop == str + len;
  default: return 0;
  }
}

int tp__json_key_error(const char *path, long line, const char *key, struct json_object *obj,
                       const char *what) {
  char list[512];
  size_t used = 0;
  int n = 0;
  list[0] = '\0';
  if (obj && json_object_is_type(obj, json_type_object)) {
    json_object_object_foreach(obj, k, v) {
      (void)v;
      if (used + strlen(k) + 8 < sizeof list)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", n ? ", " : "", k);
      else if (used + 6 < sizeof list) {
        used += (size_t)snprintf(list + used, sizeof list - used, ", …");
        break;
      }
      n++;
    }
  }
  return tp_err_line(TP_ENOKEY, path, line, "key '%s' not found in %s; keys there: %s", key, what,
                     n ? list : "(none)");
}

int tp_json_print(struct json_object *o) {
  const char *s = json_object_to_json_string_ext(
      o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (s)
    puts(s);
  json_object_put(o);
  return s ? 0 : tp_err(TP_ENOMEM, NULL, -1, "out of memory");
}
