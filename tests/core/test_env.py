import pytest

from parkgate.core.env import EnvError, env_bool, env_int, env_list, env_str, env_url


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("true", True),
        ("1", True),
        ("YES", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("No", False),
        ("off", False),
    ],
)
def test_env_bool_accepts_the_usual_spellings(raw: str, expected: bool) -> None:
    assert env_bool("X", environ={"X": raw}) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "yes please", "enabled"])
def test_env_bool_refuses_anything_else(raw: str) -> None:
    with pytest.raises(EnvError, match="is not a boolean"):
        env_bool("X", False, environ={"X": raw})


def test_env_bool_default_only_when_absent_or_empty() -> None:
    assert env_bool("X", True, environ={}) is True
    assert env_bool("X", True, environ={"X": ""}) is True
    with pytest.raises(EnvError, match="must be set"):
        env_bool("X", environ={})


def test_env_int_bounds_and_garbage() -> None:
    assert env_int("P", 5, environ={"P": "42"}) == 42
    with pytest.raises(EnvError, match="not an integer"):
        env_int("P", 5, environ={"P": "4x"})
    with pytest.raises(EnvError, match="above the maximum 10"):
        env_int("P", 5, maximum=10, environ={"P": "11"})
    with pytest.raises(EnvError, match="below the minimum 1"):
        env_int("P", 5, minimum=1, environ={"P": "0"})


def test_env_list_refuses_empty_items() -> None:
    assert env_list("L", environ={"L": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(EnvError, match="empty item"):
        env_list("L", environ={"L": "a,,b"})


def test_env_url_checks_scheme_and_host() -> None:
    assert (
        env_url("U", schemes=("redis",), environ={"U": "redis://127.0.0.1:6379/0"})
        == "redis://127.0.0.1:6379/0"
    )
    with pytest.raises(EnvError, match="must start with one of: redis://"):
        env_url("U", schemes=("redis",), environ={"U": "http://x"})
    with pytest.raises(EnvError, match="has no host"):
        env_url("U", schemes=("redis",), environ={"U": "redis://"})


def test_env_str_required() -> None:
    with pytest.raises(EnvError, match="SECRET must be set"):
        env_str("SECRET", environ={})
