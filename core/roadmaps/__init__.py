"""Roadmaps: the content schema, loading and checking the YAML files, syncing them to the database.

``schema`` says what a roadmap file may contain, ``loader`` reads a directory of files and reports
every problem with its file and line, and ``sync`` upserts validated roadmaps into the tables by
slug so edits keep every musician's progress.
"""
