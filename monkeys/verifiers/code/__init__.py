"""Code verifiers: programs run against tests inside a sandbox (`python-tests`, `stdio`)."""
