"""Document and corpus diff."""
