"""Hostile values from issue 20 that must end in one line, never a traceback."""

from __future__ import annotations

import pytest

from kagsync.errors import NotFoundError
from kagsync.views import resolve_team
from tests.test_views import BOARD_3, sync_boards


@pytest.mark.parametrize("team", ["99999999999999999999999999", str(2**63)])
def test_team_id_wider_than_sqlite_integer_is_no_such_team(db_path, database, repository, tmp_path, cli, team):
    comp = repository.add_competition("comp", title="Comp", sync=False).competition
    sync_boards(db_path, database, comp, [BOARD_3], tmp_path)
    with pytest.raises(NotFoundError, match="no team"):
        resolve_team(database, comp, team)
    for command in ("history", "leaderboard"):
        result = cli(command, "comp", "--team", team)
        assert "Traceback" not in result.output and "OverflowError" not in result.output, result.output
        assert f"{team}" in result.stderr
    assert cli("history", "comp", "--team", "104").exit_code == 0  # a real id still works
