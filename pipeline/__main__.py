"""``python -m pipeline`` is the ``camps`` command."""

from pipeline.cli import main

if __name__ == "__main__":
    main()
