# trainplot-args.gp: the bundled scripts' shared arguments, checks and terminal choice.
#
# Loaded by posemb-heatmap.gp and gradnorm-explosions.gp after the imports. The caller
# sets, before loading:
#   TP_P       "pe" or "gn": the module that keeps the options and moves the figure
#   TP_SCRIPT  the script's name, for messages
#   TP_SPEC    its options ("@key @out ... width#=W height#=H term=dumb"; see pe_options)
#   TP_DUMB_W, TP_DUMB_H   the dumb terminal's size in characters
#   TP_FAIL    the failure helper (trainplot-fail.gp), called with the message
#   TP_ARGC, TP_ARGV[1..TP_ARGC]   the script's ARGC and ARG1..ARG9 ('load' clears them)
# and gets back TP_in, TP_key, TP_out, TP_width, TP_height, TP_term, TP_dumb (drawing in
# the terminal), TP_file (drawing into a file: the output is already set to the scratch
# path the module moves to OUT at TP_P's *_output_commit).
#
# Safety: every argument goes to the module as a value and comes back as a checked one;
# nothing here slices, sprintf's or evals user text. The ternaries below evaluate only the
# branch they choose, so only TP_P's module is called.

TP_ok = (TP_P eq "pe") ? pe_options(TP_SPEC) : gn_options(TP_SPEC)
if (TP_ok != TP_ok) { call TP_FAIL "" }
if (TP_ARGC >= 2) {
  do for [TP_i = 2:TP_ARGC] {
    TP_a = TP_ARGV[TP_i]
    TP_ok = (TP_P eq "pe") ? pe_option_arg(TP_a) : gn_option_arg(TP_a)
    if (TP_ok != TP_ok) { call TP_FAIL "" }
  }
}
TP_ok = (TP_P eq "pe") ? pe_options_done(TP_ARGC) : gn_options_done(TP_ARGC)
if (TP_ok != TP_ok) { call TP_FAIL "" }

TP_in = TP_ARGV[1]
TP_key = (TP_P eq "pe") ? pe_option("key") : gn_option("key")
TP_out = (TP_P eq "pe") ? pe_option("out") : gn_option("out")
TP_term = (TP_P eq "pe") ? pe_option("term") : gn_option("term")
TP_width = (TP_P eq "pe") ? pe_option_num("width") : gn_option_num("width")
TP_height = (TP_P eq "pe") ? pe_option_num("height") : gn_option_num("height")
# Ranges before int(): int(1e300) is gnuplot's own multi-line error.
if (TP_width < 100 || TP_width > 20000 || TP_height < 100 || TP_height > 20000) {
  TP_msg = TP_SCRIPT . ": width and height must be 100..20000 pixels"; call TP_FAIL TP_msg
}
TP_width = int(TP_width)
TP_height = int(TP_height)

# The terminal from OUT's extension; a file is drawn into the scratch directory.
TP_len = strlen(TP_out)
TP_ext = (TP_len > 4) ? TP_out[TP_len-3:TP_len] : ""
TP_dumb = (TP_out eq "-" || TP_out eq "dumb")
TP_file = (TP_out ne "" && !TP_dumb)
if (TP_dumb) {
  if (TP_term eq "sixel") { set terminal sixelgd size TP_width, TP_height truecolor } else { set terminal dumb size TP_DUMB_W, TP_DUMB_H }
} else {
  if (TP_ext eq ".png") { set terminal pngcairo size TP_width, TP_height enhanced font "sans,12" }
  if (TP_ext eq ".svg") { set terminal svg size TP_width, TP_height enhanced font "sans,12" background "white" }
  if (TP_ext eq ".pdf") { set terminal pdfcairo size TP_width/100.0, TP_height/100.0 enhanced font "sans,10" }
  if (TP_file && TP_ext ne ".png" && TP_ext ne ".svg" && TP_ext ne ".pdf") {
    TP_msg = TP_SCRIPT . ": unknown output type (use .png, .svg, .pdf, '-' or 'dumb')"; call TP_FAIL TP_msg
  }
  if (TP_file) {
    TP_draw = (TP_P eq "pe") ? pe_output(TP_out, TP_in) : gn_output(TP_out, TP_in)
    if (((TP_P eq "pe") ? pe_last_error(0) : gn_last_error(0)) ne "") { call TP_FAIL "" }
    set output TP_draw
  }
}
