"""Built-in exporters, each registered as a plugin."""
