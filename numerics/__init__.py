"""Exact numerics on discrete distributions and torch critics.

This layer evaluates the objectives that ``theory`` derives (through ``theory.compile``), so
that each formula has one source of truth.  It is built by issues #3 (exact numerics) and #4
(torch critics); until then the claims that need it are reported as ``open`` by
``infonce-anchor verify``.
"""
