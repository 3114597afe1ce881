"""Commands that run syncs in bulk or on a schedule: import and watch."""

from __future__ import annotations
