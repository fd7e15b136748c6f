import pytest

from config import ConfigError, _normalise_db_url, load_config


def test_production_refuses_to_start_without_secret_key_and_database(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config("production")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config("production")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/pinwheel")
    settings = load_config("production")
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert not settings.get("DEBUG")
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/pinwheel"


def test_database_url_overrides_every_configuration(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    for name in ("development", "testing"):
        assert load_config(name)["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/elsewhere.db"


def test_development_uses_an_sqlite_file_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    uri = load_config("development")["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("pinwheel.db")


@pytest.mark.parametrize("given,expected", [
    ("postgresql://a/b", "postgresql+psycopg://a/b"),
    ("postgresql+psycopg://a/b", "postgresql+psycopg://a/b"),
    ("sqlite://", "sqlite://"),
])
def test_database_urls_use_psycopg_3(given, expected):
    assert _normalise_db_url(given) == expected


def test_shared_state_goes_to_redis_when_configured():
    from app import create_app

    app = create_app("testing", overrides={"REDIS_URL": "redis://127.0.0.1:6390/0"})
    assert app.config["CACHE_TYPE"] == "RedisCache"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6390/0"
    local = create_app("testing")
    assert local.config["CACHE_TYPE"] == "SimpleCache"
    assert local.config["RATELIMIT_STORAGE_URI"] == "memory://"
