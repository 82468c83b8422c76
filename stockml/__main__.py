"""`python -m stockml` behaves exactly like the `stockml` command."""

from stockml.cli import main

if __name__ == "__main__":
    main()
