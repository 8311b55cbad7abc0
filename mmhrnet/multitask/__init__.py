"""One HRNet pass for pose, human parsing and person detection / instance masks."""
