"""System types (configuration-systems-*.rst; spec §15). `type` is `system:<kind>`."""

from __future__ import annotations

from runtime.config.catalog.base import BOOL, DICT, INT, LIST, STR, STRS, kind, p

COMMON = (
    p("_id", STR, req=True), p("type", STR, req=True), p("name", STR), p("description", STRS),
    p("comment", STRS), p("metadata", DICT), p("worker_threads", INT, 10, min=1),
    p("permissions", LIST),
)
_AUTH = ("basic", "digest", "ntlm", "tripletex", "jwt", "oauth2")
URL = (
    p("url_pattern", STR), p("base_url", STR),  # base_url is the deprecated spelling
    p("verify_ssl", BOOL, False), p("custom_ca_pem_chain", STR),
    p("username", STR), p("password", STR), p("jwt_token", STR), p("headers", DICT),
    p("authentication", STR, enum=_AUTH), p("oauth2", DICT), p("tripletex", DICT),
    p("proxies", DICT), p("connect_timeout", INT, 60), p("read_timeout", INT, 1800),
    p("ignore_invalid_content_length_response_header", BOOL, False),
    p("retry_strategy", DICT),
)
SQL = (
    p("timezone", STR, "UTC"), p("pool_size", INT, 10, min=1), p("pool_timeout", INT, 30),
    p("pool_max_overflow", INT, 10), p("pool_recycle", INT, 1800),
)
_DB = (p("username", STR, req=True), p("password", STR, req=True), p("host", STR, req=True),
       p("database", STR, req=True))


def _sys(name, *props, base=COMMON, **kw):
    return kind("system", name, *props, base=base, **kw)


SYSTEMS = {k.name: k for k in (
    # (ours) `file://` url patterns are allowed: offline csv/json sources read local files
    _sys("url", *URL, one_of=(("url_pattern", "base_url"),)),
    _sys("postgresql", *_DB, p("port", INT, 5432), p("sslmode", STR, "prefer"), base=COMMON + SQL),
    _sys("mysql", *_DB, p("port", INT, 3306), p("sslmode", STR, "preferred"), base=COMMON + SQL),
    # (ours) a local SQLite file for offline SQL sources and sinks
    _sys("sqlite", p("database", STR, req=True), base=COMMON + SQL),
    _sys("mssql", *_DB, p("port", INT, 1433), p("dialect", STR, "sql-server"),
         base=COMMON + SQL, priority="P3"),
    _sys("mssql-azure-dw", *_DB, p("port", INT, 1433), base=COMMON + SQL, priority="P3"),
    _sys("oracle", *_DB, p("port", INT, 1521), p("coerce_to_decimal", BOOL, False),
         base=COMMON + SQL, priority="P3"),
    _sys("oracle_tns", p("username", STR, req=True), p("password", STR, req=True),
         p("tns_name", STR, req=True), p("coerce_to_decimal", BOOL, False),
         base=COMMON + SQL, priority="P3"),
    _sys("microservice", p("docker.image", STR, req=True), p("docker.port", INT, req=True),
         p("docker.environment", DICT), p("docker.username", STR), p("docker.password", STR),
         p("docker.memory", INT, 128), p("docker.cpu_quota", INT, 25), p("docker.hosts", DICT),
         p("docker.skip_pull", BOOL, False), p("docker.pull_image_cron_expression", STR),
         p("use_https", BOOL, False), p("verify_ssl", BOOL, False), p("username", STR),
         p("password", STR), p("authentication", STR, enum=_AUTH),
         p("connect_timeout", INT, 60), p("read_timeout", INT, 1800),
         p("eager_load", BOOL, True), p("retry_strategy", DICT), priority="P3"),
    _sys("rest", *URL, p("operations", DICT), p("rate_limiting_retries", INT),
         p("rate_limiting_delay", INT, 1), p("json_content_types", LIST, ["application/json"]),
         p("custom_auth", DICT), priority="P2"),
    _sys("kafka", p("bootstrap_servers", STR, req=True), p("sasl_username", STR),
         p("sasl_password", STR), p("registry_url", STR), p("registry_username", STR),
         p("registry_password", STR), priority="P3"),
    _sys("ldap", p("host", STR, "localhost"), p("port", INT, 389), p("use_ssl", BOOL, False),
         p("custom_ca_pem_chain", STR), p("username", STR), p("password", STR),
         p("charset", STR, "latin-1"), p("connect_timeout", INT, 60),
         p("read_timeout", INT, 1800), priority="P3"),
    _sys("smtp", p("smtp_server", STR, "localhost"), p("smtp_port", INT, 25),
         p("smtp_username", STR), p("smtp_password", STR), p("use_tls", BOOL, False),
         p("max_per_hour", INT, 1000), priority="P3"),
    _sys("twilio", p("account", STR, req=True), p("token", STR, req=True),
         p("max_per_hour", INT, 1000), p("proxy", STR), priority="P3"),
    _sys("elasticsearch", p("hosts", LIST, ["localhost:9200"]), p("username", STR),
         p("password", STR), p("authentication", STR), priority="P3"),
    _sys("solr", p("url", STR, "http://localhost:8983/solr/"), p("timeout", INT, 30),
         priority="P3"),
)}
