"""ExampleStore adapters: copies of example images in a folder."""
