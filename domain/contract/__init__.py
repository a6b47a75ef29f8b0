"""Contract-side rules: registration workflow and contract code, mandatory fields, status
statements and their approval chain, the payment gate. Pure: no I/O, no clock, no database."""
