"""A child that prints what is not a message, as a library writing to stdout would."""

print("warning: something happened")
