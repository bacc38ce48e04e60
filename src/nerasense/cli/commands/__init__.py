"""One module per verb; each defines ``register(subparsers)``."""
