"""This process on this machine: its private runtime folder, files only it can read, and dying
with its parent."""
