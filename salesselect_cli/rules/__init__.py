"""Pure rules: no I/O, no clock. Each takes `today` where time matters."""
