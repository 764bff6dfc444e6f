"""Stand-in of the web UI's `modules` package (only what the tests need)."""
