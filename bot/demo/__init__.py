"""`storywatch demo`: bundled feeds, a local server and a scripted console chat."""
