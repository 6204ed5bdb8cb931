"""The weekly review (issue #14 §1): what got done, what moved, what comes next."""
