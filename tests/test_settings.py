"""Settings come from MEDIAHUB_* variables; a bad value stops start-up naming the variable."""

import subprocess
import sys
from pathlib import Path

import pytest

from mediahub.settings import Settings, SettingsError, markdown_table, table

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "readme_settings.py"


def test_defaults_work_with_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path("mediahub-data").absolute()
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'mediahub.db'}"
    assert settings.torrent_listen == "0.0.0.0:6881"
    assert settings.torrent_dht and settings.torrent_lsd and settings.torrent_upnp
    assert settings.tmdb_api_key is None
    assert settings.image_hosts == ("image.tmdb.org",)
    assert settings.stream_wait == 10.0 and settings.max_transcodes == 2


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "MEDIAHUB_DATA_DIR": str(tmp_path),
            "MEDIAHUB_DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/db",
            "MEDIAHUB_OWNER_TOKEN": "x" * 20,
            "MEDIAHUB_TORRENT_LISTEN": "127.0.0.1:0",
            "MEDIAHUB_TORRENT_DHT": "0",
            "MEDIAHUB_TORRENT_LSD": "off",
            "MEDIAHUB_TORRENT_UPNP": "false",
            "MEDIAHUB_TMDB_API_KEY": "key",
            "MEDIAHUB_TMDB_BASE_URL": "http://127.0.0.1:9/3/",
            "MEDIAHUB_TMDB_IMAGE_BASE_URL": "http://127.0.0.1:9/t/p",
            "MEDIAHUB_IMAGE_HOSTS": "127.0.0.1, Example.org",
            "MEDIAHUB_STREAM_WAIT": "2.5",
            "MEDIAHUB_MAX_TRANSCODES": "4",
        }
    )
    assert settings.data_dir == tmp_path
    assert settings.database_url.startswith("postgresql://")
    assert settings.owner_token == "x" * 20
    assert not (settings.torrent_dht or settings.torrent_lsd or settings.torrent_upnp)
    assert settings.tmdb_base_url == "http://127.0.0.1:9/3"
    assert settings.image_hosts == ("127.0.0.1", "example.org")
    assert settings.stream_wait == 2.5 and settings.max_transcodes == 4


@pytest.mark.parametrize(
    "name, value",
    [
        ("MEDIAHUB_TORRENT_DHT", "maybe"),
        ("MEDIAHUB_STREAM_WAIT", "-1"),
        ("MEDIAHUB_STREAM_WAIT", "soon"),
        ("MEDIAHUB_MAX_TRANSCODES", "0"),
        ("MEDIAHUB_DATABASE_URL", "mysql://localhost/db"),
        ("MEDIAHUB_TORRENT_LISTEN", "6881"),
        ("MEDIAHUB_TMDB_BASE_URL", "ftp://example.org"),
        ("MEDIAHUB_OWNER_TOKEN", "short"),
        ("MEDIAHUB_IMAGE_HOSTS", "http://evil/path"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_derived_defaults_follow_the_setting_they_come_from(tmp_path: Path) -> None:
    settings = Settings.from_env({"MEDIAHUB_DATA_DIR": str(tmp_path), "MEDIAHUB_TMDB_IMAGE_BASE_URL": "http://cdn.test:9/t/p"})
    assert settings.database_url == f"sqlite:///{tmp_path / 'mediahub.db'}"
    assert settings.image_hosts == ("cdn.test",)
    # The same rule when the Struct is made in code (tests, scripts, notebooks).
    made = Settings(data_dir=tmp_path, tmdb_image_base_url="http://cdn.test:9/t/p")
    assert (made.database_url, made.image_hosts) == (settings.database_url, settings.image_hosts)
    assert Settings(data_dir=tmp_path, image_hosts=()).image_hosts == ()  # an empty list stays empty


def test_readme_holds_exactly_the_generated_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    variables = [row.variable for row in table()]
    assert [line.split(" | ")[0].lstrip("| ") for line in markdown_table().splitlines()[2:]] == variables
    check = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr  # nothing else between the markers either


def test_the_script_rewrites_a_stale_readme_table(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    current = (ROOT / "README.md").read_text(encoding="utf-8")
    stale = current.replace(table()[-1].setting.help, "an outdated description")
    assert stale != current
    readme.write_text(stale, encoding="utf-8")
    check = subprocess.run([sys.executable, str(SCRIPT), "--check", "--readme", str(readme)], capture_output=True, text=True)
    assert check.returncode == 1 and "readme_settings.py" in check.stderr
    write = subprocess.run([sys.executable, str(SCRIPT), "--readme", str(readme)], capture_output=True, text=True)
    assert write.returncode == 0, write.stderr
    assert readme.read_text(encoding="utf-8") == current
