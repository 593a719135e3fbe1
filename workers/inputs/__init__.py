"""Guards for what comes in and goes out: references, text, file paths, CSV cells, postcodes.

Each module is pure and small; importers, commands, the web and the writers all call the same
ones, so a value refused in one door is refused in every door (issue 17 §3).
"""
