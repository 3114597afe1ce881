from hypothesis import given
from hypothesis import strategies as st

from kagsync.text import is_printable, printable


def test_escape_sequences_are_shown_escaped() -> None:
    hostile = "\x1b[31mRED\x1b]0;pwned-title\x07"
    shown = printable(hostile)
    assert shown == "\\x1b[31mRED\\x1b]0;pwned-title\\x07"
    assert "\x1b" not in shown and "\x07" not in shown


def test_c1_controls_and_bidi_overrides_are_escaped() -> None:
    assert printable("a\x9bb") == "a\\x9bb"
    assert printable("abc\u202edef") == "abc\\u202edef"
    assert not is_printable("abc\u202edef")


def test_ordinary_text_is_unchanged() -> None:
    for text in ("Data Wizards", "渡邉杏奈", "Zoë & co", "👩‍💻 team"):
        assert printable(text) == text
        assert is_printable(text)


def test_newlines_kept_only_when_asked() -> None:
    assert printable("a\nb") == "a\\x0ab"
    assert printable("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"


@given(st.text())
def test_result_never_holds_a_control_character(text: str) -> None:
    shown = printable(text)
    assert is_printable(shown)
    assert all(char not in shown for char in "\x1b\x07\x00\r\n\x9b")
