#!/bin/sh
# Every C file keeps the one layout of .clang-format (checked, never rewritten here).
. "$top_srcdir/tests/lib.sh"
command -v clang-format >/dev/null || skip_all "clang-format not found"
[ -f "$top_srcdir/.clang-format" ] || skip_all "no .clang-format in the source tree"
cd "$top_srcdir" || exit 1
files=$(find src plugins tests -name '*.[ch]' | sort)
ok "clang-format - $(echo "$files" | wc -l) C files, expect no layout differences" \
  clang-format --dry-run -Werror $files
tap_done
