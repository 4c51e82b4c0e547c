"""Built-in readers, each registered as a plugin."""
