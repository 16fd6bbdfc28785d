"""The registry of the paper's claims (``registry``) and the modules that check them."""
