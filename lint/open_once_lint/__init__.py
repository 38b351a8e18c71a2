"""open-once-lint: finds httpx client-lifetime mistakes, the ones the Open Once pack teaches.

Pure `ast`: the checked code is parsed, never imported or run.
"""

from open_once_lint.checker import RULES, Finding, check_file, check_source

__all__ = ["RULES", "Finding", "check_file", "check_source"]
__version__ = "0.1.0"
