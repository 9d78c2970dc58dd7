# trainplot-fail.gp: the bundled scripts' one way to fail: call it with the message, or
# with "" when a module has already printed its own line; gnuplot then exits with status 1.
# print takes the message as data, never as a format ("exit error" would: gnuplot hands
# its text to printf).
if (ARG1 ne "") { print ARG1 }
exit status 1
