"""The one composition root: every part built from Settings, every role a list of parts."""
