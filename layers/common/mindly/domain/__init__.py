"""Pure rules: no I/O, no clocks, no AWS. Modules here import only each other."""
