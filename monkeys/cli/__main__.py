"""`python -m monkeys.cli`: the same as the `monkeys` command."""

from monkeys.cli import main

main()
