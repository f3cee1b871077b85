"""One module per noun: parse options, call the store or a rule, render. Thin."""
