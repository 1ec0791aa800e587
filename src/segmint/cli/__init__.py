"""The ``segmint`` command line: thin commands over :class:`segmint.Workspace`."""
